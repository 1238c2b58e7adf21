"""Reading OSM extracts with pyosmium: drivable ways, control nodes, turn restrictions,
and the features msapgeo places on the map (places, town halls, post offices, landuse,
buildings).

The reader streams the file (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``), keeps
node locations in memory and sees every way once; the drivable filter and the one-way
rules are :mod:`msapgeo.osmfilter`'s.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from tqdm.auto import tqdm

from msapgeo import settings
from msapgeo.arrays import unique_sorted
from msapgeo.errors import OSMReadError
from msapgeo.osmfilter import (
    _COMPILED,
    BUILTUP_LANDUSE,
    KEEP_TAGS,
    OSM_SUFFIXES,
    is_drivable,
)


@dataclass
class RawWays:
    """Drivable ways as read from an extract, before the graph is built."""

    way_id: list[int] = field(default_factory=list)
    #: Kept tags but the name, one shared dict per distinct set (see ``tag_pool``).
    tags: list[dict[str, str]] = field(default_factory=list)
    #: ``name`` of each way ("" when none), apart: names make tag sets distinct, and a
    #: dict per named street would take ~0.5 KB each at national size.
    names: list[str] = field(default_factory=list)
    # vertex columns as typed arrays (8 bytes a value, not a Python object each): the
    # largest structures of a build
    ptr: MutableSequence[int] = field(default_factory=lambda: array("q", [0]))
    osmid: MutableSequence[int] = field(default_factory=lambda: array("q"))
    lon: MutableSequence[float] = field(default_factory=lambda: array("d"))
    lat: MutableSequence[float] = field(default_factory=lambda: array("d"))
    rejected: Counter[str] = field(default_factory=Counter)
    missing_nodes: int = 0
    #: OSM ids of traffic-control nodes: ``traffic_signals``, ``stop``, ``give_way``.
    controls: dict[str, list[int]] = field(default_factory=dict)
    #: Turn restrictions for cars: ``[kind, from way, via node, to way]``.
    restrictions: list[list[Any]] = field(default_factory=list)
    #: Restrictions whose ``via`` is a way (not applied) or that are malformed.
    restrictions_skipped: int = 0
    #: Built-up ``landuse`` ways read by the lean read (``landuse=True``):
    #: ``(landuse, polygon)``; multipolygon relations are counted in
    #: ``landuse_relations_skipped``, not assembled.
    landuse: list[tuple[str, Any]] = field(default_factory=list)
    landuse_relations_skipped: int = 0
    #: One dict per distinct set of kept tags, shared by the ways that have it.
    tag_pool: dict[tuple[tuple[str, str], ...], dict[str, str]] = field(default_factory=dict)


#: ``highway=*`` values of nodes that control a junction (junction delays).
CONTROL_NODES: tuple[str, ...] = ("traffic_signals", "stop", "give_way")


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise OSMReadError(f"OSM file {p} does not exist")
    if not str(p).lower().endswith(OSM_SUFFIXES):
        raise OSMReadError(
            f"OSM file {p}: unknown format; expected one of {', '.join(OSM_SUFFIXES)}"
        )
    if p.stat().st_size == 0:
        raise OSMReadError(f"OSM file {p} is empty (0 bytes)")
    return p


def read_ways(
    path: str | Path,
    *,
    network_type: str | None = None,
    progress: bool | None = None,
    two_pass: bool | None = None,
    landuse: bool = False,
) -> RawWays:
    """Stream the drivable ways of an OSM file with their node locations.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2`` file.
    network_type
        ``"drive"`` (default :data:`msapgeo.settings.network_type`) or ``"drive_service"``.
    progress
        Show a progress bar.
    two_pass
        Keep the locations of the drivable ways' nodes only, reading the file three
        times (:func:`_read_ways_lean`); by default for files of
        :data:`msapgeo.settings.lean_read_min_mb` or more.
    landuse
        With ``two_pass``, also keep the closed built-up ``landuse`` ways as polygons
        (``raw.landuse``), for built-up areas without a second read of the file.

    Returns
    -------
    RawWays
        Ways split where node locations are missing from the extract (counted in
        ``missing_nodes``); rejected ways counted by the key that excluded them.

    Raises
    ------
    OSMReadError
        Missing, empty or corrupt file, or no drivable way in it.
    """
    p = _check_file(path)
    network_type = network_type or settings.network_type
    if network_type not in _COMPILED:
        raise OSMReadError(f"network_type {network_type!r}: choose from {sorted(_COMPILED)}")
    progress = settings.progress if progress is None else progress
    if two_pass is None:
        two_pass = is_large(p)
    raw = RawWays()
    bar = tqdm(desc=f"read ways {p.name}", unit=" ways", disable=not progress, leave=False)
    try:
        if two_pass:
            _read_ways_lean(p, network_type, raw, bar, landuse=landuse)
        else:
            fp = (
                osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
                .with_locations()
                .with_filter(osmium.filter.KeyFilter("highway"))
            )
            for w in fp:
                if isinstance(w, osmium.osm.Node):
                    _take_control(raw, w)
                elif isinstance(w, osmium.osm.Way):
                    bar.update()
                    _take_way(raw, w, network_type)
    except RuntimeError as exc:
        raise OSMReadError(f"OSM file {p} could not be read: {exc}") from exc
    finally:
        bar.close()
    # controls on the drivable roads only (the lean read sees no other node)
    on_road = unique_sorted(np.asarray(raw.osmid, dtype=np.int64))
    on_road_controls = {
        k: [int(i) for i in np.asarray(v, np.int64)[np.isin(v, on_road)]]
        for k, v in raw.controls.items()
    }
    raw.controls = {k: v for k, v in on_road_controls.items() if v}
    _read_restrictions(p, raw)
    if not raw.way_id:
        raise OSMReadError(
            f"OSM file {p} holds no drivable road ({network_type}); "
            f"{sum(raw.rejected.values())} highway ways were rejected"
        )
    return raw


def is_large(path: Path) -> bool:
    """Whether an OSM file is read lean (:data:`msapgeo.settings.lean_read_min_mb` or
    more: a région or France): road nodes' locations only, built-up features from the
    same passes."""
    return path.stat().st_size >= settings.lean_read_min_mb * 1e6


def _kept_tags(w: Any) -> dict[str, str]:
    """The tags of a way that msapgeo keeps (:data:`msapgeo.osmfilter.KEEP_TAGS`)."""
    return {k: str(w.tags[k]) for k in KEEP_TAGS if k in w.tags}


def _take_control(raw: RawWays, node: Any) -> None:
    """Record a traffic-control node (``highway=traffic_signals|stop|give_way``)."""
    kind = node.tags.get("highway")
    if kind in CONTROL_NODES:
        raw.controls.setdefault(kind, []).append(node.id)


def _take_way(raw: RawWays, w: Any, network_type: str) -> None:
    """Add a way with located nodes to ``raw`` if it is drivable, split where a node's
    location is missing from the extract."""
    tags = _kept_tags(w)
    ok, why = is_drivable(tags, network_type)
    if not ok:
        raw.rejected[why] += 1
        return
    name = tags.pop("name", "")
    tags = _intern_tags(raw, tags)
    run_ids: list[int] = []
    run_lon: list[float] = []
    run_lat: list[float] = []
    for n in w.nodes:
        loc = n.location
        if loc.valid():
            run_ids.append(n.ref)
            run_lon.append(loc.lon)
            run_lat.append(loc.lat)
            continue
        raw.missing_nodes += 1
        _push_run(raw, w.id, tags, name, run_ids, run_lon, run_lat)
        run_ids, run_lon, run_lat = [], [], []
    _push_run(raw, w.id, tags, name, run_ids, run_lon, run_lat)


def _intern_tags(raw: RawWays, tags: dict[str, str]) -> dict[str, str]:
    """The one dict of ``raw`` equal to ``tags`` (ways sharing their kept tags share one
    dict instead of one each: most residential streets differ only by name)."""
    key = tuple(tags.items())
    return raw.tag_pool.setdefault(key, tags)


class _ControlHandler:
    """pyosmium handler recording the traffic-control nodes it sees."""

    def __init__(self, raw: RawWays) -> None:
        self.raw = raw

    def node(self, n: Any) -> None:
        _take_control(self.raw, n)


def _read_ways_lean(
    p: Path, network_type: str, raw: RawWays, bar: Any, *, landuse: bool = False
) -> None:
    """Read the drivable ways keeping the locations of their nodes only.

    A one-pass read keeps the location of every node of the file (16 bytes each in
    pyosmium's sparse index: about 11 GB for the ~700 million nodes of France, most of
    them buildings'). Here a first pass over the ways collects the ids of the drivable
    ways' nodes; a second, in libosmium alone, stores the locations of those nodes only
    (and hands the traffic-control nodes among them to Python); a third reads the ways
    again with their locations. Same result as the one-pass read (tested). With
    ``landuse``, the closed built-up ``landuse`` ways are located and kept as polygons in
    the same passes.
    """
    refs: MutableSequence[int] = array("q")
    keys = ("highway", "landuse") if landuse else ("highway",)
    highway = osmium.filter.KeyFilter(*keys)
    for w in osmium.FileProcessor(str(p), osmium.osm.WAY).with_filter(highway):
        if not isinstance(w, osmium.osm.Way):
            continue
        if "highway" in w.tags:
            if is_drivable(_kept_tags(w), network_type)[0]:
                refs.extend([n.ref for n in w.nodes])
        elif _builtup_landuse(w):
            refs.extend([n.ref for n in w.nodes])
    if landuse:
        for r in osmium.FileProcessor(str(p), osmium.osm.RELATION).with_filter(
            osmium.filter.KeyFilter("landuse")
        ):
            if r.tags.get("landuse") in BUILTUP_LANDUSE:
                raw.landuse_relations_skipped += 1
    ids = unique_sorted(np.asarray(refs, dtype=np.int64)) if len(refs) else np.zeros(0, np.int64)
    del refs
    store = osmium.index.create_map("sparse_mem_array")
    locations = osmium.NodeLocationsForWays(store)
    wanted = osmium.filter.IdFilter(ids)
    del ids
    node_highway = osmium.filter.KeyFilter("highway")
    controls = _ControlHandler(raw)
    with osmium.io.Reader(str(p), osmium.osm.NODE) as rd:
        osmium.apply(rd, wanted, locations, node_highway, controls)
    del wanted
    # the location handler sorts its index when it sees its first way: show it one, so
    # that lookups are right even when the file's nodes are not sorted by id
    empty_way = osmium.io.FileBuffer(b"<osm version='0.6'><way id='1' version='1'/></osm>", "osm")
    with osmium.io.Reader(empty_way, osmium.osm.WAY) as rd:
        osmium.apply(rd, locations)
    # the handlers and filters passed to the iterator must outlive it (kept in names)
    lookup = osmium.NodeLocationsForWays(store)
    lookup.ignore_errors()
    with osmium.io.Reader(str(p), osmium.osm.WAY) as rd:
        for w in osmium.OsmFileIterator(rd, lookup, highway):
            if not isinstance(w, osmium.osm.Way):
                continue
            if "highway" in w.tags:
                bar.update()
                _take_way(raw, w, network_type)
            elif _builtup_landuse(w):
                ring = [(n.location.lon, n.location.lat) for n in w.nodes if n.location.valid()]
                if len(ring) >= 4 and ring[0] == ring[-1]:
                    raw.landuse.append((str(w.tags["landuse"]), shapely.Polygon(ring)))


def _builtup_landuse(w: Any) -> bool:
    """A closed way tagged with a built-up ``landuse`` (an area on its own)."""
    return w.tags.get("landuse") in BUILTUP_LANDUSE and w.is_closed() and len(w.nodes) >= 4


#: Vehicles whose exception voids a restriction for cars (``except=*``).
_CAR_EXCEPT = {"motorcar", "motor_vehicle", "vehicle"}


def _read_restrictions(p: Path, raw: RawWays) -> None:
    """Add the extract's turn restrictions for cars (``type=restriction``) to ``raw``."""
    fp = osmium.FileProcessor(str(p), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(("type", "restriction"))
    )
    for r in fp:
        if not isinstance(r, osmium.osm.Relation):
            continue
        kind = r.tags.get("restriction:motorcar") or r.tags.get("restriction")
        if not kind or not kind.startswith(("no_", "only_")):
            continue
        if _CAR_EXCEPT & {x.strip() for x in (r.tags.get("except") or "").split(";")}:
            continue
        frm = [m.ref for m in r.members if m.role == "from" and m.type == "w"]
        to = [m.ref for m in r.members if m.role == "to" and m.type == "w"]
        via_n = [m.ref for m in r.members if m.role == "via" and m.type == "n"]
        if len(frm) == 1 and len(to) == 1 and len(via_n) == 1:
            raw.restrictions.append([kind, int(frm[0]), int(via_n[0]), int(to[0])])
        else:
            raw.restrictions_skipped += 1


def _push_run(
    raw: RawWays,
    way_id: int,
    tags: dict[str, str],
    name: str,
    ids: list[int],
    lon: list[float],
    lat: list[float],
) -> None:
    if len(ids) < 2:
        return
    raw.way_id.append(way_id)
    raw.tags.append(tags)
    raw.names.append(name)
    raw.osmid.extend(ids)
    raw.lon.extend(lon)
    raw.lat.extend(lat)
    raw.ptr.append(len(raw.osmid))


@dataclass
class OSMFeatures:
    """Points and areas of an extract used around the network.

    Attributes
    ----------
    places
        ``place=*`` nodes: ``osm_id``, ``name``, ``place``, ``population`` (from the tag,
        NaN when absent), ``geometry`` (point).
    amenities
        ``amenity=townhall|post_office`` nodes and areas at a representative point:
        ``osm_type`` (node/way/relation), ``osm_id``, ``amenity``, ``name``, ``geometry``.
    landuse
        Built-up ``landuse`` areas (polygons) with ``landuse``.
    boundaries
        ``boundary=administrative`` areas: ``osm_type``, ``osm_id``, ``admin_level``,
        ``name``, ``ref_insee``, ``geometry``.
    skipped
        Areas whose geometry could not be assembled, by kind.
    """

    places: gpd.GeoDataFrame
    amenities: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame
    skipped: Counter[str] = field(default_factory=Counter)


AMENITIES: tuple[str, ...] = ("townhall", "post_office")
_AMENITY_COLUMNS = ["osm_type", "osm_id", "amenity", "name", "operator"]
_BOUNDARY_COLUMNS = ["osm_type", "osm_id", "admin_level", "name", "ref_insee"]


def read_features(path: str | Path, *, progress: bool | None = None) -> OSMFeatures:
    """Read places, town halls, post offices, built-up landuse and boundaries.

    Parameters
    ----------
    path
        OSM file.
    progress
        Show a progress bar.

    Returns
    -------
    OSMFeatures
    """
    p = _check_file(path)
    progress = settings.progress if progress is None else progress
    wkb = osmium.geom.WKBFactory()
    places: list[dict[str, Any]] = []
    amen: list[dict[str, Any]] = []
    landuse: list[dict[str, Any]] = []
    bounds: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    fp = (
        osmium.FileProcessor(str(p))
        .with_areas(osmium.filter.KeyFilter("amenity", "landuse", "boundary"))
        .with_filter(osmium.filter.KeyFilter("place", "amenity", "landuse", "boundary"))
    )
    bar = tqdm(desc=f"read features {p.name}", unit=" obj", disable=not progress, leave=False)
    try:
        for o in fp:
            bar.update()
            tags = o.tags
            if isinstance(o, osmium.osm.Node):
                loc = o.location
                if not loc.valid():
                    continue
                pt = shapely.Point(loc.lon, loc.lat)
                if "place" in tags:
                    places.append(_place_row(o, pt))
                if tags.get("amenity") in AMENITIES:
                    amen.append(_amenity_row("node", o.id, tags, pt))
            elif isinstance(o, osmium.osm.Area):
                want_amenity = tags.get("amenity") in AMENITIES
                want_landuse = tags.get("landuse") in BUILTUP_LANDUSE
                want_boundary = tags.get("boundary") == "administrative"
                if not (want_amenity or want_landuse or want_boundary):
                    continue
                try:
                    geom = shapely.from_wkb(wkb.create_multipolygon(o))
                except RuntimeError:
                    skipped["area geometry"] += 1
                    continue
                kind = "way" if o.from_way() else "relation"
                if want_amenity:
                    amen.append(_amenity_row(kind, o.orig_id(), tags, geom.representative_point()))
                if want_landuse:
                    landuse.append({"landuse": tags.get("landuse"), "geometry": geom})
                if want_boundary:
                    bounds.append(
                        {
                            "osm_type": kind,
                            "osm_id": o.orig_id(),
                            "admin_level": tags.get("admin_level", ""),
                            "name": tags.get("name", ""),
                            "ref_insee": tags.get("ref:INSEE", ""),
                            "geometry": geom,
                        }
                    )
    except RuntimeError as exc:
        raise OSMReadError(f"OSM file {p} could not be read: {exc}") from exc
    finally:
        bar.close()
    crs = settings.default_crs
    return OSMFeatures(
        places=_places_gdf(places),
        amenities=_gdf(amen, _AMENITY_COLUMNS, crs),
        landuse=_gdf(landuse, ["landuse"], crs),
        boundaries=_gdf(bounds, _BOUNDARY_COLUMNS, crs),
        skipped=skipped,
    )


def _place_row(o: Any, pt: shapely.Point) -> dict[str, Any]:
    tags = o.tags
    return {
        "osm_id": o.id,
        "name": tags.get("name", ""),
        "place": tags.get("place"),
        "population_tag": tags.get("population", ""),
        "geometry": pt,
    }


def _places_gdf(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    pl = _gdf(rows, ["osm_id", "name", "place", "population_tag"], settings.default_crs)
    pl["population"] = pd.to_numeric(
        pl["population_tag"].astype(str).str.replace(r"[\s,.]", "", regex=True), errors="coerce"
    )
    return pl


def read_places(path: str | Path) -> gpd.GeoDataFrame:
    """The ``place=*`` nodes of an extract (the ``places`` of :func:`read_features`),
    read without keeping any other node's location."""
    p = _check_file(path)
    rows: list[dict[str, Any]] = []
    try:
        for o in osmium.FileProcessor(str(p), osmium.osm.NODE).with_filter(
            osmium.filter.KeyFilter("place")
        ):
            if isinstance(o, osmium.osm.Node) and o.location.valid():
                rows.append(_place_row(o, shapely.Point(o.location.lon, o.location.lat)))
    except RuntimeError as exc:
        raise OSMReadError(f"OSM file {p} could not be read: {exc}") from exc
    return _places_gdf(rows)


def features_from_lean_read(path: str | Path, raw: RawWays) -> OSMFeatures:
    """The features that decide built-up speeds — places and built-up ``landuse`` ways
    kept by a lean :func:`read_ways` (``landuse=True``) — without a full read: town halls,
    post offices and boundaries are left empty, landuse relations counted in ``skipped``."""
    crs = settings.default_crs
    lu = _gdf([{"landuse": k, "geometry": g} for k, g in raw.landuse], ["landuse"], crs)
    skipped: Counter[str] = Counter()
    if raw.landuse_relations_skipped:
        skipped["landuse relation (lean read)"] = raw.landuse_relations_skipped
    return OSMFeatures(
        places=read_places(path),
        amenities=_gdf([], _AMENITY_COLUMNS, crs),
        landuse=lu,
        boundaries=_gdf([], _BOUNDARY_COLUMNS, crs),
        skipped=skipped,
    )


def read_buildings(path: str | Path, *, progress: bool | None = None) -> gpd.GeoDataFrame:
    """Building footprints of an extract as points with their footprint area.

    Parameters
    ----------
    path
        OSM file.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        ``building`` (the tag's value), ``area_m2`` (footprint, measured in
        :data:`msapgeo.settings.metric_crs`) and the footprint's representative point as
        geometry (EPSG:4326); empty when the extract maps no building.
    """
    p = _check_file(path)
    progress = settings.progress if progress is None else progress
    wkb = osmium.geom.WKBFactory()
    geoms: list[Any] = []
    kinds: list[str] = []
    fp = osmium.FileProcessor(str(p)).with_areas(osmium.filter.KeyFilter("building"))
    fp = fp.with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
    bar = tqdm(desc=f"read buildings {p.name}", unit=" bldg", disable=not progress, leave=False)
    try:
        for o in fp:
            if not isinstance(o, osmium.osm.Area) or "building" not in o.tags:
                continue
            try:
                geoms.append(wkb.create_multipolygon(o))
            except RuntimeError:
                continue
            kinds.append(str(o.tags.get("building")))
            bar.update()
    except RuntimeError as exc:
        raise OSMReadError(f"OSM file {p} could not be read: {exc}") from exc
    finally:
        bar.close()
    if not geoms:
        return gpd.GeoDataFrame(
            {"building": [], "area_m2": []}, geometry=[], crs=settings.default_crs
        )
    poly = gpd.GeoSeries(shapely.from_wkb(geoms), crs=settings.default_crs)
    metric = poly.to_crs(settings.metric_crs)
    return gpd.GeoDataFrame(
        {"building": kinds, "area_m2": metric.area.to_numpy()},
        geometry=metric.representative_point().to_crs(settings.default_crs).values,
        crs=settings.default_crs,
    )


def _amenity_row(kind: str, osm_id: int, tags: Any, geom: shapely.Geometry) -> dict[str, Any]:
    return {
        "osm_type": kind,
        "osm_id": osm_id,
        "amenity": tags.get("amenity"),
        "name": tags.get("name", ""),
        "operator": tags.get("operator", ""),
        "geometry": geom,
    }


def _gdf(rows: list[dict[str, Any]], columns: list[str], crs: str) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)


def _header_info(p: Path) -> str:
    try:
        h = osmium.io.Reader(str(p), osmium.osm.NOTHING).header()
        return str(h.get("osmosis_replication_timestamp", "") or "")
    except RuntimeError:
        return ""
