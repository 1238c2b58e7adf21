"""The routing graph of an extract with a speed profile, built once and cached.

The cache key is the extract's SHA-256, the network type, the speed table and the build
rules' version (:data:`msapgeo.network.BUILD_VERSION`): a graph built by other rules is
never reused. An unreadable cache file is removed and rebuilt with a warning. A cached
graph is saved ``prepared`` (its edges, CSR, components and snapping index with it) and
read back ``trusted``: the cache holds only files msapgeo wrote.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import geopandas as gpd

from msapgeo import datasets, settings
from msapgeo.dem import DEM
from msapgeo.errors import InputError
from msapgeo.fileio import sha256_file
from msapgeo.graph import RoutingGraph
from msapgeo.network import BUILD_VERSION, OSMFeatures, graph_from_osm
from msapgeo.profiles import PROFILE_TABLE, apply_profile
from msapgeo.speeds import SpeedModel


def graph_cache_path(osm_path: str | Path, model: SpeedModel | None, network_type: str) -> Path:
    """Cache file of the graph built from an extract with a speed model."""
    sha = sha256_file(osm_path)[:16]
    m = json.dumps(
        {"model": (model or SpeedModel()).to_dict(), "build": BUILD_VERSION}, sort_keys=True
    )
    key = hashlib.sha256(m.encode()).hexdigest()[:8]
    return datasets.cache_dir() / "graphs" / f"{sha}-{network_type}-{key}.npz"


def load_graph(
    osm_path: str | Path,
    *,
    model: SpeedModel | None = None,
    network_type: str | None = None,
    features: OSMFeatures | None = None,
    cache: bool = True,
    progress: bool | None = None,
    profile: str | None = None,
    dem: DEM | None = None,
    density: gpd.GeoDataFrame | None = None,
) -> RoutingGraph:
    """Build the graph of an extract, or load it from the cache when built before.

    Parameters
    ----------
    osm_path
        OSM extract.
    model
        Speed table.
    network_type
        ``"drive"`` or ``"drive_service"``.
    features
        Features already read from the extract (built-up areas).
    cache
        Read and write the cache (:func:`msapgeo.datasets.cache_dir` ``/graphs``).
    progress
        Progress bars.
    profile
        ``"practical"`` (default :data:`msapgeo.settings.profile`), ``"legal"`` or
        ``"mountain"`` (:func:`msapgeo.profiles.apply_profile`). The speed table follows
        the profile (:data:`msapgeo.profiles.PROFILE_TABLE`) unless ``model`` is given.
    dem
        Elevation tiles for the mountain profile's slope penalty.
    density
        Commune polygons with ``density_hab_km2``, for the ``insee`` profile.
    """
    profile = profile or settings.profile
    if profile not in PROFILE_TABLE:
        raise InputError(f"profile {profile!r}: choose one of {sorted(PROFILE_TABLE)}")
    if model is None:
        model = SpeedModel(practical=PROFILE_TABLE[profile] == "practical")
    g = _load_legal(osm_path, model, network_type, features, cache, progress)
    return apply_profile(g, profile, dem=dem, density=density)


def _load_legal(
    osm_path: str | Path,
    model: SpeedModel | None,
    network_type: str | None,
    features: OSMFeatures | None,
    cache: bool,
    progress: bool | None,
) -> RoutingGraph:
    nt = network_type or settings.network_type
    src = Path(osm_path)
    if not src.is_file():
        what = "is a folder" if src.is_dir() else "does not exist"
        raise InputError(f"{src}: the OSM extract {what}; give an .osm.pbf or .osm file")
    path = graph_cache_path(src, model, nt)
    if cache and path.is_file():
        try:
            return RoutingGraph.load(path, trusted=True)
        except InputError as exc:
            warnings.warn(
                f"cached graph {path} is unreadable ({exc}); removed and rebuilt",
                stacklevel=3,
            )
            path.unlink(missing_ok=True)
    g = graph_from_osm(osm_path, network_type=nt, model=model, features=features, progress=progress)
    if cache:
        g.save(path, prepared=True)
    return g
