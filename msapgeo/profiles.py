"""Speed profiles: ``legal`` (French speed model only) and ``mountain`` (with curvature and slope).

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

import numpy as np
import pandas as pd

from msapgeo.dem import DEM
from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.speeds import SOURCE_CODE

PROFILES: tuple[str, ...] = ("legal", "mountain")
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


def apply_profile(
    graph: RoutingGraph,
    profile: str,
    *,
    dem: DEM | None = None,
    vehicle: Vehicle | None = None,
) -> RoutingGraph:
    """Return the graph with the speeds of a named profile.

    Parameters
    ----------
    graph
        A graph built with the ``legal`` profile (:func:`msapgeo.network.graph_from_osm`).
    profile
        ``"legal"`` (unchanged) or ``"mountain"`` (curvature, and slope when ``dem`` is given).
    dem
        Elevation tiles for the slope penalty.
    vehicle
        Car of the uphill power limit.

    Returns
    -------
    RoutingGraph
        New graph; ``meta["profile"]`` and ``meta["profile_report"]`` record what changed.
    """
    if profile not in PROFILES:
        raise InputError(f"profile {profile!r}: choose one of {PROFILES}")
    if graph.meta.get("profile", "legal") != "legal":
        raise InputError(f"apply a profile to a 'legal' graph, not {graph.meta.get('profile')!r}")
    if profile == "legal":
        return graph
    length = graph.seg_len_m
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh_f = np.where(graph.seg_time_fwd_s > 0, length / graph.seg_time_fwd_s * 3.6, np.inf)
        kmh_b = np.where(graph.seg_time_bwd_s > 0, length / graph.seg_time_bwd_s * 3.6, np.inf)
    src_f = graph.seg_src_fwd.copy()
    src_b = graph.seg_src_bwd.copy()
    r = vertex_radius_m(graph)
    r_seg = np.minimum(r, np.concatenate([r[1:], [np.inf]]))
    v_curve = curve_speed_kmh(r_seg)
    real = length > 0
    binds = real & (v_curve < np.minimum(kmh_f, kmh_b))
    report: dict[str, object] = {
        "curvature": {
            "a_lat_ms2": LATERAL_ACCEL_MS2,
            "window_m": CURVE_WINDOW_M,
            "segments_reduced_share": float(binds.sum() / real.sum()) if real.any() else 0.0,
        }
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
    return graph.replace(
        seg_time_fwd_s=t_f, seg_time_bwd_s=t_b, seg_src_fwd=src_f, seg_src_bwd=src_b, meta=meta
    )


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
