"""Speed profiles: ``practical`` (default), ``legal`` and ``mountain``.

* ``legal``: the French speed model of :mod:`msapgeo.speeds` as it is: the law's limits,
  no time lost at junctions. An upper bound, kept as an option.
* ``practical`` (default): untagged roads at the practical speed of their class and
  context (:data:`msapgeo.speeds.PRACTICAL_KMH`), and junction delays
  (:func:`junction_delays`).
* ``mountain``: ``practical`` plus the curvature and slope caps below.

Junction delays
---------------
At every junction where three or more road ends meet, each approach is classed by the
road classes that meet there (:data:`msapgeo.speeds.CLASS_RANK`; links rank half a class
below their road, roundabout rings above every road entering them, R415-10): the two
best-ranked ends form the road that passes through and keep their speed (a road that
changes class at the junction stays the through road); a lower-ranked approach, and
every approach of a crossing where four or more ends share the through rank (priority to
the right, R415-5), slows to :data:`msapgeo.speeds.YIELD_KMH` and speeds up again; a
``highway=stop`` node makes it stop, ``highway=give_way`` yield, and
``highway=traffic_signals`` costs every approach the mean signal delay. A control node
mapped on the approach rather than on the junction counts for the direction that leads
to the nearer junction. The delay is the physical time lost braking and accelerating; on the
turn-expanded graph the practical profile routes on (:mod:`msapgeo.turns`) it is paid
per transition, with the turn's own speed and within the room the roads offer
(:func:`edge_controls` gives each approach its wait and its speed).

Curvature
---------
At each vertex the deflection angle between its two segments is measured in a local
metric frame. The radius of the road around a vertex is the arc length of a window of
:data:`CURVE_WINDOW_M` metres centred on it divided by the total deflection inside that
window (a hairpin of 180° over 60 m gives R ≈ 19 m). A segment's speed is capped at
``v = sqrt(a_lat × R)`` with ``R`` the smaller radius of its two ends and
``a_lat`` = :data:`LATERAL_ACCEL_MS2` = 2.5 m/s². That lateral acceleration is the side
friction factor for low design speeds in AASHTO, *A Policy on Geometric Design of Highways
and Streets* (7th ed., 2018), Table 3-7 (f ≈ 0.25–0.28 at 30–40 km/h), times g, with no
superelevation: what drivers accept on tight mountain bends. Each reduced segment records
the source ``curvature``.

Slope
-----
Elevations are sampled from a DEM at every vertex and smoothed along the way over
:data:`SLOPE_WINDOW_M` metres (SRTM cells are 90 m). Going uphill, a car's speed is
capped by the power it can sustain: ``P = v (m g (sin θ + C_rr cos θ)) + ½ ρ C_d A v³``
with m = 1,400 kg, P = 40 kW (about half the rated power of a mid-size car), C_rr = 0.012,
C_d A = 0.65 m² and ρ = 1.1 kg/m³ (air at about 1,000 m): textbook passenger-car values
(T. D. Gillespie, *Fundamentals of Vehicle Dynamics*, SAE, 1992, ch. 4). Downhill is not
penalised. A→B and B→A therefore differ. Segments without DEM coverage keep their
speed and are counted in the graph's metadata. Each reduced segment records ``slope``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo.arrays import unique_sorted
from msapgeo.dem import DEM
from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.speeds import CLASS_RANK, SOURCE_CODE, STOP_WAIT_S, YIELD_KMH, junction_delay_s

PROFILES: tuple[str, ...] = ("practical", "legal", "mountain", "insee")

#: Speed table each profile is built on (:attr:`msapgeo.speeds.SpeedModel.practical`).
PROFILE_TABLE: dict[str, str] = {
    "practical": "practical",
    "legal": "legal",
    "mountain": "practical",
    "insee": "legal",
}
LATERAL_ACCEL_MS2 = 2.5
CURVE_WINDOW_M = 60.0
MIN_RADIUS_M = 5.0
SLOPE_WINDOW_M = 150.0
G = 9.81


@dataclass(frozen=True)
class Vehicle:
    """Passenger car used for the uphill power limit (Gillespie 1992 typical values)."""

    mass_kg: float = 1_400.0
    power_w: float = 40_000.0
    crr: float = 0.012
    cda_m2: float = 0.65
    air_density: float = 1.1


def _local_xy(graph: RoutingGraph) -> tuple[np.ndarray, np.ndarray]:
    lat0 = np.radians(np.nanmean(graph.vx_lat)) if len(graph.vx_lat) else 0.0
    x = np.radians(graph.vx_lon) * 6_371_008.8 * np.cos(lat0)
    y = np.radians(graph.vx_lat) * 6_371_008.8
    return x, y


def _way_position(graph: RoutingGraph) -> np.ndarray:
    """Distance along its way of every vertex, ways separated by a large gap."""
    s = np.concatenate([[0.0], np.cumsum(graph.seg_len_m)[:-1]])
    return s + graph.vx_way * 1e7


def deflection_rad(graph: RoutingGraph) -> np.ndarray:
    """Deflection angle (rad) at every vertex; 0 at way ends and on zero-length segments."""
    x, y = _local_xy(graph)
    n = len(x)
    theta = np.zeros(n)
    if n < 3:
        return theta
    h = np.arctan2(np.diff(y), np.diff(x))  # heading of segment i -> i+1
    same = graph.vx_way[1:] == graph.vx_way[:-1]
    seg_ok = same & (graph.seg_len_m[:-1] > 0.01)
    d = np.abs((h[1:] - h[:-1] + np.pi) % (2 * np.pi) - np.pi)
    interior = seg_ok[:-1] & seg_ok[1:]
    theta[1:-1] = np.where(interior, d, 0.0)
    return theta


def vertex_radius_m(graph: RoutingGraph, window_m: float = CURVE_WINDOW_M) -> np.ndarray:
    """Radius of the road around each vertex (m): window length / deflection inside it."""
    theta = deflection_rad(graph)
    s = _way_position(graph)
    cum = np.concatenate([[0.0], np.cumsum(theta)])
    lo = np.searchsorted(s, s - window_m / 2, side="left")
    hi = np.searchsorted(s, s + window_m / 2, side="right")
    total = cum[hi] - cum[lo]
    with np.errstate(divide="ignore"):
        r = np.where(total > 1e-6, window_m / total, np.inf)
    return np.maximum(r, MIN_RADIUS_M)


def curve_speed_kmh(radius_m: np.ndarray, a_lat: float = LATERAL_ACCEL_MS2) -> np.ndarray:
    """Comfortable speed (km/h) on a bend of the given radius."""
    return np.sqrt(a_lat * np.asarray(radius_m, float)) * 3.6


def uphill_speed_kmh(grade: np.ndarray, vehicle: Vehicle | None = None) -> np.ndarray:
    """Highest speed (km/h) the car sustains on a grade (rise/run); inf on flat or downhill."""
    v = vehicle or Vehicle()
    g = np.asarray(grade, float)
    out = np.full(g.shape, np.inf)
    up = np.isfinite(g) & (g > 0)
    if not up.any():
        return out
    th = np.arctan(g[up])
    resist = v.mass_kg * G * (np.sin(th) + v.crr * np.cos(th))
    k = 0.5 * v.air_density * v.cda_m2
    lo, hi = np.zeros(up.sum()), np.full(up.sum(), 100.0)
    for _ in range(60):  # bisection of P = v (resist + k v²)
        mid = (lo + hi) / 2
        over = mid * (resist + k * mid**2) > v.power_w
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    out[up] = lo * 3.6
    return out


def vertex_elevation_m(
    graph: RoutingGraph, dem: DEM, window_m: float = SLOPE_WINDOW_M
) -> np.ndarray:
    """DEM elevation at every vertex, averaged along the way over ``window_m`` metres."""
    z = dem.sample(graph.vx_lon, graph.vx_lat)
    s = _way_position(graph)
    ok = np.isfinite(z)
    cz = np.concatenate([[0.0], np.cumsum(np.where(ok, z, 0.0))])
    cn = np.concatenate([[0], np.cumsum(ok)])
    lo = np.searchsorted(s, s - window_m / 2, side="left")
    hi = np.searchsorted(s, s + window_m / 2, side="right")
    count = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (cz[hi] - cz[lo]) / count, np.nan)


def segment_grade(graph: RoutingGraph, dem: DEM) -> np.ndarray:
    """Grade (rise/run) of every segment in the way's forward direction; NaN without DEM."""
    z = vertex_elevation_m(graph, dem)
    g = np.full(len(z), np.nan)
    length = graph.seg_len_m[:-1]
    same = graph.vx_way[1:] == graph.vx_way[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        g[:-1] = np.where(same & (length > 0.5), (z[1:] - z[:-1]) / length, np.nan)
    return g


def _way_ranks(graph: RoutingGraph) -> np.ndarray:
    """Priority rank of each way (lower = priority): its class, links half a class below
    the road they serve, roundabout rings above every road that enters them (R415-10)."""
    hw = pd.Series(graph.way_highway, dtype=object).astype(str)
    link = hw.str.endswith("_link")
    base = hw.str.removesuffix("_link")
    ranks = base.map(CLASS_RANK).fillna(6).to_numpy(float) + np.where(link, 0.5, 0.0)
    tags = pd.Series(graph.way_tags, dtype=object).astype(str)
    ring = tags.str.contains('"junction": "roundabout"', regex=False) | tags.str.contains(
        '"junction": "circular"', regex=False
    )
    ranks[ring.to_numpy()] = -1.0
    return ranks


class Approaches(NamedTuple):
    """Per vertex, arriving forward (along the way's node order) or backward: the wait
    (signal delay, stop standstill, s), the slow-down for the control (s) and the speed
    the control imposes (0 at a stop, :data:`msapgeo.speeds.YIELD_KMH` when yielding,
    ``inf`` otherwise); and the counts."""

    wait_fwd: np.ndarray
    slow_fwd: np.ndarray
    kmh_fwd: np.ndarray
    wait_bwd: np.ndarray
    slow_bwd: np.ndarray
    kmh_bwd: np.ndarray
    report: dict[str, object]


def approach_controls(graph: RoutingGraph, kmh_fwd: np.ndarray, kmh_bwd: np.ndarray) -> Approaches:
    """Wait, slow-down (s) and control speed of arriving at each vertex, each direction.

    Parameters
    ----------
    graph
        Routing graph (its ``meta["node_controls"]`` lists control nodes by kind).
    kmh_fwd, kmh_bwd
        Segment speeds (km/h) of each direction.

    Returns
    -------
    Approaches
        The wait is the mean signal delay or the stop's standstill; the slow-down is the
        time lost braking for the control and accelerating again.
    """
    osm = graph.vx_osmid
    n = len(osm)
    idx = np.arange(n)
    ptr = graph.way_ptr
    first = np.zeros(n, bool)
    last = np.zeros(n, bool)
    first[ptr[:-1]] = True
    last[ptr[1:] - 1] = True
    way = graph.vx_way
    rank_w = _way_ranks(graph)
    r = rank_w[way] if n else np.zeros(0)
    inc = (np.where(first | last, 1, 2) * (~(first & last))).astype(np.int64)
    _, inv = np.unique(osm, return_inverse=True)
    n_nodes = int(inv.max()) + 1 if n else 0
    degree = np.bincount(inv, weights=inc, minlength=n_nodes)
    # the incidences of each node sorted by rank: the two best form the through road
    node_rep = np.repeat(inv, inc)
    rank_rep = np.repeat(r, inc)
    order = np.lexsort((rank_rep, node_rep))
    node_s, rank_s = node_rep[order], rank_rep[order]
    start = np.searchsorted(node_s, np.arange(n_nodes))
    count = np.bincount(node_s, minlength=n_nodes)

    def kth(k: int) -> np.ndarray:
        out = np.full(n_nodes, np.inf)
        ok = count > k
        out[ok] = rank_s[start[ok] + k]
        return out

    r2, r4 = kth(1), kth(3)
    junction = degree[inv] >= 3
    minor = r > r2[inv]
    crossing = (degree[inv] >= 4) & (r4[inv] <= r2[inv])  # four ends of the through class
    yields = junction & (minor | crossing)

    controls = graph.meta.get("node_controls", {}) or {}
    kind = np.full(n, "", dtype=object)
    for k in ("give_way", "stop", "traffic_signals"):
        ids = np.asarray(controls.get(k, []), np.int64)
        if len(ids):
            kind[np.isin(osm, ids)] = k

    v_in_f = np.concatenate([[0.0], kmh_fwd[:-1]]) if n else np.zeros(0)  # arriving forward
    v_in_b = kmh_bwd.copy()  # segment i backward arrives at vertex i
    # control code per vertex and direction: 0 none, 1 yield, 2 stop, 3 signals
    code_f = np.zeros(n, np.int8)
    code_b = np.zeros(n, np.int8)
    for code in (code_f, code_b):
        code[yields] = 1
        code[yields & (kind == "stop")] = 2
        code[junction & (kind == "traffic_signals")] = 3

    # control nodes mapped on an approach: for the direction towards the nearer junction
    jv = graph.vx_junction & (junction | first | last)
    nxt = np.minimum.accumulate(np.where(jv, idx, n)[::-1])[::-1] if n else idx
    prv = np.maximum.accumulate(np.where(jv, idx, -1)) if n else idx
    pos = np.concatenate([[0.0], np.cumsum(graph.seg_len_m)[:-1]]) if n else np.zeros(0)
    mid = np.flatnonzero((kind != "") & ~junction)
    code_of = {"give_way": 1, "stop": 2, "traffic_signals": 3}
    for i in mid:
        j_next, j_prev = nxt[i], prv[i]
        go_fwd = (pos[j_next] - pos[i]) <= (pos[i] - pos[j_prev])
        c = code_of[str(kind[i])]
        if go_fwd and j_next < n and not first[j_next]:
            code_f[j_next] = max(code_f[j_next], c)
        elif j_prev >= 0 and not last[j_prev]:
            code_b[j_prev] = max(code_b[j_prev], c)

    code_f[first] = 0  # nothing arrives forward at a way's first vertex
    code_b[last] = 0
    out = []
    for code, v_in in ((code_f, v_in_f), (code_b, v_in_b)):
        wait = np.zeros(n)
        slow = np.zeros(n)
        wait[code == 3] = junction_delay_s(v_in[code == 3], "signals")
        wait[code == 2] = STOP_WAIT_S
        slow[code == 2] = junction_delay_s(v_in[code == 2], "stop") - STOP_WAIT_S
        slow[code == 1] = junction_delay_s(v_in[code == 1], "yield")
        wait[~np.isfinite(wait)] = 0.0
        slow[~np.isfinite(slow)] = 0.0
        out += [wait, slow]
    out[0][first] = out[1][first] = 0.0  # nothing arrives forward at a way's first vertex
    out[2][last] = out[3][last] = 0.0
    report: dict[str, object] = {
        "junction_vertices": int(unique_sorted(osm[junction]).size),
        "approaches_controlled": int((code_f[~first] > 0).sum() + (code_b[~last] > 0).sum()),
        "control_nodes": {k: len(v) for k, v in controls.items()},
    }
    kmh = [np.select([c == 2, c == 1], [0.0, YIELD_KMH], np.inf) for c in (code_f, code_b)]
    return Approaches(out[0], out[1], kmh[0], out[2], out[3], kmh[1], report)


def edge_controls(
    graph: RoutingGraph,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, object]]:
    """Approach control of each directed edge of ``graph.edges`` at its head node.

    Returns
    -------
    (wait_s, slow_s, control_kmh, report)
        The wait (signal delay, stop standstill), the slow-down when the head is a plain
        node, the speed the control imposes (0 at a stop, :data:`msapgeo.speeds.
        YIELD_KMH` when yielding, ``inf`` otherwise) and the counts of
        :func:`approach_controls`.
    """
    length = graph.seg_len_m
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh_f = np.where(graph.seg_time_fwd_s > 0, length / graph.seg_time_fwd_s * 3.6, 0.0)
        kmh_b = np.where(graph.seg_time_bwd_s > 0, length / graph.seg_time_bwd_s * 3.6, 0.0)
    a = approach_controls(graph, kmh_f, kmh_b)
    e = graph.edges
    head = np.where(e["reversed"], e["first_vx"], e["last_vx"])
    rev = e["reversed"]
    wait = np.where(rev, a.wait_bwd[head], a.wait_fwd[head])
    slow = np.where(rev, a.slow_bwd[head], a.slow_fwd[head])
    kmh = np.where(rev, a.kmh_bwd[head], a.kmh_fwd[head])
    return wait, slow, kmh, a.report


def junction_delays(
    graph: RoutingGraph, kmh_fwd: np.ndarray, kmh_bwd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Node-based junction delays (s) per segment and direction: wait plus slow-down of
    the approach, added to the segment that arrives (no turn costs; see :mod:`msapgeo.
    turns` for the turn-expanded graph that the practical profile routes on)."""
    wf, sf, _, wb, sb, _, report = approach_controls(graph, kmh_fwd, kmh_bwd)
    n = len(wf)
    d_fwd = np.zeros(n)
    d_bwd = np.zeros(n)
    if n:
        d_fwd[:-1] = (wf + sf)[1:]
        d_bwd[:] = wb + sb
    return d_fwd, d_bwd, report


# --------------------------------------------------------------------------- INSEE Métric

#: INSEE Métric off-peak speeds (km/h) of motorways and near-motorways by population
#: density class (< 500, 500–4,000, > 4,000 inhabitants per km²). Source: DREES,
#: comparison of distanciers (``phileas-condemine/comparaison_distanciers``, 2021),
#: describing Métric on the IGN BD TOPO graph; ``../shared/REFERENCES.md``.
METRIC_FIXED_KMH: dict[str, tuple[float, float, float]] = {
    "motorway": (120.0, 100.0, 60.0),
    "near_motorway": (100.0, 90.0, 40.0),
}
#: Base speed (km/h) of the sinuosity formula ``max(base · s − 0.1 · p², 15)`` by density.
METRIC_BASE_KMH: dict[str, tuple[float, float, float]] = {
    "dual": (90.0, 60.0, 30.0),
    "single": (65.0, 40.0, 20.0),
}
METRIC_SLIP_KMH = 60.0
METRIC_TRACK_KMH = 20.0
METRIC_MIN_KMH = 15.0
#: Population density class limits (inhabitants per km²).
METRIC_DENSITY_LIMITS = (500.0, 4_000.0)


def _metric_road_type(graph: RoutingGraph) -> np.ndarray:
    """Métric road type of each way: motorway, near_motorway, dual, single, slip, track."""
    hw = pd.Series(graph.way_highway, dtype=object).astype(str)
    tags = pd.Series(graph.way_tags, dtype=object).astype(str)
    oneway = graph.way_fwd != graph.way_bwd
    motorroad = tags.str.contains('"motorroad": "yes"', regex=False).to_numpy()
    dual = tags.str.contains('"dual_carriageway": "yes"', regex=False).to_numpy() | oneway
    out = np.full(graph.n_ways, "single", dtype=object)
    h = hw.to_numpy()
    out[(h == "trunk") | (h == "primary")] = "single"
    out[((h == "trunk") | (h == "primary")) & dual] = "dual"
    out[(h == "trunk") & (motorroad | dual)] = "near_motorway"
    out[h == "motorway"] = "motorway"
    out[hw.str.endswith("_link").to_numpy()] = "slip"
    out[h == "track"] = "track"
    return out


def insee_speeds(
    graph: RoutingGraph,
    *,
    dem: DEM | None = None,
    density: gpd.GeoDataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Speed (km/h) of every directed edge under INSEE Métric's off-peak model.

    Parameters
    ----------
    graph
        Routing graph.
    dem
        Elevation tiles: slope ``p`` (%) of each edge, the length-weighted mean of its
        segments' absolute grades; 0 without a DEM.
    density
        Polygons with ``density_hab_km2`` (communes): the density class of an edge is the
        one of the polygon holding its midpoint. Without it, built-up segments
        (:mod:`msapgeo.speeds`) stand for 500–4,000 and the others for < 500 hab/km².

    Returns
    -------
    (speed_kmh, density_class, report)
        ``density_class`` per edge: 0, 1, 2.
    """
    e = graph.edges
    first, last, way = e["first_vx"], e["last_vx"], e["way"]
    length = np.maximum(e["length_m"], 1e-6)
    lat0 = np.radians(np.nanmean(graph.vx_lat)) if len(graph.vx_lat) else 0.0
    dx = np.radians(graph.vx_lon[last] - graph.vx_lon[first]) * np.cos(lat0) * 6_371_008.8
    dy = np.radians(graph.vx_lat[last] - graph.vx_lat[first]) * 6_371_008.8
    sinuosity = np.clip(np.hypot(dx, dy) / length, 0.0, 1.0)
    p = np.zeros(len(first))
    if dem is not None:
        grade = np.abs(segment_grade(graph, dem))
        seg = np.nan_to_num(grade) * graph.seg_len_m
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        p = 100 * (cum[last] - cum[first]) / length
    if density is not None and len(density):
        mid = (first + last) // 2
        pts = gpd.GeoSeries(
            gpd.points_from_xy(graph.vx_lon[mid], graph.vx_lat[mid]), crs="EPSG:4326"
        )
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=pts),
            density[["density_hab_km2", "geometry"]],
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        dens = joined["density_hab_km2"].to_numpy(float)
        cls = np.searchsorted(METRIC_DENSITY_LIMITS, np.nan_to_num(dens), side="right")
        source = "commune population densities"
    else:
        builtup = np.isin(graph.seg_src_fwd[first], [SOURCE_CODE["default_urban"]]) | (
            graph.way_highway[way] == "residential"
        )
        cls = np.where(builtup, 1, 0)
        source = "built-up segments stand for 500–4,000 hab/km², the others for < 500"
    rtype = _metric_road_type(graph)[way]
    v = np.full(len(first), np.nan)
    for kind, table in METRIC_FIXED_KMH.items():
        sel = rtype == kind
        v[sel] = np.asarray(table)[cls[sel]]
    for kind, table in METRIC_BASE_KMH.items():
        sel = rtype == kind
        base = np.asarray(table)[cls[sel]]
        v[sel] = np.maximum(base * sinuosity[sel] - 0.1 * p[sel] ** 2, METRIC_MIN_KMH)
    v[rtype == "slip"] = METRIC_SLIP_KMH
    v[rtype == "track"] = METRIC_TRACK_KMH
    report: dict[str, object] = {
        "model": "INSEE Métric, off-peak (heures creuses)",
        "density": source,
        "slope": "from the DEM" if dem is not None else "not applied: no DEM given",
    }
    return v, cls, report


def apply_profile(
    graph: RoutingGraph,
    profile: str,
    *,
    dem: DEM | None = None,
    vehicle: Vehicle | None = None,
    density: gpd.GeoDataFrame | None = None,
) -> RoutingGraph:
    """Return the graph with the speeds of a named profile.

    Parameters
    ----------
    graph
        A graph as built by :func:`msapgeo.network.graph_from_osm`: with the legal speed
        table for ``legal``, with the practical one (``SpeedModel(practical=True)``) for
        ``practical`` and ``mountain`` (:data:`PROFILE_TABLE`; :func:`msapgeo.pipeline.
        load_graph` picks it).
    profile
        ``"practical"`` (junction delays), ``"legal"`` (unchanged), ``"mountain"``
        (practical plus curvature, and slope when ``dem`` is given) or ``"insee"`` (INSEE
        Métric's off-peak model, :func:`insee_speeds`, to set msapgeo's figures beside
        INSEE's).
    dem
        Elevation tiles for the slope penalty.
    vehicle
        Car of the uphill power limit.
    density
        Commune polygons with ``density_hab_km2`` for the ``insee`` profile.

    Returns
    -------
    RoutingGraph
        New graph; ``meta["profile"]`` and ``meta["profile_report"]`` record what changed.
    """
    if profile not in PROFILES:
        raise InputError(f"profile {profile!r}: choose one of {PROFILES}")
    if "profile_report" in graph.meta:
        raise InputError(
            f"the graph already carries the {graph.meta.get('profile')!r} profile; "
            "apply a profile to a graph as built"
        )
    table = graph.meta.get("speed_table", "legal")
    if profile == "legal":
        if table != "legal":
            raise InputError("the legal profile needs a graph built with the legal speed table")
        return graph  # built with the legal table: nothing to change
    if profile == "insee":
        return _apply_insee(graph, dem=dem, density=density)
    length = graph.seg_len_m
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh_f = np.where(graph.seg_time_fwd_s > 0, length / graph.seg_time_fwd_s * 3.6, np.inf)
        kmh_b = np.where(graph.seg_time_bwd_s > 0, length / graph.seg_time_bwd_s * 3.6, np.inf)
    src_f = graph.seg_src_fwd.copy()
    src_b = graph.seg_src_bwd.copy()
    real = length > 0
    report: dict[str, object] = {"speed_table": table}
    if profile == "mountain":
        r = vertex_radius_m(graph)
        r_seg = np.minimum(r, np.concatenate([r[1:], [np.inf]]))
        v_curve = curve_speed_kmh(r_seg)
        binds = real & (v_curve < np.minimum(kmh_f, kmh_b))
        report["curvature"] = {
            "a_lat_ms2": LATERAL_ACCEL_MS2,
            "window_m": CURVE_WINDOW_M,
            "segments_reduced_share": float(binds.sum() / real.sum()) if real.any() else 0.0,
        }
        for kmh, src in ((kmh_f, src_f), (kmh_b, src_b)):
            cut = (v_curve < kmh) & real
            kmh[cut] = v_curve[cut]
            src[cut] = SOURCE_CODE["curvature"]
        if dem is not None:
            g = segment_grade(graph, dem)
            covered = np.isfinite(g) & real
            v_up_f = uphill_speed_kmh(g, vehicle)
            v_up_b = uphill_speed_kmh(-g, vehicle)
            for kmh, src, v_up in ((kmh_f, src_f, v_up_f), (kmh_b, src_b, v_up_b)):
                cut = (v_up < kmh) & real
                kmh[cut] = v_up[cut]
                src[cut] = SOURCE_CODE["slope"]
            report["slope"] = {
                "dem": dem.names,
                "segments_with_grade": int(covered.sum()),
                "segments_without_dem": int((real & ~np.isfinite(g)).sum()),
                "vehicle": vars(vehicle or Vehicle()),
            }
        else:
            report["slope"] = "not applied: no DEM given"
    with np.errstate(divide="ignore", invalid="ignore"):
        t_f = np.where(real, length / (kmh_f / 3.6), 0.0)
        t_b = np.where(real, length / (kmh_b / 3.6), 0.0)
    meta = {**graph.meta, "profile": profile, "profile_report": report}
    if table == "practical":
        # junction and turn costs are transitions of the turn-expanded graph
        # (msapgeo.turns), built when routing
        meta["turns"] = True
    return graph.replace(
        seg_time_fwd_s=t_f, seg_time_bwd_s=t_b, seg_src_fwd=src_f, seg_src_bwd=src_b, meta=meta
    )


def _apply_insee(
    graph: RoutingGraph, *, dem: DEM | None, density: gpd.GeoDataFrame | None
) -> RoutingGraph:
    v, _, report = insee_speeds(graph, dem=dem, density=density)
    e = graph.edges
    t_f = graph.seg_time_fwd_s.copy()
    t_b = graph.seg_time_bwd_s.copy()
    from msapgeo.graph import _ranges

    for rev, t in ((False, t_f), (True, t_b)):
        sel = e["reversed"] == rev
        a, b = e["first_vx"][sel], e["last_vx"][sel]
        seg = _ranges(a, b)
        kmh = np.repeat(v[sel], b - a)
        t[seg] = graph.seg_len_m[seg] / (kmh / 3.6)
    meta = {**graph.meta, "profile": "insee", "profile_report": report}
    return graph.replace(seg_time_fwd_s=t_f, seg_time_bwd_s=t_b, meta=meta)


def edge_measures(graph: RoutingGraph) -> pd.DataFrame:
    """Curvature of every directed edge: ``turning_deg_per_km`` and ``min_radius_m``."""
    e = graph.edges
    theta = deflection_rad(graph)
    r = vertex_radius_m(graph)
    first, last = e["first_vx"], e["last_vx"]
    cum = np.concatenate([[0.0], np.cumsum(theta)])
    # interior vertices only: first+1 .. last-1
    turn = cum[last] - cum[np.minimum(first + 1, last)]
    km = np.maximum(e["length_m"], 1e-9) / 1000
    rmin = np.full(len(first), np.inf)
    inner = last - first >= 2
    if inner.any():
        idx = np.concatenate(
            [np.arange(a + 1, b) for a, b in zip(first[inner], last[inner], strict=True)]
        )
        grp = np.repeat(np.flatnonzero(inner), (last - first - 1)[inner])
        np.minimum.at(rmin, grp, r[idx])
    return pd.DataFrame(
        {
            "turning_deg_per_km": np.degrees(turn) / km,
            "min_radius_m": np.where(np.isfinite(rmin), rmin, np.nan),
        }
    )
