"""OSM extract → drivable directed graph with French speeds → :class:`RoutingGraph`.

The reader streams the file with pyosmium (``.osm.pbf``, ``.osm``, ``.osm.gz``,
``.osm.bz2``), keeps node locations in memory and sees every way once.

Drivable filter
---------------
The same as osmnx's ``network_type="drive"`` (or ``"drive_service"``) Overpass filter,
evaluated with the same regular expressions on each way's tags: a ``highway`` tag,
``area`` not ``yes``, ``access`` not ``private``, no excluded highway class
(abandoned, bridleway, bus_guideway, construction, corridor, cycleway, elevator,
escalator, footway, no, path, pedestrian, planned, platform, proposed, raceway, razed,
rest_area, service, services, steps, track), ``motor_vehicle`` and ``motorcar`` not
``no``, and ``service`` not alley, driveway, emergency_access, parking,
parking_aisle or private. On top of it msapgeo drops the few highway values osmnx lets
through that no car may drive (:data:`EXTRA_EXCLUDED_HIGHWAY`).

One-way handling
----------------
``oneway=yes|true|1`` forward only; ``-1|reverse`` backward only; ``reversible`` and
``alternating`` are two-way (driveable each way at some time, as osmnx does), labelled
``reversible``; ``junction=roundabout|circular`` and ``highway=motorway|motorway_link``
imply one-way unless ``oneway=no``.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from tqdm.auto import tqdm

from msapgeo import settings
from msapgeo.errors import OSMReadError
from msapgeo.fileio import sha256_file
from msapgeo.graph import RoutingGraph, haversine_m
from msapgeo.speeds import SOURCE_CODE, SpeedModel, urban_hint, way_speeds

#: Way tags kept on the graph (speed model, closures, outputs).
KEEP_TAGS: tuple[str, ...] = (
    "highway",
    "name",
    "ref",
    "oneway",
    "junction",
    "area",
    "access",
    "motor_vehicle",
    "motorcar",
    "vehicle",
    "service",
    "maxspeed",
    "maxspeed:forward",
    "maxspeed:backward",
    "maxspeed:conditional",
    "maxspeed:type",
    "source:maxspeed",
    "zone:maxspeed",
    "zone:traffic",
    "lanes",
    "lanes:forward",
    "lanes:backward",
    "motorroad",
    "dual_carriageway",
    "tunnel",
    "bridge",
    "surface",
    "seasonal",
    "winter_road",
    "snowplowing",
    "access:conditional",
    "motor_vehicle:conditional",
    "motorcar:conditional",
    "vehicle:conditional",
)

_EXCLUDED_HIGHWAY = (
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
    "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|{service}"
    "services|steps|track"
)
#: osmnx's Overpass filters, as (key, negated regex) pairs: a way passes when it has a
#: ``highway`` tag and, for each pair, the key is absent or its value does not match.
DRIVE_FILTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "drive": (
        ("area", "yes"),
        ("access", "private"),
        ("highway", _EXCLUDED_HIGHWAY.format(service="service|")),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    ),
    "drive_service": (
        ("area", "yes"),
        ("access", "private"),
        ("highway", _EXCLUDED_HIGHWAY.format(service="")),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "emergency_access|parking|parking_aisle|private"),
    ),
}
#: Highway values osmnx's filter lets through that no car may drive: msapgeo drops them
#: too (``busway`` is bus-only since 2022, ``via_ferrata`` is a climbing route).
EXTRA_EXCLUDED_HIGHWAY: tuple[str, ...] = ("busway", "via_ferrata", "escape", "emergency_bay")
_COMPILED = {
    k: (
        *((key, re.compile(rx)) for key, rx in v),
        ("highway", re.compile("^(" + "|".join(EXTRA_EXCLUDED_HIGHWAY) + ")$")),
    )
    for k, v in DRIVE_FILTERS.items()
}

#: ``landuse`` values taken as built-up areas.
BUILTUP_LANDUSE: tuple[str, ...] = ("residential", "commercial", "retail")
OSM_SUFFIXES: tuple[str, ...] = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".xml")


def is_drivable(tags: Mapping[str, str], network_type: str = "drive") -> tuple[bool, str]:
    """Apply osmnx's drivable filter to one way's tags.

    Parameters
    ----------
    tags
        The way's tags.
    network_type
        ``"drive"`` or ``"drive_service"``.

    Returns
    -------
    (bool, str)
        Whether the way is kept, and the key that excluded it (``""`` when kept).
    """
    if "highway" not in tags:
        return False, "highway"
    for key, rx in _COMPILED[network_type]:
        value = tags.get(key)
        if value is not None and rx.search(value):
            return False, key
    return True, ""


def oneway_of(tags: Mapping[str, str]) -> tuple[bool, bool, str]:
    """Directions a way may be driven in.

    Returns
    -------
    (forward, backward, label)
        ``label`` is one of ``no``, ``yes``, ``-1``, ``reversible``, ``implied``.
    """
    ow = tags.get("oneway", "").strip().lower()
    if ow in ("yes", "true", "1"):
        return True, False, "yes"
    if ow in ("-1", "reverse"):
        return False, True, "-1"
    if ow in ("reversible", "alternating"):
        return True, True, "reversible"
    if ow in ("no", "false", "0"):
        return True, True, "no"
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") in (
        "motorway",
        "motorway_link",
    ):
        return True, False, "implied"
    return True, True, "no"


@dataclass
class RawWays:
    """Drivable ways as read from an extract, before the graph is built."""

    way_id: list[int] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    ptr: list[int] = field(default_factory=lambda: [0])
    osmid: list[int] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    missing_nodes: int = 0
    #: OSM ids of traffic-control nodes: ``traffic_signals``, ``stop``, ``give_way``.
    controls: dict[str, list[int]] = field(default_factory=dict)
    #: Turn restrictions for cars: ``[kind, from way, via node, to way]``.
    restrictions: list[list[Any]] = field(default_factory=list)
    #: Restrictions whose ``via`` is a way (not applied) or that are malformed.
    restrictions_skipped: int = 0


#: Version of the graph-building rules; part of the graph cache key, so that a cache
#: built by older rules (built-up detection, speed tables) is never reused.
BUILD_VERSION = 4

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
    path: str | Path, *, network_type: str | None = None, progress: bool | None = None
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
    raw = RawWays()
    fp = (
        osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    bar = tqdm(desc=f"read ways {p.name}", unit=" ways", disable=not progress, leave=False)
    try:
        for w in fp:
            if isinstance(w, osmium.osm.Node):
                kind = w.tags.get("highway")
                if kind in CONTROL_NODES:
                    raw.controls.setdefault(kind, []).append(w.id)
                continue
            bar.update()
            if not isinstance(w, osmium.osm.Way):
                continue
            tags = {k: str(w.tags[k]) for k in KEEP_TAGS if k in w.tags}
            ok, why = is_drivable(tags, network_type)
            if not ok:
                raw.rejected[why] += 1
                continue
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
                _push_run(raw, w.id, tags, run_ids, run_lon, run_lat)
                run_ids, run_lon, run_lat = [], [], []
            _push_run(raw, w.id, tags, run_ids, run_lon, run_lat)
    except RuntimeError as exc:
        raise OSMReadError(f"OSM file {p} could not be read: {exc}") from exc
    finally:
        bar.close()
    _read_restrictions(p, raw)
    if not raw.way_id:
        raise OSMReadError(
            f"OSM file {p} holds no drivable road ({network_type}); "
            f"{sum(raw.rejected.values())} highway ways were rejected"
        )
    return raw


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
    ids: list[int],
    lon: list[float],
    lat: list[float],
) -> None:
    if len(ids) < 2:
        return
    raw.way_id.append(way_id)
    raw.tags.append(tags)
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
                    places.append(
                        {
                            "osm_id": o.id,
                            "name": tags.get("name", ""),
                            "place": tags.get("place"),
                            "population_tag": tags.get("population", ""),
                            "geometry": pt,
                        }
                    )
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
    pl = _gdf(places, ["osm_id", "name", "place", "population_tag"], crs)
    pl["population"] = pd.to_numeric(
        pl["population_tag"].astype(str).str.replace(r"[\s,.]", "", regex=True), errors="coerce"
    )
    return OSMFeatures(
        places=pl,
        amenities=_gdf(amen, ["osm_type", "osm_id", "amenity", "name", "operator"], crs),
        landuse=_gdf(landuse, ["landuse"], crs),
        boundaries=_gdf(bounds, ["osm_type", "osm_id", "admin_level", "name", "ref_insee"], crs),
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
    x, y = tr.transform(lon[ok], lat[ok])
    cell = DENSITY_CELL_M
    r = int(np.ceil(DENSITY_RADIUS_M / cell))
    ix = np.floor((x - x.min()) / cell).astype(np.int64) + r
    iy = np.floor((y - y.min()) / cell).astype(np.int64) + r
    grid = np.zeros((int(iy.max()) + r + 1, int(ix.max()) + r + 1))
    np.add.at(grid, (iy, ix), length_m[ok])
    k = np.arange(-r, r + 1) * cell
    disc = (k[:, None] ** 2 + k[None, :] ** 2 <= DENSITY_RADIUS_M**2).astype(float)
    summed = fftconvolve(grid, disc, mode="same")
    area_km2 = disc.sum() * (cell / 1000) ** 2
    out[ok] = np.clip(summed[iy, ix], 0.0, None) / 1000 / area_km2
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
    lon: np.ndarray, lat: np.ndarray, areas: gpd.GeoDataFrame | Iterable[shapely.Geometry]
) -> np.ndarray:
    """Tell which points fall inside any built-up area.

    Parameters
    ----------
    lon, lat
        Point coordinates (degrees).
    areas
        Polygons (EPSG:4326).

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
    pts = shapely.points(lon, lat)
    hit, _ = tree.query(pts, predicate="within")
    out[hit] = True
    return out


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
        Polygons taken as built-up areas for segments whose way does not say.
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
    junction[ptr[:-1]] = True
    junction[ptr[1:] - 1] = True

    # segments
    seg_len = np.zeros(n_vx)
    seg_len[:-1] = haversine_m(vx_lon[:-1], vx_lat[:-1], vx_lon[1:], vx_lat[1:])
    last = ptr[1:] - 1
    seg_len[last] = 0.0
    vx_way = np.repeat(np.arange(n_ways), np.diff(ptr))

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
    legal_model = replace(model, practical=False)
    for i, tags in enumerate(raw.tags):
        f, b, label = oneway_of(tags)
        fwd[i], bwd[i] = f, b
        labels.append(label)
        oneway = not (f and b)
        for j, direction in enumerate(("forward", "backward")):
            ds = way_speeds(tags, direction, oneway, model)
            spd[i, 2 * j], spd[i, 2 * j + 1] = ds.urban_kmh, ds.rural_kmh
            src[i, 2 * j] = SOURCE_CODE[ds.urban_source]
            src[i, 2 * j + 1] = SOURCE_CODE[ds.rural_source]
            village[i, j] = ds.urban_kmh
            if model.practical:
                legal = way_speeds(tags, direction, oneway, legal_model)
                village[i, j] = min(legal.urban_kmh, ds.rural_kmh)
        h = urban_hint(tags)
        hint[i] = 0 if h is None else (1 if h else -1)

    mid_lon = np.empty(n_vx)
    mid_lat = np.empty(n_vx)
    mid_lon[:-1] = (vx_lon[:-1] + vx_lon[1:]) / 2
    mid_lat[:-1] = (vx_lat[:-1] + vx_lat[1:]) / 2
    mid_lon[-1], mid_lat[-1] = vx_lon[-1], vx_lat[-1]
    seg_hint = hint[vx_way]
    urban = seg_hint == 1
    unknown = np.flatnonzero(seg_hint == 0)
    if builtup_areas is not None and len(builtup_areas) and len(unknown):
        urban[unknown] = builtup_mask(mid_lon[unknown], mid_lat[unknown], builtup_areas)
    # a dense street grid is built up too, whatever the other signals say
    dense = np.zeros(n_vx, bool)
    if builtup_areas is not None and n_vx:
        dense = street_density_km_km2(mid_lon, mid_lat, seg_len) > DENSE_STREETS_KM_KM2
        urban[unknown] |= dense[unknown]
    col_fwd = np.where(urban, 0, 1)
    kmh_fwd = spd[vx_way, col_fwd]
    kmh_bwd = spd[vx_way, col_fwd + 2]
    if model.practical:
        thin = urban & ~dense
        kmh_fwd = np.where(thin, village[vx_way, 0], kmh_fwd)
        kmh_bwd = np.where(thin, village[vx_way, 1], kmh_bwd)
    seg_time_fwd = seg_len / (kmh_fwd / 3.6)
    seg_time_bwd = seg_len / (kmh_bwd / 3.6)

    def col(name: str) -> np.ndarray:
        return np.array([t.get(name, "") for t in raw.tags], dtype=str)

    keep_json = [json.dumps(t, sort_keys=True, ensure_ascii=False) for t in raw.tags]
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
        way_name=col("name"),
        way_ref=col("ref"),
        way_oneway=np.asarray(labels, dtype=str),
        way_maxspeed=col("maxspeed"),
        way_tags=np.asarray(keep_json, dtype=str),
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
    raw = read_ways(p, network_type=network_type, progress=progress)
    areas = None
    if builtup:
        feats = features if features is not None else read_features(p, progress=progress)
        areas = builtup_areas(feats)
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
        },
    )
    g.meta["build_s"] = round(time.perf_counter() - t0, 3)
    return g


def _header_info(p: Path) -> str:
    try:
        h = osmium.io.Reader(str(p), osmium.osm.NOTHING).header()
        return str(h.get("osmosis_replication_timestamp", "") or "")
    except RuntimeError:
        return ""


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
                _push_run(raw, int(w["id"]), tags, ids, lons, lats)
                ids, lons, lats = [], [], []
        _push_run(raw, int(w["id"]), tags, ids, lons, lats)
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
