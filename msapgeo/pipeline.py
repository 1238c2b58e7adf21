"""End-to-end access runs: OSM extract + origins + sites → nearest-site table.

This module only chains the stages (network → places → routing) and collects every
excluded row with its reason; it computes nothing of its own.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from msapgeo import datasets, settings
from msapgeo.dem import DEM
from msapgeo.errors import InputError
from msapgeo.fileio import sha256_file
from msapgeo.graph import RoutingGraph
from msapgeo.network import BUILD_VERSION, OSMFeatures, graph_from_osm, read_features
from msapgeo.places import origins_from_communes, snap
from msapgeo.profiles import PROFILE_TABLE, apply_profile
from msapgeo.routing import nearest_site, route_default_share
from msapgeo.speeds import SpeedModel


@dataclass
class AccessResult:
    """Result of an access run.

    Attributes
    ----------
    graph
        The routing graph used.
    origins
        One row per origin with ``site_id``, ``time_min``, ``dist_km``, ``reachable``,
        ``site2_id``, ``time2_min``, ``snap_m``, ``exclusion``.
    sites
        One row per site with ``node_osmid``, ``snap_m`` and ``exclusion``.
    meta
        Run metadata (inputs, settings, timings), written into every output.
    """

    graph: RoutingGraph
    origins: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def exclusions(self) -> pd.DataFrame:
        """Every origin or site left out of the routing, with its reason."""
        return exclusions_table(origins=self.origins, sites=self.sites)

    def summary(self) -> dict[str, Any]:
        """Counts, median and maximum time (minutes), unreachable origins."""
        o = self.origins
        t = o["time_min"].dropna()
        return {
            "origins": len(o),
            "origins_routed": int(o["reachable"].sum()),
            "origins_excluded": int(o["exclusion"].notna().sum()),
            "sites": len(self.sites),
            "sites_routed": int(self.sites["exclusion"].isna().sum()),
            "median_time_min": float(t.median()) if len(t) else float("nan"),
            "max_time_min": float(t.max()) if len(t) else float("nan"),
            "unreachable": int(
                o["exclusion"].astype(str).str.startswith("no site reachable").sum()
            ),
        }


def exclusions_table(**frames: pd.DataFrame) -> pd.DataFrame:
    """Stack the excluded rows of several frames: ``kind``, ``id``, ``name``, ``reason``."""
    rows = []
    for kind, df in frames.items():
        if "exclusion" not in df.columns:
            continue
        sel = df[df["exclusion"].notna()]
        order = ("site_id", "id", "insee_com") if "site" in kind else ("insee_com", "id", "site_id")
        ids = _first_col(sel, (*order, "osm_id"))
        names = _first_col(sel, ("name", "nom"))
        rows.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "id": ids.astype(str).to_numpy(),
                    "name": names.astype(str).to_numpy(),
                    "reason": sel["exclusion"].astype(str).to_numpy(),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["kind", "id", "name", "reason"])
    return pd.concat(rows, ignore_index=True)


def _first_col(df: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    for n in names:
        if n in df.columns:
            return df[n]
    return pd.Series([str(i) for i in df.index], index=df.index)


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
            return RoutingGraph.load(path)
        except InputError as exc:
            warnings.warn(
                f"cached graph {path} is unreadable ({exc}); removed and rebuilt",
                stacklevel=3,
            )
            path.unlink(missing_ok=True)
    g = graph_from_osm(osm_path, network_type=nt, model=model, features=features, progress=progress)
    if cache:
        g.save(path)
    return g


def run_access(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    site_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> AccessResult:
    """Snap origins and sites and route every origin to its nearest site.

    Parameters
    ----------
    graph
        Routing graph.
    origins, sites
        Point GeoDataFrames; rows with an ``exclusion`` are carried, not routed.
    site_id
        Identifier column of the sites.
    meta
        Metadata to carry into outputs.
    """
    t0 = time.perf_counter()
    o = snap(graph, origins)
    s = snap(graph, sites)
    res = nearest_site(graph, o, s, site_id=site_id)
    res["profile"] = graph.meta.get("profile", "legal")
    info = {
        "profile": graph.meta.get("profile", "legal"),
        "maxspeed_tagged_share": graph.meta.get("maxspeed_tagged_share"),
        "route_default_speed_share": route_default_share(res),
        "profile_report": graph.meta.get("profile_report"),
        "graph": {k: graph.meta.get(k) for k in ("source_file", "source_sha256", "osm_timestamp")},
        "snap_tolerance_m": settings.snap_tolerance_m,
        "offnetwork_speed_kmh": settings.offnetwork_speed_kmh,
        "routing_s": round(time.perf_counter() - t0, 3),
        **(meta or {}),
    }
    return AccessResult(graph=graph, origins=res, sites=s, meta=info)


def demo_places(features: OSMFeatures) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Origins and sites of the offline test region, read from the extract itself.

    Origins are the populated ``place=*`` nodes (:data:`msapgeo.settings.
    populated_place_values`) with their ``population`` tag when present; sites are the
    town halls and post offices (nodes, and areas at a representative point).

    Returns
    -------
    (origins, sites)
        ``origins``: ``id`` (``node/<osm id>``), ``name``, ``place``, ``population``;
        ``sites``: ``site_id`` (``<amenity>/<osm type>/<osm id>``), ``name``,
        ``amenity``, ``operator``.
    """
    pl = features.places
    origins = pl[pl["place"].isin(settings.populated_place_values)].copy()
    origins.insert(0, "id", "node/" + origins["osm_id"].astype(str))
    origins = origins.drop(columns=["population_tag"]).reset_index(drop=True)
    am = features.amenities.copy()
    am.insert(0, "site_id", am["amenity"] + "/" + am["osm_type"] + "/" + am["osm_id"].astype(str))
    return origins, am.reset_index(drop=True)


def covered_by_graph(
    graph: RoutingGraph, points: gpd.GeoSeries, margin_m: float = 2_000
) -> np.ndarray:
    """Tell which points lie inside the extent of the graph (convex hull plus a margin)."""
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([graph.vx_lon, graph.vx_lat])))
    hull_m = gpd.GeoSeries([hull], crs=settings.default_crs).to_crs(settings.metric_crs)
    zone = hull_m.buffer(margin_m).iloc[0]
    pts = points.to_crs(settings.metric_crs)
    return np.asarray(pts.within(zone))


def departement_inputs(
    dep: str, *, neighbours: tuple[str, ...] | None = None, vintage: str = "2024"
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Origins (communes of the département) and sites (France services of it and its neighbours).

    Parameters
    ----------
    dep
        Département code.
    neighbours
        Départements whose sites count too (default: the départements whose polygons
        touch ``dep``'s, :func:`msapgeo.datasets.departement_neighbours`).
    vintage
        France services list vintage.

    Returns
    -------
    (origins, sites)
        Origins at town halls (``point_source`` recorded) with INSEE population 2021 and
        EPCI (COG 2026); sites with ``type_fs`` and ``format_fs``.
    """
    dep = datasets.normalise_dep(dep)
    nb = datasets.departement_neighbours(dep) if neighbours is None else neighbours
    communes = datasets.load_communes(dep)
    pop = datasets.load_population("2021")[["insee_com", "population"]]
    epci = datasets.load_population("2026")[["insee_com", "epci_siren", "epci_nom"]]
    origins = (
        origins_from_communes(communes)
        .merge(pop, on="insee_com", how="left")
        .merge(epci, on="insee_com", how="left")
    )
    fs = datasets.load_france_services(vintage)
    sites = fs[fs["insee_dep"].isin([dep, *nb])].reset_index(drop=True)
    return gpd.GeoDataFrame(origins, geometry="geometry", crs=settings.default_crs), sites


def departement_extract(
    dep: str,
    osm: str | Path | None = None,
    neighbour_osm: Sequence[str | Path] | None = None,
    *,
    buffer_km: float | None = None,
    neighbours: Sequence[str] | None = None,
) -> tuple[Path, list[str]]:
    """The extract to route a département on: its own and its neighbours', assembled.

    The département's extract (``osm`` or the catalog's) is merged with its neighbours'
    (``neighbour_osm`` or the catalog's, :func:`msapgeo.datasets.departement_neighbours`)
    and clipped to a buffer of ``buffer_km`` around the département
    (:func:`msapgeo.extracts.assemble_extracts`); the result is cached. A neighbour whose
    extract cannot be had is named in the returned notes: cross-border trips through it
    are then missing.

    Returns
    -------
    (path, notes)
    """
    from msapgeo.errors import DataNotFoundError
    from msapgeo.extracts import assemble_extracts

    dep = datasets.normalise_dep(dep)
    own = datasets.fetch(datasets.osm_source(dep), path=osm)
    notes: list[str] = []
    others: list[Path] = []
    if neighbour_osm:
        others = [Path(p) for p in neighbour_osm]
    else:
        for nb in neighbours if neighbours is not None else datasets.departement_neighbours(dep):
            try:
                others.append(datasets.fetch(datasets.osm_source(nb)))
            except (DataNotFoundError, InputError) as exc:
                notes.append(
                    f"the roads of neighbouring département {nb} are not in the graph (its "
                    f"extract could not be obtained: {str(exc).splitlines()[0]}); trips "
                    "through it and its sites are missing"
                )
    if not others:
        return own, notes
    buf = settings.assembly_buffer_km if buffer_km is None else buffer_km
    deps = datasets.load_departements()
    shape = deps.loc[deps["insee_dep"] == dep, "geometry"]
    if shape.empty:
        raise InputError(f"département {dep}: no polygon to clip its neighbours' extracts to")
    area = (
        gpd.GeoSeries(shape.values, crs=settings.default_crs)
        .to_crs(settings.metric_crs)
        .buffer(buf * 1000)
        .to_crs(settings.default_crs)
        .iloc[0]
    )
    key = hashlib.sha256(
        json.dumps([sha256_file(p) for p in [own, *others]] + [buf]).encode()
    ).hexdigest()[:16]
    out = datasets.cache_dir() / "assembled" / f"{dep}-{key}.osm.pbf"
    if not out.is_file():
        assemble_extracts([own, *others], out, polygon=area)
    notes.append(
        f"graph of département {dep} assembled with {len(others)} neighbouring extract(s), "
        f"clipped to {buf:g} km around it"
    )
    return out, notes


def demo_inputs(
    osm_path: str | Path | None = None, *, progress: bool | None = None
) -> tuple[Path, OSMFeatures]:
    """The Andorra 2025 extract (through the data layer) and its features."""
    p = Path(osm_path) if osm_path else datasets.fetch("osm_andorra_2025")
    return p, read_features(p, progress=progress)


def place_territories(places: gpd.GeoDataFrame, radius_m: float = 1_000.0) -> gpd.GeoDataFrame:
    """Disc of ``radius_m`` around each place: the territory proxy of places without polygons."""
    m = places.to_crs(settings.metric_crs)
    return gpd.GeoDataFrame(
        places.drop(columns="geometry"), geometry=m.buffer(radius_m).to_crs(settings.default_crs)
    )
