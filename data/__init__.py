"""msapgeo's own small reference tables (installed as ``msapgeo.data``)."""
