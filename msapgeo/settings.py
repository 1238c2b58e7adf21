"""Global settings, in the manner of ``osmnx.settings``.

Change a value by assignment before calling the library, for example::

    import msapgeo as mg
    mg.settings.snap_tolerance_m = 2_000

Environment variables
---------------------
MSAPGEO_CACHE
    Folder of the local download cache (default: ``$XDG_CACHE_HOME/msapgeo`` or
    ``~/.cache/msapgeo``).
MSAPGEO_MIRROR
    A folder or an ``http(s)://`` base URL laid out like the catalog's relative paths
    (for example ``france_services/liste-fs-20240801.csv``). Tried after the cache and
    before the canonical URL.
"""

from __future__ import annotations

#: Coordinate reference system of inputs and outputs (WGS84 longitude/latitude).
default_crs: str = "EPSG:4326"

#: Metric CRS used for snapping and every distance measured off the network
#: (Lambert-93, valid for metropolitan France and its borders).
metric_crs: str = "EPSG:2154"

#: Maximum straight-line distance (m) between a place and the road vertex it is
#: snapped to. Farther places are flagged ``too_far_from_network`` and not routed.
snap_tolerance_m: float = 1_500.0

#: With ``snap(..., components="all")`` (scenario graphs), the smallest strongly
#: connected component (nodes) a place may snap to: smaller fragments are parking loops
#: and one-way stubs, not a valley's network.
min_component_nodes: int = 10

#: Speed (km/h) at which the off-network leg (place → snapped road vertex) is
#: counted. 15 km/h is a slow car on a private lane or a brisk walk-and-park.
offnetwork_speed_kmh: float = 15.0

#: Default speed profile: ``practical`` (practical speeds and junction delays), ``legal``
#: (the law's limits) or ``mountain`` (practical plus curvature and slope).
profile: str = "practical"

#: Drivable filter, as osmnx's ``network_type`` ("drive" or "drive_service").
network_type: str = "drive"

#: Time thresholds (minutes) used for classes and gap flags.
thresholds_min: tuple[float, ...] = (10.0, 20.0, 30.0, 45.0)

#: ``place=*`` values taken as populated places (origins of the demo).
populated_place_values: tuple[str, ...] = (
    "city",
    "town",
    "village",
    "hamlet",
    "isolated_dwelling",
    "suburb",
    "quarter",
    "neighbourhood",
)

#: Buffer (km) around a département within which its neighbours' roads are kept when
#: their extracts are assembled (:func:`msapgeo.pipeline.departement_extract`).
assembly_buffer_km: float = 30.0

#: Show tqdm progress bars on long steps.
progress: bool = True

#: Timeout (s) of one HTTP request in the data layer.
http_timeout_s: float = 60.0
