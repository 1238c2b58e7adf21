"""Drivable ways → directed graph with French speeds → :class:`RoutingGraph`.

Built-up areas (place discs, commercial landuse, street density) decide which speed
applies where (:mod:`msapgeo.speeds`); the ways come from :mod:`msapgeo.osmread`,
filtered and oriented by :mod:`msapgeo.osmfilter`. The names of those two modules are
re-exported here, so ``msapgeo.network`` stays the one entry to the network layer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from msapgeo import settings
from msapgeo.errors import OSMReadError
from msapgeo.fileio import sha256_file
from msapgeo.graph import STRING_DTYPE, RoutingGraph, haversine_m
from msapgeo.osmfilter import (
    BUILTUP_LANDUSE,
    DRIVE_FILTERS,
    EXTRA_EXCLUDED_HIGHWAY,
    KEEP_TAGS,
    OSM_SUFFIXES,
    is_drivable,
    oneway_of,
)
from msapgeo.osmread import (
    AMENITIES,
    CONTROL_NODES,
    OSMFeatures,
    RawWays,
    _check_file,
    _header_info,
    _push_run,
    features_from_lean_read,
    is_large,
    read_buildings,
    read_features,
    read_places,
    read_ways,
)
from msapgeo.speeds import (
    SOURCE_CODE,
    SpeedModel,
    separated_carriageways,
    speed_key,
    urban_hint,
    way_speeds,
)

__all__ = [
    "AMENITIES",
    "BUILD_VERSION",
    "BUILTUP_LANDUSE",
    "CONTROL_NODES",
    "DENSE_STREETS_KM_KM2",
    "DRIVE_FILTERS",
    "EXTRA_EXCLUDED_HIGHWAY",
    "KEEP_TAGS",
    "OSM_SUFFIXES",
    "PLACE_RADIUS_M",
    "OSMFeatures",
    "RawWays",
    "build_graph",
    "builtup_areas",
    "builtup_mask",
    "graph_from_osm",
    "graph_from_overpass_json",
    "graph_from_place",
    "is_drivable",
    "oneway_of",
    "read_buildings",
    "read_features",
    "read_places",
    "read_ways",
    "street_density_km_km2",
]

#: Version of the graph-building rules; part of the graph cache key, so that a cache
#: built by older rules (built-up detection, speed tables) is never reused.
BUILD_VERSION = 6

#: Radius (m) of the built-up area around a ``place=*`` node, by class: a proxy for the
#: agglomération. The classes follow the OSM wiki (Key:place: village up to about 10,000
#: inhabitants, town 10,000–100,000, city above); the radii are those of a compact French
#: settlement of that size at 20–40 dwellings per hectare. Hamlets and isolated dwellings
#: add none: a lieu-dit of a few houses rarely has the entrance signs (EB10) that make an
#: agglomération under R110-2, so the 50 km/h limit does not apply there.
PLACE_RADIUS_M: dict[str, float] = {
    "city": 2_000.0,
    "town": 1_000.0,
    "village": 400.0,
    "suburb": 600.0,
    "quarter": 300.0,
    "neighbourhood": 200.0,
}

#: ``landuse`` values taken as built-up for speeds. ``landuse=residential`` is left out:
#: in OpenStreetMap it covers scattered housing too (a mountain valley of chalets), while
#: the legal agglomération (R110-2) is where buildings stand close together between
#: entrance signs; the place discs above stand for it.
SPEED_BUILTUP_LANDUSE: tuple[str, ...] = ("commercial", "retail")


#: Radius (m) over which street density is measured: Valhalla 3.9.1,
#: ``src/mjolnir/graphenhancer.cc`` (``kDensityRadius`` = 2 km).
DENSITY_RADIUS_M = 2_000.0
#: Street density (km of road per km²) above which the practical *urban* speeds apply:
#: Valhalla takes a road as urban when its relative density ``round(0.7 × km/km²)`` is
#: above ``kMaxRuralDensity`` = 8 (``speed_assigner.h``), i.e. from 8.5 / 0.7 ≈ 12.1 km/km².
#: A village's 50 km/h agglomération is a legal context; the street grid of a town is
#: what slows traffic below the limit (junction spacing, parking, pedestrians).
DENSE_STREETS_KM_KM2 = 8.5 / 0.7
#: Cell (m) of the grid on which street lengths are summed before the disc is applied.
DENSITY_CELL_M = 250.0


def street_density_km_km2(lon: np.ndarray, lat: np.ndarray, length_m: np.ndarray) -> np.ndarray:
    """Road length per area (km/km²) within :data:`DENSITY_RADIUS_M` of each point.

    Parameters
    ----------
    lon, lat
        Segment midpoints (degrees).
    length_m
        Segment lengths (m); every physical segment counted once.

    Returns
    -------
    numpy.ndarray
        The density at each point: lengths summed on a :data:`DENSITY_CELL_M` grid in
        the metric CRS, then over a disc of :data:`DENSITY_RADIUS_M` (FFT convolution),
        divided by the disc's area. Roads beyond the extract are not seen, so the edge
        of an extract reads sparser than it is.
    """
    from pyproj import Transformer
    from scipy.signal import fftconvolve

    out = np.zeros(len(lon))
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return out
    tr = Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True)
    idx: np.ndarray | None = None if ok.all() else np.flatnonzero(ok)  # 8 bytes a point
    n_ok = len(lon) if idx is None else len(idx)
    cell = DENSITY_CELL_M
    r = int(np.ceil(DENSITY_RADIUS_M / cell))

    def cells(a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # the points of one chunk, projected and binned (temporaries bounded by _CHUNK)
        sel = np.arange(a, min(a + _CHUNK, n_ok)) if idx is None else idx[a : a + _CHUNK]
        x, y = tr.transform(lon[sel], lat[sel])
        return sel, np.asarray(x), np.asarray(y)

    x_min, y_min, x_max, y_max = np.inf, np.inf, -np.inf, -np.inf
    for a in range(0, n_ok, _CHUNK):
        _, x, y = cells(a)
        x_min, x_max = min(x_min, float(x.min())), max(x_max, float(x.max()))
        y_min, y_max = min(y_min, float(y.min())), max(y_max, float(y.max()))
    shape = (
        int(np.floor((y_max - y_min) / cell)) + 2 * r + 1,
        int(np.floor((x_max - x_min) / cell)) + 2 * r + 1,
    )

    def bins(a: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        # the grid cell (row, column) of each point of one chunk
        sel, x, y = cells(a)
        ix = np.floor((x - x_min) / cell).astype(np.int64) + r
        iy = np.floor((y - y_min) / cell).astype(np.int64) + r
        return sel, (iy, ix)

    grid = np.zeros(shape)
    for a in range(0, n_ok, _CHUNK):
        sel, at = bins(a)
        np.add.at(grid, at, length_m[sel])
    k = np.arange(-r, r + 1) * cell
    disc = (k[:, None] ** 2 + k[None, :] ** 2 <= DENSITY_RADIUS_M**2).astype(float)
    summed = fftconvolve(grid, disc, mode="same")
    del grid
    area_km2 = disc.sum() * (cell / 1000) ** 2
    for a in range(0, n_ok, _CHUNK):
        sel, at = bins(a)
        out[sel] = np.clip(summed[at], 0.0, None) / 1000 / area_km2
    return out


def builtup_areas(features: OSMFeatures) -> gpd.GeoDataFrame:
    """Built-up polygons: commercial and retail ``landuse`` and discs around the places.

    Each disc has the radius of :data:`PLACE_RADIUS_M` for the place's class. Returns an
    EPSG:4326 GeoDataFrame with ``source`` = ``landuse=…`` or ``place=…``.
    """
    parts = []
    lu = features.landuse
    lu = lu[lu["landuse"].isin(SPEED_BUILTUP_LANDUSE)] if len(lu) else lu
    if len(lu):
        parts.append(
            gpd.GeoDataFrame(
                {"source": "landuse=" + lu["landuse"].astype(str)},
                geometry=lu.geometry.values,
                crs=lu.crs,
            ).to_crs(settings.default_crs)
        )
    pl = features.places
    if len(pl):
        pl = pl[pl["place"].isin(list(PLACE_RADIUS_M))]
        if len(pl):
            radius = pl["place"].map(PLACE_RADIUS_M).to_numpy(float)
            discs = pl.to_crs(settings.metric_crs).geometry.buffer(radius, quad_segs=8)
            parts.append(
                gpd.GeoDataFrame(
                    {"source": "place=" + pl["place"].astype(str)},
                    geometry=discs.values,
                    crs=settings.metric_crs,
                ).to_crs(settings.default_crs)
            )
    if not parts:
        return gpd.GeoDataFrame({"source": []}, geometry=[], crs=settings.default_crs)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=settings.default_crs)


def builtup_mask(
    lon: np.ndarray,
    lat: np.ndarray,
    areas: gpd.GeoDataFrame | Iterable[shapely.Geometry],
    *,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """Tell which points fall inside any built-up area.

    Parameters
    ----------
    lon, lat
        Point coordinates (degrees).
    areas
        Polygons (EPSG:4326).
    where
        Boolean mask of the points to test (the others are ``False``); all by default.

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    geoms = np.asarray(
        areas.geometry.values if isinstance(areas, gpd.GeoDataFrame) else list(areas)
    )
    out = np.zeros(len(lon), bool)
    if len(geoms) == 0 or len(lon) == 0:
        return out
    tree = shapely.STRtree(geoms)
    # in chunks: a GEOS point per road vertex at once would take ~100 bytes a vertex
    for a in range(0, len(lon), _CHUNK):
        sel = np.arange(a, min(a + _CHUNK, len(lon)))
        if where is not None:
            sel = sel[where[sel]]
        pts = shapely.points(lon[sel], lat[sel])
        hit, _ = tree.query(pts, predicate="within")
        out[sel[hit]] = True
    return out


#: Points handled at once by the vectorised steps of a build whose temporaries would
#: otherwise grow with the whole extract (built-up test, street density).
_CHUNK = 250_000


def build_graph(
    raw: RawWays,
    *,
    model: SpeedModel | None = None,
    builtup_areas: gpd.GeoDataFrame | None = None,
    meta: dict[str, Any] | None = None,
) -> RoutingGraph:
    """Turn raw ways into a :class:`RoutingGraph` with French speeds.

    Parameters
    ----------
    raw
        Output of :func:`read_ways`.
    model
        Speed table (default :class:`~msapgeo.speeds.SpeedModel`).
    builtup_areas
        Polygons taken as built-up areas for segments whose way does not say, except on
        separated carriageways (:func:`msapgeo.speeds.separated_carriageways`: bypasses
        and routes express have no frontage).
    meta
        Extra metadata stored on the graph.
    """
    model = model or SpeedModel()
    vx_osmid = np.asarray(raw.osmid, dtype=np.int64)
    vx_lon = np.asarray(raw.lon, dtype=np.float64)
    vx_lat = np.asarray(raw.lat, dtype=np.float64)
    ptr = np.asarray(raw.ptr, dtype=np.int64)
    n_ways = len(raw.way_id)
    n_vx = len(vx_osmid)

    # junctions: way ends and OSM nodes used more than once
    _, inverse, counts = np.unique(vx_osmid, return_inverse=True, return_counts=True)
    junction = counts[inverse] >= 2
    del inverse, counts  # the build's temporaries are freed as soon as they are used
    junction[ptr[:-1]] = True
    junction[ptr[1:] - 1] = True

    # segments
    seg_len = np.zeros(n_vx)
    for a in range(0, n_vx - 1, _CHUNK):  # in chunks: its temporaries are 8 arrays
        b = min(a + _CHUNK, n_vx - 1)
        seg_len[a:b] = haversine_m(
            vx_lon[a:b], vx_lat[a:b], vx_lon[a + 1 : b + 1], vx_lat[a + 1 : b + 1]
        )
    last = ptr[1:] - 1
    seg_len[last] = 0.0
    vx_way = np.repeat(
        np.arange(n_ways, dtype=np.int32 if n_ways < 2**31 else np.int64), np.diff(ptr)
    )

    # per-way speeds for urban / rural segments, each direction; with the practical
    # table, built-up segments outside dense street grids take the practical rural
    # speed capped by the legal built-up limit (column "village")
    fwd = np.zeros(n_ways, bool)
    bwd = np.zeros(n_ways, bool)
    labels = []
    spd = np.zeros((n_ways, 4))
    village = np.zeros((n_ways, 2))
    src = np.zeros((n_ways, 4), np.uint8)
    hint = np.zeros(n_ways, np.int8)  # 1 urban, -1 rural, 0 unknown
    separated = np.zeros(n_ways, bool)  # no frontage: the built-up areas do not apply
    legal_model = replace(model, practical=False)
    # ways sharing the tags that decide speeds share them: computed once per combination
    # (a few hundred in a département), not once per way
    # (and whether the way is a separated carriageway: highway, junction, motorroad and
    # dual_carriageway are among those tags)
    known: dict[tuple[Any, ...], tuple[list[float], list[int], list[float], bool]] = {}
    for i, tags in enumerate(raw.tags):
        f, b, label = oneway_of(tags)
        fwd[i], bwd[i] = f, b
        labels.append(label)
        oneway = not (f and b)
        key = (speed_key(tags, model), oneway)
        row = known.get(key)
        if row is None:
            row = ([], [], [], separated_carriageways(tags, oneway))
            for direction in ("forward", "backward"):
                ds = way_speeds(tags, direction, oneway, model)
                row[0].extend((ds.urban_kmh, ds.rural_kmh))
                row[1].extend((SOURCE_CODE[ds.urban_source], SOURCE_CODE[ds.rural_source]))
                v = ds.urban_kmh
                if model.practical:
                    v = min(
                        way_speeds(tags, direction, oneway, legal_model).urban_kmh, ds.rural_kmh
                    )
                row[2].append(v)
            known[key] = row
        spd[i], src[i], village[i], separated[i] = row
        h = urban_hint(tags)
        hint[i] = 0 if h is None else (1 if h else -1)

    # segment midpoints (the built-up tests), freed once used
    mid_lon = np.empty(n_vx)
    mid_lat = np.empty(n_vx)
    mid_lon[:-1] = (vx_lon[:-1] + vx_lon[1:]) / 2
    mid_lat[:-1] = (vx_lat[:-1] + vx_lat[1:]) / 2
    mid_lon[-1], mid_lat[-1] = vx_lon[-1], vx_lat[-1]
    seg_hint = hint[vx_way]
    urban = seg_hint == 1
    unknown = seg_hint == 0
    del seg_hint
    if builtup_areas is not None and len(builtup_areas) and unknown.any():
        # a bypass or route express crossing a village's disc is not its built street
        frontage = unknown & ~separated[vx_way]
        urban |= builtup_mask(mid_lon, mid_lat, builtup_areas, where=frontage)
        del frontage
    # a dense street grid is built up too, whatever the other signals say
    dense = np.zeros(n_vx, bool)
    if builtup_areas is not None and n_vx:
        dense = street_density_km_km2(mid_lon, mid_lat, seg_len) > DENSE_STREETS_KM_KM2
        urban |= dense & unknown
    del mid_lon, mid_lat, unknown
    col_fwd = np.where(urban, 0, 1).astype(np.int8)
    seg_time_fwd = np.empty(n_vx)
    seg_time_bwd = np.empty(n_vx)
    for a in range(0, n_vx, _CHUNK):  # in chunks: the gathers below are 8 bytes a vertex
        sl = slice(a, a + _CHUNK)
        way_c, col_c = vx_way[sl], col_fwd[sl]
        kmh_fwd = spd[way_c, col_c]
        kmh_bwd = spd[way_c, col_c + 2]
        if model.practical:
            thin = urban[sl] & ~dense[sl]
            kmh_fwd = np.where(thin, village[way_c, 0], kmh_fwd)
            kmh_bwd = np.where(thin, village[way_c, 1], kmh_bwd)
        seg_time_fwd[sl] = seg_len[sl] / (kmh_fwd / 3.6)
        seg_time_bwd[sl] = seg_len[sl] / (kmh_bwd / 3.6)

    def col(name: str) -> np.ndarray:
        return np.array([t.get(name, "") for t in raw.tags], dtype=STRING_DTYPE)

    # the kept tags as JSON, the name put back: one text per distinct tag dict for the
    # unnamed ways (ways sharing their tags share one dict)
    names = raw.names if len(raw.names) == n_ways else [t.get("name", "") for t in raw.tags]
    texts: dict[int, str] = {}
    keep: list[str] = []
    for t, nm in zip(raw.tags, names, strict=True):
        if nm:
            keep.append(json.dumps({**t, "name": nm}, sort_keys=True, ensure_ascii=False))
            continue
        if id(t) not in texts:
            texts[id(t)] = json.dumps(t, sort_keys=True, ensure_ascii=False)
        keep.append(texts[id(t)])
    keep_json = np.array(keep, dtype=STRING_DTYPE)
    del keep, texts
    info = {
        "profile": "practical" if model.practical else "legal",
        "speed_model": model.to_dict(),
        "builtup_segments_share": float(urban[seg_len > 0].mean()) if n_vx else 0.0,
        "dense_streets_segments_share": float((urban & dense)[seg_len > 0].mean()) if n_vx else 0.0,
        "rejected_ways": dict(raw.rejected),
        "missing_nodes": raw.missing_nodes,
        "speed_table": "practical" if model.practical else "legal",
        "node_controls": {k: sorted(v) for k, v in raw.controls.items()},
        "turn_restrictions": raw.restrictions,
        "turn_restrictions_via_way": raw.restrictions_skipped,
        "maxspeed_tagged_share": _tagged_share(src, vx_way, col_fwd, seg_len),
        **(meta or {}),
    }
    return RoutingGraph(
        vx_osmid=vx_osmid,
        vx_lon=vx_lon,
        vx_lat=vx_lat,
        vx_junction=junction,
        seg_len_m=seg_len,
        seg_time_fwd_s=seg_time_fwd,
        seg_time_bwd_s=seg_time_bwd,
        seg_src_fwd=src[vx_way, col_fwd],
        seg_src_bwd=src[vx_way, col_fwd + 2],
        way_id=np.asarray(raw.way_id, dtype=np.int64),
        way_ptr=ptr,
        way_fwd=fwd,
        way_bwd=bwd,
        way_highway=col("highway"),
        way_name=np.array(names, dtype=STRING_DTYPE),
        way_ref=col("ref"),
        way_oneway=np.asarray(labels, dtype=STRING_DTYPE),
        way_maxspeed=col("maxspeed"),
        way_tags=keep_json,
        meta=info,
    )


def _tagged_share(
    src: np.ndarray, vx_way: np.ndarray, col: np.ndarray, seg_len: np.ndarray
) -> float:
    """Share of road length whose forward speed comes from a ``maxspeed`` tag."""
    codes = src[vx_way, col]
    tagged = np.isin(codes, [SOURCE_CODE["tagged"], SOURCE_CODE["tagged_zone"]])
    total = float(seg_len.sum())
    return float(seg_len[tagged].sum() / total) if total > 0 else 0.0


def graph_from_osm(
    path: str | Path,
    *,
    network_type: str | None = None,
    model: SpeedModel | None = None,
    builtup: bool = True,
    features: OSMFeatures | None = None,
    progress: bool | None = None,
) -> RoutingGraph:
    """Build the routing graph of a local OSM extract.

    Parameters
    ----------
    path
        OSM file (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``).
    network_type
        ``"drive"`` (default) or ``"drive_service"``.
    model
        French speed table.
    builtup
        Detect built-up areas from the extract's ``landuse`` polygons.
    features
        Already-read :func:`read_features` output, to avoid a second read.
    progress
        Show progress bars.

    Returns
    -------
    RoutingGraph
        With ``meta`` recording the file, its SHA-256, the speed model and counts.
    """
    t0 = time.perf_counter()
    p = _check_file(path)
    lean = is_large(p)
    raw = read_ways(
        p,
        network_type=network_type,
        progress=progress,
        two_pass=lean,
        landuse=builtup and lean and features is None,
    )
    areas = None
    skipped: dict[str, int] = {}
    if builtup:
        if features is not None:
            feats = features
        elif lean:  # no full read of a région- or France-size file: see read_ways
            feats = features_from_lean_read(p, raw)
        else:
            feats = read_features(p, progress=progress)
        areas = builtup_areas(feats)
        skipped = dict(feats.skipped)
    header = _header_info(p)
    g = build_graph(
        raw,
        model=model,
        builtup_areas=areas,
        meta={
            "source_file": p.name,
            "source_sha256": sha256_file(p),
            "osm_timestamp": header,
            "network_type": network_type or settings.network_type,
            "lean_read": lean,
            "builtup_skipped": skipped,
        },
    )
    g.meta["build_s"] = round(time.perf_counter() - t0, 3)
    return g


def graph_from_overpass_json(
    responses: Iterable[Mapping[str, Any]],
    *,
    model: SpeedModel | None = None,
    network_type: str | None = None,
) -> RoutingGraph:
    """Build a graph from Overpass JSON responses (as osmnx downloads them).

    Parameters
    ----------
    responses
        Overpass ``out body`` JSON responses with ``node`` and ``way`` elements.
    model
        French speed table.
    network_type
        Drivable filter re-applied to the ways.

    Returns
    -------
    RoutingGraph
    """
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[Mapping[str, Any]] = []
    for resp in responses:
        for el in resp.get("elements", []):
            if el.get("type") == "node":
                nodes[int(el["id"])] = (float(el["lon"]), float(el["lat"]))
            elif el.get("type") == "way":
                ways.append(el)
    raw = RawWays()
    nt = network_type or settings.network_type
    for w in ways:
        tags = {k: str(v) for k, v in (w.get("tags") or {}).items() if k in KEEP_TAGS}
        ok, why = is_drivable(tags, nt)
        if not ok:
            raw.rejected[why] += 1
            continue
        name = tags.pop("name", "")
        ids: list[int] = []
        lons: list[float] = []
        lats: list[float] = []
        for ref in w.get("nodes", []):
            if int(ref) in nodes:
                lon, lat = nodes[int(ref)]
                ids.append(int(ref))
                lons.append(lon)
                lats.append(lat)
            else:
                raw.missing_nodes += 1
                _push_run(raw, int(w["id"]), tags, name, ids, lons, lats)
                ids, lons, lats = [], [], []
        _push_run(raw, int(w["id"]), tags, name, ids, lons, lats)
    if not raw.way_id:
        raise OSMReadError("the Overpass responses hold no drivable road")
    return build_graph(raw, model=model, meta={"source_file": "overpass", "network_type": nt})


def graph_from_place(
    query: str, *, model: SpeedModel | None = None, network_type: str | None = None
) -> RoutingGraph:  # pragma: no cover - needs the network
    """Download a place's drivable network with osmnx and build a graph (needs the network).

    Parameters
    ----------
    query
        Place name geocoded by osmnx (``"Hautes-Alpes, France"``).
    model
        French speed table.
    network_type
        ``"drive"`` or ``"drive_service"``.

    Notes
    -----
    Uses osmnx's public ``graph_from_place`` (unsimplified, so bends are kept) and
    :meth:`RoutingGraph.from_osmnx` with msapgeo's speed model; built-up detection from
    landuse is not available online (rural defaults unless a way's tags say otherwise).
    """
    import osmnx as ox

    nt = network_type or settings.network_type
    G = ox.graph_from_place(query, network_type=nt, simplify=False, retain_all=True)
    g = RoutingGraph.from_osmnx(G, keep_travel_time=False)
    g.meta["source_file"] = f"osmnx graph_from_place({query!r})"
    return g
