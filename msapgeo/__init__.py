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

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names are imported on first use (PEP 562), so that ``import msapgeo`` and the command
# line start fast and an interrupt during start-up is handled by the command.
_LAZY: dict[str, str] = {
    "datasets": "msapgeo.datasets",
    "settings": "msapgeo.settings",
    "fetch": "msapgeo.datasets",
    "load_communes": "msapgeo.datasets",
    "load_density_grid": "msapgeo.datasets",
    "load_france_services": "msapgeo.datasets",
    "load_population": "msapgeo.datasets",
    "ChecksumError": "msapgeo.errors",
    "DataNotFoundError": "msapgeo.errors",
    "InputError": "msapgeo.errors",
    "MsapgeoError": "msapgeo.errors",
    "OSMReadError": "msapgeo.errors",
    "RoutingGraph": "msapgeo.graph",
    "graph_from_osm": "msapgeo.network",
    "read_features": "msapgeo.network",
    "AccessResult": "msapgeo.pipeline",
    "demo_places": "msapgeo.pipeline",
    "departement_inputs": "msapgeo.pipeline",
    "load_graph": "msapgeo.pipeline",
    "run_access": "msapgeo.pipeline",
    "origins_from_communes": "msapgeo.places",
    "read_points": "msapgeo.places",
    "snap": "msapgeo.places",
    "ensure_snapped": "msapgeo.places",
    "ODMatrix": "msapgeo.routing",
    "ODPairs": "msapgeo.routing",
    "od_pairs": "msapgeo.routing",
    "nearest_site": "msapgeo.routing",
    "node_times": "msapgeo.routing",
    "od_matrix": "msapgeo.routing",
    "SpeedModel": "msapgeo.speeds",
    "parse_maxspeed": "msapgeo.speeds",
    # territories and inputs
    "Region": "msapgeo.regions",
    "load_region": "msapgeo.regions",
    "load_mountain_zone": "msapgeo.datasets",
    "load_zonages": "msapgeo.datasets",
    "departement_neighbours": "msapgeo.datasets",
    "departement_extract": "msapgeo.pipeline",
    "assemble_extracts": "msapgeo.extracts",
    "read_buildings": "msapgeo.network",
    "check_town_halls": "msapgeo.places",
    "population_points": "msapgeo.population",
    "load_filosofi": "msapgeo.population",
    "people_indicators": "msapgeo.population",
    # speeds
    "apply_profile": "msapgeo.profiles",
    "DEM": "msapgeo.dem",
    "estimate_mountain": "msapgeo.dem",
    # diagnostic, planning, scenarios
    "run_diagnostic": "msapgeo.diagnostic",
    "add_people": "msapgeo.diagnostic",
    "evaluate": "msapgeo.planning",
    "evaluate_plans": "msapgeo.planning",
    "Comparison": "msapgeo.comparison",
    "Evaluation": "msapgeo.planning",
    "Optimisation": "msapgeo.planning",
    "sites_from_communes": "msapgeo.planning",
    "sites_from_points": "msapgeo.planning",
    "candidate_matrix": "msapgeo.planning",
    "maximal_covering": "msapgeo.planning",
    "p_median": "msapgeo.planning",
    "set_covering": "msapgeo.planning",
    "optimise": "msapgeo.planning",
    "close_roads": "msapgeo.scenarios",
    "winter_closures": "msapgeo.scenarios",
    "compare": "msapgeo.scenarios",
    # outputs
    "access_map": "msapgeo.maps",
    "diagnostic_map": "msapgeo.maps",
    "before_after_map": "msapgeo.maps",
    "save_offline": "msapgeo.maps",
    "write_access": "msapgeo.report",
    "write_diagnostic": "msapgeo.report",
    "write_csv": "msapgeo.report",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'msapgeo' has no attribute {name!r}")
    mod = import_module(module)
    value = mod if module.rsplit(".", 1)[-1] == name else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


if TYPE_CHECKING:  # pragma: no cover
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
    from msapgeo.routing import ODMatrix, ODPairs, nearest_site, node_times, od_matrix, od_pairs
    from msapgeo.speeds import SpeedModel, parse_maxspeed


__all__ = [
    "DEM",
    "AccessResult",
    "ChecksumError",
    "Comparison",
    "DataNotFoundError",
    "Evaluation",
    "InputError",
    "MsapgeoError",
    "ODMatrix",
    "ODPairs",
    "OSMReadError",
    "Optimisation",
    "Region",
    "RoutingGraph",
    "SpeedModel",
    "__version__",
    "access_map",
    "add_people",
    "apply_profile",
    "assemble_extracts",
    "before_after_map",
    "candidate_matrix",
    "check_town_halls",
    "close_roads",
    "compare",
    "datasets",
    "demo_places",
    "departement_extract",
    "departement_inputs",
    "departement_neighbours",
    "diagnostic_map",
    "ensure_snapped",
    "estimate_mountain",
    "evaluate",
    "evaluate_plans",
    "fetch",
    "graph_from_osm",
    "load_communes",
    "load_density_grid",
    "load_filosofi",
    "load_france_services",
    "load_graph",
    "load_mountain_zone",
    "load_population",
    "load_region",
    "load_zonages",
    "maximal_covering",
    "nearest_site",
    "node_times",
    "od_matrix",
    "od_pairs",
    "optimise",
    "origins_from_communes",
    "p_median",
    "parse_maxspeed",
    "people_indicators",
    "population_points",
    "read_buildings",
    "read_features",
    "read_points",
    "run_access",
    "run_diagnostic",
    "save_offline",
    "set_covering",
    "settings",
    "sites_from_communes",
    "sites_from_points",
    "snap",
    "winter_closures",
    "write_access",
    "write_csv",
    "write_diagnostic",
]
