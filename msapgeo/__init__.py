"""msapgeo: road access from French communes to Maisons de services au public / France services.

Data flows one way: sources (:mod:`~msapgeo.datasets`) → network
(:mod:`~msapgeo.network`, :mod:`~msapgeo.graph`, :mod:`~msapgeo.speeds`) → places
(:mod:`~msapgeo.places`) → routing (:mod:`~msapgeo.routing`) → runs
(:mod:`~msapgeo.pipeline`) → outputs (:mod:`~msapgeo.report`, :mod:`~msapgeo.maps`,
:mod:`~msapgeo.cli`).

Examples
--------
>>> import msapgeo as mg                                   # doctest: +SKIP
>>> g = mg.graph_from_osm("hautes-alpes.osm.pbf")          # doctest: +SKIP
>>> origins, sites = mg.departement_inputs("05")           # doctest: +SKIP
>>> res = mg.nearest_site(g, origins, sites)               # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from msapgeo import datasets, settings
from msapgeo.datasets import (
    fetch,
    load_communes,
    load_density_grid,
    load_france_services,
    load_population,
)
from msapgeo.errors import (
    ChecksumError,
    DataNotFoundError,
    InputError,
    MsapgeoError,
    OSMReadError,
)
from msapgeo.graph import RoutingGraph
from msapgeo.network import graph_from_osm, read_features
from msapgeo.pipeline import (
    AccessResult,
    demo_places,
    departement_inputs,
    load_graph,
    run_access,
)
from msapgeo.places import origins_from_communes, read_points, snap
from msapgeo.routing import ODMatrix, nearest_site, node_times, od_matrix
from msapgeo.speeds import SpeedModel, parse_maxspeed

__all__ = [
    "AccessResult",
    "ChecksumError",
    "DataNotFoundError",
    "InputError",
    "MsapgeoError",
    "ODMatrix",
    "OSMReadError",
    "RoutingGraph",
    "SpeedModel",
    "__version__",
    "datasets",
    "demo_places",
    "departement_inputs",
    "fetch",
    "graph_from_osm",
    "load_communes",
    "load_density_grid",
    "load_france_services",
    "load_graph",
    "load_population",
    "nearest_site",
    "node_times",
    "od_matrix",
    "origins_from_communes",
    "parse_maxspeed",
    "read_features",
    "read_points",
    "run_access",
    "settings",
    "snap",
]
