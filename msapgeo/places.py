"""Communes and sites → points → snapped road vertices, with the off-network leg measured.

Snapping uses a KD-tree of the road vertices (every OSM node of every drivable way,
not only junctions, so a hamlet beside a long road without junction snaps to the road
beside it) restricted to the largest strongly connected component, in the metric CRS
:data:`msapgeo.settings.metric_crs`. The straight-line distance to the vertex is kept
as ``snap_m`` and counted at :data:`msapgeo.settings.offnetwork_speed_kmh` in
``snap_time_s``. A point farther than :data:`msapgeo.settings.snap_tolerance_m` is not
snapped: its ``exclusion`` says why. The KD-tree is the graph's own
(:meth:`msapgeo.graph.RoutingGraph.vertex_index`): built once per graph, kept by a graph
whose speeds change, and saved with a graph saved ``prepared`` (the graph cache).
"""

from __future__ import annotations

import csv
import weakref
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo import settings
from msapgeo.arrays import unique_sorted
from msapgeo.errors import InputError
from msapgeo.fr import fr_number
from msapgeo.graph import RoutingGraph
from msapgeo.i18n import t as t_
from msapgeo.vertexindex import to_metric

LON_NAMES = ("lon", "longitude", "lng", "x", "long")
LAT_NAMES = ("lat", "latitude", "y")

#: Reasons of the exclusion column, in French (they are printed in every output).
NO_COORDINATES = "pas de coordonnées"
TOO_FAR = "trop loin du réseau routier"
OUTSIDE_CRS = "coordonnées hors de l'emprise du système métrique"
NO_NETWORK = "le graphe n'a pas de réseau routier fortement connexe"


def _exclusion_column(gdf: pd.DataFrame) -> np.ndarray:
    """Exclusion reasons as an object array (``None`` where the row is usable)."""
    if "exclusion" not in gdf.columns:
        return np.full(len(gdf), None, dtype=object)
    col = gdf["exclusion"].astype(object)
    return np.asarray([None if pd.isna(v) else str(v) for v in col], dtype=object)


def _as_string(values: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype="string")


def origins_from_communes(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One origin point per commune: its town hall, else its polygon's representative point.

    Parameters
    ----------
    communes
        Output of :func:`msapgeo.datasets.load_communes` (``mairie_lon``, ``mairie_lat``,
        polygon geometry).

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows and columns, point geometry, ``point_source`` = ``"mairie"`` or
        ``"representative_point"``, and the polygon kept in ``commune_geometry``.
    """
    out = communes.copy()
    has = out["mairie_lon"].notna() & out["mairie_lat"].notna()
    rep = communes.geometry.representative_point()
    mairie = gpd.points_from_xy(out["mairie_lon"].fillna(0), out["mairie_lat"].fillna(0))
    pts = np.where(has.to_numpy(), np.asarray(mairie), np.asarray(rep.values))
    out["point_source"] = np.where(has, "mairie", "representative_point")
    out["commune_geometry"] = communes.geometry.to_wkt()
    return gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=list(pts), crs=communes.crs)


#: Order in which ``place=*`` nodes stand in for a commune's town hall.
PLACE_RANK: dict[str, int] = {"city": 0, "town": 1, "village": 2, "suburb": 3, "hamlet": 4}


def check_town_halls(
    origins: gpd.GeoDataFrame,
    townhalls: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Check that each commune's origin point lies in the commune; replace it when not.

    A point outside its commune's polygon (``commune_geometry``) is replaced, in this
    order, by an ``amenity=townhall`` of the extract inside the polygon (a main town hall
    rather than an annex), the main ``place=*`` node inside it (:data:`PLACE_RANK`), or the
    polygon's representative point. Nothing is dropped.

    Parameters
    ----------
    origins
        Output of :func:`origins_from_communes`.
    townhalls, places
        The extract's town halls and ``place=*`` nodes (:func:`msapgeo.network.read_features`).

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows; ``point_source`` updated and ``point_note`` saying what was found and
        what replaced it (empty when the point was fine).
    """
    out = origins.copy()
    polys = gpd.GeoSeries.from_wkt(out["commune_geometry"], crs=out.crs)
    notes = np.full(len(out), "", dtype=object)
    metric = polys.to_crs(settings.metric_crs)
    pts_m = out.geometry.to_crs(settings.metric_crs)
    inside = np.asarray(pts_m.within(metric.buffer(1.0)))
    for i in np.flatnonzero(~inside & out.geometry.notna().to_numpy()):
        poly = polys.iloc[i]
        dist = float(pts_m.iloc[i].distance(metric.iloc[i]))
        code = out["insee_com"].iloc[i] if "insee_com" in out.columns else str(i)
        found = f"le point de la mairie est à {dist:,.0f} m hors de la commune {code}".replace(
            ",", "\u202f"
        )
        new, how = _replacement(poly, townhalls, places, out.geometry.iloc[i])
        out.iloc[i, out.columns.get_loc(out.geometry.name)] = new
        out.iloc[i, out.columns.get_loc("point_source")] = how
        notes[i] = f"{found} ; remplacé par {how}"
    out["point_note"] = notes
    return out


def _replacement(
    poly: object,
    townhalls: gpd.GeoDataFrame | None,
    places: gpd.GeoDataFrame | None,
    old: object,
) -> tuple[object, str]:
    import shapely

    if townhalls is not None and len(townhalls):
        th = townhalls[townhalls.geometry.within(poly)]
        if len(th):
            name = th.get("name", pd.Series("", index=th.index)).fillna("").astype(str)
            main = ~name.str.lower().str.contains("annexe|maison de village|antenne")
            pick = th[main] if main.any() else th
            j = int(np.argmin([shapely.distance(g, old) for g in pick.geometry]))
            return pick.geometry.iloc[j], "la mairie de l'extrait OSM dans la commune"
    if places is not None and len(places):
        pl = places[places.geometry.within(poly) & places["place"].isin(list(PLACE_RANK))]
        if len(pl):
            best = pl.assign(_r=pl["place"].map(PLACE_RANK)).sort_values("_r").iloc[0]
            return best.geometry, f"le nœud place=* principal de la commune ({best['place']})"
    return shapely.point_on_surface(poly), "un point intérieur du polygone communal"


def read_points(
    path: str | Path, *, id_col: str | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read origins or sites from a CSV (lon/lat columns), GeoPackage or GeoJSON file.

    Parameters
    ----------
    path
        File to read.
    id_col
        Column holding the identifier; default: the first of ``id``, ``site_id``,
        ``insee_com``, ``code``, else the row number.
    layer
        GeoPackage layer.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with an ``id`` column and ``exclusion`` for rows without
        usable coordinates (named by row).

    Raises
    ------
    InputError
        The file is missing, unreadable, or a CSV has no longitude/latitude columns.
    """
    p = Path(path)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "file not found"
        raise InputError(f"{p}: {what}; give a CSV, GeoPackage or GeoJSON file")
    notes: list[str] = []
    if p.suffix.lower() in (".csv", ".txt"):
        df = _read_csv(p)
        cols = {c.lower().strip(): c for c in df.columns}
        lon_c = next((cols[n] for n in LON_NAMES if n in cols), None)
        lat_c = next((cols[n] for n in LAT_NAMES if n in cols), None)
        if lon_c is None or lat_c is None:
            raise InputError(
                f"{p}: no coordinate columns; expected a longitude column among "
                f"{LON_NAMES} and a latitude column among {LAT_NAMES}, found {list(df.columns)}"
            )
        lon = pd.to_numeric(df[lon_c].str.replace(",", ".", regex=False), errors="coerce")
        lat = pd.to_numeric(df[lat_c].str.replace(",", ".", regex=False), errors="coerce")
        ok = lon.between(-180, 180) & lat.between(-90, 90)
        geom = gpd.points_from_xy(lon.where(ok, 0), lat.where(ok, 0))
        gdf = gpd.GeoDataFrame(df, geometry=list(geom), crs=settings.default_crs)
        gdf.loc[~ok, "geometry"] = None
        excl = _exclusion_column(gdf)
        excl[~ok.to_numpy()] = [
            f"pas de coordonnées utilisables dans {p.name}, ligne {i + 2} ({lon_c}, {lat_c})"
            for i in np.flatnonzero(~ok)
        ]
        gdf["exclusion"] = _as_string(excl, gdf.index)
    else:
        layer = _choose_layer(p, layer)
        try:
            gdf = gpd.read_file(p, layer=layer) if layer else gpd.read_file(p)
        except Exception as exc:
            raise InputError(f"{p}: not a readable GeoPackage/GeoJSON ({_short(exc)})") from exc
        if len(gdf) == 0:
            raise InputError(f"{p}: the layer has no features")
        if gdf.crs is None:
            raise InputError(f"{p}: the layer has no CRS; write it with one (EPSG:4326)")
        crs_in = gdf.crs
        gdf = gdf.to_crs(settings.default_crs)
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        not_point = ~empty & (gdf.geometry.geom_type != "Point")
        gdf["point_source"] = "point"
        if not_point.any():
            types = gdf.geometry[not_point].geom_type.astype(str)
            # the representative point lies inside the shape; compute it in the input CRS
            rep = gdf.geometry[not_point].to_crs(crs_in).representative_point()
            gdf.loc[not_point, "geometry"] = rep.to_crs(settings.default_crs)
            gdf.loc[not_point, "point_source"] = "representative point of a " + types
            notes.append(
                f"{p.name}: {int(not_point.sum())} {'/'.join(sorted(set(types)))} feature(s) "
                "replaced by a point inside each shape (column point_source)"
            )
        excl = _exclusion_column(gdf)
        excl[empty.to_numpy()] = [
            f"empty geometry in {p.name} feature {i}" for i in np.flatnonzero(empty)
        ]
        gdf["exclusion"] = _as_string(excl, gdf.index)
    if id_col is None:
        id_col = next((c for c in ("id", "site_id", "insee_com", "code") if c in gdf.columns), None)
    if id_col is not None and id_col not in gdf.columns:
        raise InputError(f"{p}: id column {id_col!r} not found; columns are {list(gdf.columns)}")
    gdf["id"] = gdf[id_col].astype(str) if id_col else [str(i) for i in range(len(gdf))]
    if gdf["id"].duplicated().any():
        dup = gdf.loc[gdf["id"].duplicated(), "id"].head(5).tolist()
        raise InputError(f"{p}: identifiers must be unique; repeated: {dup}")
    gdf.attrs["notes"] = notes
    return gdf


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


#: Encodings tried in turn for CSV files: UTF-8 (with or without BOM), then Windows-1252,
#: the encoding of CSV files saved by French Excel.
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp1252")


def _read_csv(p: Path) -> pd.DataFrame:
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty; give a header row with lon/lat columns")
    last: Exception | None = None
    for enc in CSV_ENCODINGS:
        try:
            df = pd.read_csv(p, sep=None, engine="python", dtype=str, encoding=enc)
            break
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise InputError(f"{p}: not a readable CSV ({_short(exc)})") from exc
    else:
        raise InputError(
            f"{p}: not readable as UTF-8 nor Windows-1252 ({_short(last or Exception())}); "
            "save it as CSV UTF-8"
        )
    if len(df) == 0:
        raise InputError(f"{p}: the file has a header but no rows")
    return df


def _choose_layer(p: Path, layer: str | None) -> str | None:
    import pyogrio

    try:
        # QGIS keeps its styles in a 'layer_styles' table: not a layer of data
        layers = [str(n) for n, _ in pyogrio.list_layers(p) if str(n) != "layer_styles"]
    except Exception as exc:
        raise InputError(f"{p}: not a readable GeoPackage/GeoJSON ({_short(exc)})") from exc
    if layer is not None:
        if layer not in layers:
            raise InputError(f"{p}: no layer {layer!r}; layers are {layers}")
        return layer
    if len(layers) > 1:
        raise InputError(
            f"{p}: {len(layers)} layers ({', '.join(layers)}); choose one with --origins-layer "
            "or --sites-layer (layer= in Python)"
        )
    return None


#: Road vertices handed out by :func:`snap`, per graph: sorted OSM ids and their vertex
#: indices, so that routing finds a snapped point's place in the way arrays without a
#: pass over every vertex (:func:`vertices_of`).
_SNAPPED: weakref.WeakKeyDictionary[RoutingGraph, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def _remember(graph: RoutingGraph, vertices: np.ndarray) -> None:
    ids, vx = _SNAPPED.get(graph, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    ids = np.concatenate([ids, graph.vx_osmid[vertices]])
    vx = np.concatenate([vx, vertices])
    ids, first = np.unique(ids, return_index=True)
    _SNAPPED[graph] = (ids, vx[first])


def vertices_of(graph: RoutingGraph, osmids: np.ndarray) -> np.ndarray:
    """Vertex index of each OSM node id (``-1`` where the graph has no such vertex).

    Ids snapped on this graph are looked up among the vertices :func:`snap` handed out;
    others by one pass over the vertices. An id shared by several vertices (a junction)
    gives one of them.
    """
    want = np.asarray(osmids, np.int64)
    out = np.full(len(want), -1, np.int64)
    ids, vx = _SNAPPED.get(graph, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    for _ in range(2):
        if len(ids):
            pos = np.minimum(np.searchsorted(ids, want), len(ids) - 1)
            hit = (out < 0) & (ids[pos] == want)
            out[hit] = vx[pos[hit]]
        missing = unique_sorted(want[out < 0])
        if not len(missing):
            break
        cand = np.flatnonzero(np.isin(graph.vx_osmid, missing))
        ids, first = np.unique(graph.vx_osmid[cand], return_index=True)
        vx = cand[first]
    return out


def snap(
    graph: RoutingGraph,
    points: gpd.GeoDataFrame,
    *,
    tolerance_m: float | None = None,
    speed_kmh: float | None = None,
    components: str = "largest",
) -> gpd.GeoDataFrame:
    """Snap points to the nearest road vertex of the graph's largest strongly connected component.

    Parameters
    ----------
    graph
        Routing graph.
    points
        Point GeoDataFrame (any CRS); rows whose ``exclusion`` is set are left alone.
    tolerance_m
        Maximum snapping distance (m); default :data:`msapgeo.settings.snap_tolerance_m`.
    speed_kmh
        Speed of the off-network leg; default :data:`msapgeo.settings.offnetwork_speed_kmh`.
    components
        ``"largest"`` (default) snaps to the largest strongly connected component only;
        ``"all"`` to any component of :data:`msapgeo.settings.min_component_nodes` nodes
        or more, for scenario graphs where closures split the network and a valley keeps
        its own roads and sites.

    Returns
    -------
    geopandas.GeoDataFrame
        Copy of ``points`` with ``node_osmid`` (``-1`` when not snapped), ``snap_m``,
        ``snap_time_s`` and ``exclusion``.
    """
    tol = settings.snap_tolerance_m if tolerance_m is None else tolerance_m
    spd = settings.offnetwork_speed_kmh if speed_kmh is None else speed_kmh
    if spd <= 0:
        raise InputError(f"off-network speed must be positive, got {spd} km/h")
    if points.crs is None:
        raise InputError("points have no CRS; set one (EPSG:4326 for lon/lat)")
    out = points.to_crs(settings.default_crs)
    excl = _exclusion_column(out)
    geom = out.geometry
    missing = (geom.isna() | geom.is_empty).to_numpy()
    excl[missing & pd.isna(excl)] = t_(NO_COORDINATES)
    todo = np.flatnonzero(pd.isna(excl))
    node = np.full(len(out), -1, dtype=np.int64)
    snap_m = np.full(len(out), np.nan)
    if components not in ("largest", "all"):
        raise InputError(f"components={components!r}: choose 'largest' or 'all'")
    vx, tree = graph.vertex_index(components) if len(todo) else (np.zeros(0, np.int64), None)
    if tree is not None:
        xy = to_metric(geom.x.to_numpy()[todo], geom.y.to_numpy()[todo])
        finite = np.isfinite(xy).all(axis=1)
        d = np.full(len(todo), np.inf)
        j = np.zeros(len(todo), dtype=np.int64)
        if finite.any():
            d[finite], j[finite] = tree.query(xy[finite])
        snap_m[todo] = d
        near = d <= tol
        node[todo[near]] = graph.vx_osmid[vx[j[near]]]
        _remember(graph, vx[j[near]])
        far = todo[~near]
        excl[far] = [
            f"{t_(TOO_FAR)} ({fr_number(snap_m[i])} m > {fr_number(tol)} m)"
            if np.isfinite(snap_m[i])
            else t_(OUTSIDE_CRS)
            for i in far
        ]
    elif len(todo):
        excl[todo] = t_(NO_NETWORK)
    out["node_osmid"] = node
    out["snap_m"] = snap_m
    out["snap_time_s"] = np.where(node >= 0, snap_m / (spd / 3.6), np.nan)
    out["exclusion"] = _as_string(excl, out.index)
    return out


#: Columns :func:`snap` adds: the road vertex (``node_osmid``, ``-1`` when not snapped),
#: the off-network leg in metres (``snap_m``) and in seconds (``snap_time_s``).
SNAP_COLUMNS: tuple[str, ...] = ("node_osmid", "snap_m", "snap_time_s")


def ensure_snapped(graph: RoutingGraph, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``points`` as they are when already snapped (they carry :data:`SNAP_COLUMNS`),
    else :func:`snap`-ped on ``graph``: the one place routing, what-if and location
    models decide whether to snap."""
    if all(c in points.columns for c in SNAP_COLUMNS):
        return points
    return snap(graph, points.drop(columns=list(SNAP_COLUMNS), errors="ignore"))
