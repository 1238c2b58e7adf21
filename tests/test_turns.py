"""Turn-expanded routing: U-turns, restriction relations, turn costs, and the routing
properties (a new site never lengthens a trip, a closure never shortens one) on it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msapgeo.network import graph_from_osm
from msapgeo.places import snap
from msapgeo.profiles import apply_profile
from msapgeo.routing import nearest_site, od_matrix
from msapgeo.speeds import SpeedModel
from msapgeo.turns import U_TURN_S, _restricted, _turn_loss_s, turn_graph
from tests.conftest import graph_from_edges, nearest_equals_matrix_minimum, snapped_points
from tests.test_routing import problems

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LAT = 45.0


def _osm(path: Path, nodes: dict[int, tuple[float, float]], ways: list, relations=()) -> Path:  # type: ignore[no-untyped-def]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="t">']
    for nid, (lon, lat) in nodes.items():
        out.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, refs, tags in ways:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{wid}" version="1">{nd}{tg}</way>')
    for rid, members, tags in relations:
        mm = "".join(f'<member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<relation id="{rid}" version="1">{mm}{tg}</relation>')
    out.append("</osm>")
    path.write_text("\n".join(out))
    return path


def _points(g, lonlat: list[tuple[float, float]], prefix: str) -> gpd.GeoDataFrame:  # type: ignore[no-untyped-def]
    pts = gpd.GeoDataFrame(
        {"id": [f"{prefix}{i}" for i in range(len(lonlat))]},
        geometry=gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]),
        crs="EPSG:4326",
    )
    return snap(g, pts)


def _graphs(osm: Path):  # type: ignore[no-untyped-def]
    base = graph_from_osm(osm, model=SpeedModel(practical=True), builtup=False, progress=False)
    return base, apply_profile(base, "practical")


def test_no_u_turn_at_a_dual_carriageway_split(tmp_path: Path) -> None:
    """A two-way road (10-11) splits at 11 into one-way carriageways up (11→12→13) and
    down (13→22→11), rejoining at 13, which goes on north to 14. From the down carriageway
    to the up one, the node graph turns back 170° at the split; with turns the car must
    drive to the dead end at 10 and turn there (U_TURN_S)."""
    d = 0.001
    nodes = {
        10: (6.0, LAT - 3 * d),
        11: (6.0, LAT),
        12: (6.0003, LAT + 2 * d),
        13: (6.0, LAT + 4 * d),
        22: (5.9997, LAT + 2 * d),
        14: (6.0, LAT + 7 * d),
    }
    ways = [
        (1, [10, 11], {"highway": "secondary"}),
        (2, [11, 12, 13], {"highway": "secondary", "oneway": "yes"}),
        (3, [13, 22, 11], {"highway": "secondary", "oneway": "yes"}),
        (4, [13, 14], {"highway": "secondary"}),
    ]
    base, turned = _graphs(_osm(tmp_path / "dual.osm", nodes, ways))
    o = _points(base, [nodes[22]], "o")
    s = _points(base, [nodes[12]], "s")
    plain = nearest_site(base, o, s)
    with_turns = nearest_site(turned, o, s)
    # node graph: 22 → 11 → 12, a U-turn of about 170° at the split
    assert plain["dist_km"].iloc[0] == pytest.approx(0.44, abs=0.03)
    # with turns: on to the dead end at 10 (2 × 333 m more) and back
    expected_km = plain["dist_km"].iloc[0] + 0.667
    assert with_turns["dist_km"].iloc[0] == pytest.approx(expected_km, abs=0.02)
    extra_s = (with_turns["time_min"].iloc[0] - plain["time_min"].iloc[0]) * 60
    assert extra_s > U_TURN_S


def _crossing(tmp_path: Path, restriction: dict[str, str] | None) -> tuple:  # type: ignore[type-arg]
    """A crossing C (node 1) with arms west (2), north (3), east (4), south (5); a loop
    east → north (4 → 6 → 3) offers a way round."""
    d = 0.002
    nodes = {
        1: (6.0, LAT),
        2: (6.0 - d, LAT),
        3: (6.0, LAT + d),
        4: (6.0 + d, LAT),
        5: (6.0, LAT - d),
        6: (6.0 + d, LAT + d),
    }
    ways = [
        (10, [2, 1], {"highway": "tertiary"}),
        (11, [1, 3], {"highway": "tertiary"}),
        (12, [1, 4], {"highway": "tertiary"}),
        (13, [1, 5], {"highway": "tertiary"}),
        (14, [4, 6, 3], {"highway": "tertiary"}),
    ]
    rel = []
    if restriction:
        rel = [(100, [("way", 10, "from"), ("node", 1, "via"), ("way", 11, "to")], restriction)]
    base, turned = _graphs(_osm(tmp_path / "x.osm", nodes, ways, rel))
    o = _points(base, [nodes[2]], "o")
    s = _points(base, [nodes[3]], "s")
    return turned, o, s, base


def test_no_left_turn_relation_is_obeyed(tmp_path: Path) -> None:
    free, o, s, _ = _crossing(tmp_path, None)
    banned, o2, s2, _ = _crossing(tmp_path, {"type": "restriction", "restriction": "no_left_turn"})
    a = nearest_site(free, o, s)
    b = nearest_site(banned, o2, s2)
    # west → north: left at the crossing, 157 m + 222 m; banned: round by the east loop,
    # 157 + 157 + 222 + 157 m
    assert a["dist_km"].iloc[0] == pytest.approx(0.379, abs=0.005)
    assert b["dist_km"].iloc[0] == pytest.approx(0.693, abs=0.005)
    assert b["time_min"].iloc[0] > a["time_min"].iloc[0]
    # an exception for cars voids the restriction
    exc, o3, s3, _ = _crossing(
        tmp_path,
        {"type": "restriction", "restriction": "no_left_turn", "except": "motorcar"},
    )
    assert nearest_site(exc, o3, s3)["dist_km"].iloc[0] == pytest.approx(a["dist_km"].iloc[0])


def test_only_straight_on_forbids_the_turn(tmp_path: Path) -> None:
    only, o, s, _ = _crossing(tmp_path, {"type": "restriction", "restriction": "only_straight_on"})
    # only_straight_on from west with to=north (mapped as 'to' way 11): going north is
    # the only move allowed, so the direct route stays
    assert nearest_site(only, o, s)["dist_km"].iloc[0] == pytest.approx(0.379, abs=0.005)


def test_turns_cost_time_and_straight_costs_nothing() -> None:
    theta = np.radians([0.0, 30.0, 90.0, 150.0])
    loss = _turn_loss_s(theta, np.full(4, 50.0), np.full(4, 50.0))
    assert loss[0] == 0.0
    assert loss[1] == 0.0  # a 30° bend is taken at 54 km/h: no loss at 50
    assert loss[3] > loss[2] > 0  # sharper turns lose more time
    assert loss[2] == pytest.approx(2.9, abs=0.5)  # 50 → ~20 km/h → 50 at 2 and 1.5 m/s²


def test_turn_graph_is_expanded_only_at_junctions(andorra_graph) -> None:  # type: ignore[no-untyped-def]
    practical_meta = {**andorra_graph.meta, "speed_table": "practical"}
    g = apply_profile(andorra_graph.replace(meta=practical_meta), "practical")
    tg = turn_graph(g)
    rep = tg.report
    assert 0 < rep["expanded_nodes"] < g.n_nodes
    assert tg.n_states < 3 * g.n_edges
    assert rep["u_turns_forbidden"] > 0


# --------------------------------------------------------------------------- properties


def _turned(n: int, edges: list):  # type: ignore[no-untyped-def]
    g = graph_from_edges(n, edges)
    return g.replace(meta={**g.meta, "turns": True})


@PROPS
@given(problems())
def test_nearest_is_min_of_the_matrix_on_turn_graph(prob: tuple) -> None:  # type: ignore[type-arg]
    n, edges, sites, origins, s_off, o_off = prob
    g = _turned(n, edges)
    o = snapped_points(g, origins, o_off)
    s = snapped_points(g, sites, s_off, "s")
    res, m = nearest_equals_matrix_minimum(g, o, s)
    srt = np.sort(np.where(np.isnan(m.time_min), np.inf, m.time_min), axis=1)
    if srt.shape[1] > 1:
        second = srt[:, 1]
        got2 = res["time2_min"].to_numpy()
        f2 = np.isfinite(second)
        assert np.allclose(got2[f2], second[f2], rtol=1e-9, atol=1e-9)


@PROPS
@given(problems(), st.integers(0, 13), st.floats(0.0, 60.0))
def test_new_site_never_lengthens_a_trip_on_turn_graph(prob: tuple, extra: int, off: float) -> None:  # type: ignore[type-arg]
    n, edges, sites, origins, s_off, o_off = prob
    extra = extra % n
    g = _turned(n, edges)
    o = snapped_points(g, origins, o_off)
    before = nearest_site(g, o, snapped_points(g, sites, s_off, "s"))["time_min"].to_numpy()
    after = nearest_site(g, o, snapped_points(g, [*sites, extra], [*s_off, off], "s"))
    a = after["time_min"].to_numpy()
    fin = np.isfinite(before)
    assert np.all(a[fin] <= before[fin] + 1e-9)


@PROPS
@given(problems(), st.data())
def test_closure_never_shortens_a_trip_on_turn_graph(prob: tuple, data: st.DataObject) -> None:  # type: ignore[type-arg]
    n, edges, sites, origins, s_off, o_off = prob
    g = _turned(n, edges)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=g.n_ways, max_size=g.n_ways)))
    g2 = g.without_ways(mask, reason="test")
    o = snapped_points(g, origins, o_off)
    s = snapped_points(g, sites, s_off, "s")
    before = nearest_site(g, o, s)["time_min"].to_numpy()
    try:
        after = nearest_site(g2, o, s)["time_min"].to_numpy()
    except Exception:  # every site cut off: nothing to compare
        return
    b = np.where(np.isnan(before), np.inf, before)
    a = np.where(np.isnan(after), np.inf, after)
    assert np.all(a >= b - 1e-9)


def _destination_fixture(tmp_path: Path) -> tuple:  # type: ignore[type-arg]
    """A detour (tertiary 1-2-3-4-5-6, a U: 157 + 444 + 472 + 444 + 157 m) and a short
    street with access=destination (2-7-5, 472 m) joining its sides; a site at 6, origins
    at 1 and on the destination street (7)."""
    d = 0.002
    nodes = {
        1: (6.0 - d, LAT),
        2: (6.0, LAT),
        3: (6.0, LAT + 2 * d),
        4: (6.0 + 3 * d, LAT + 2 * d),
        5: (6.0 + 3 * d, LAT),
        6: (6.0 + 4 * d, LAT),
        7: (6.0 + 1.5 * d, LAT),
    }
    ways = [
        (1, [1, 2], {"highway": "tertiary"}),
        (2, [2, 3, 4, 5], {"highway": "tertiary"}),
        (3, [5, 6], {"highway": "tertiary"}),
        (4, [2, 7, 5], {"highway": "residential", "access": "destination"}),
    ]
    base, turned = _graphs(_osm(tmp_path / "dest.osm", nodes, ways))
    return base, turned, nodes


def test_destination_street_is_used_only_at_trip_ends(tmp_path: Path) -> None:
    base, turned, nodes = _destination_fixture(tmp_path)
    site = _points(base, [nodes[6]], "s")
    through = _points(base, [nodes[1]], "o")
    inside = _points(base, [nodes[7]], "o")
    # node graph: straight through the destination street (157 + 472 + 157 m)
    assert nearest_site(base, through, site)["dist_km"].iloc[0] == pytest.approx(0.79, abs=0.02)
    # with access rules: round by the tertiary road
    assert nearest_site(turned, through, site)["dist_km"].iloc[0] == pytest.approx(1.674, abs=0.01)
    # a trip that starts on the destination street uses it to leave
    assert nearest_site(turned, inside, site)["dist_km"].iloc[0] == pytest.approx(0.39, abs=0.02)
    # and a trip may end on it
    back = nearest_site(turned, _points(base, [nodes[1]], "o"), _points(base, [nodes[7]], "s"))
    assert back["dist_km"].iloc[0] == pytest.approx(0.39, abs=0.02)


@settings(max_examples=200, deadline=None)
@given(
    v_kmh=st.floats(10.0, 130.0),
    u_kmh=st.floats(0.0, 130.0),
    a=st.floats(0.5, 4.0),
    room=st.floats(0.0, 2_000.0),
)
def test_speed_change_within_the_room_of_the_road(
    v_kmh: float, u_kmh: float, a: float, room: float
) -> None:
    """A speed change never loses more than with unlimited room, nor more than covering
    the whole room at the junction speed would; it is continuous where the room is just
    enough."""
    from msapgeo.turns import _phase_loss_s

    v, u = v_kmh / 3.6, min(u_kmh, v_kmh) / 3.6
    loss = float(_phase_loss_s(np.array([v_kmh]), np.array([u]), a, np.array([room]))[0])
    full = (v - u) ** 2 / (2 * a * v)
    assert -1e-9 <= loss <= full + 1e-9
    if u > 0:
        assert loss <= room / u - room / v + 1e-9
    need = (v**2 - u**2) / (2 * a)
    at_need = float(_phase_loss_s(np.array([v_kmh]), np.array([u]), a, np.array([need]))[0])
    assert at_need == pytest.approx(full, rel=1e-6, abs=1e-9)


def test_close_junctions_share_their_slow_down() -> None:
    """Braking 50 → 20 km/h takes 40 m at 2 m/s²: on a 30 m block the car cannot reach
    50 km/h, so the loss is smaller than on an open road."""
    from msapgeo.turns import _phase_loss_s

    u = np.array([20 / 3.6])
    open_road = _phase_loss_s(np.array([50.0]), u, 2.0, np.array([np.inf]))[0]
    block = _phase_loss_s(np.array([50.0]), u, 2.0, np.array([15.0]))[0]
    assert 0 < block < 0.8 * open_road  # 0.91 s instead of 1.25 s


def test_start_states_added_per_query_agree_everywhere(andorra_graph) -> None:  # type: ignore[no-untyped-def]
    """The turn graph has no start state per junction: a query adds one for each junction
    it starts from. Origins placed exactly on junctions (a site's own junction included)
    get the same times whether routed as a few origins, through the matrix, or as every
    node at once (node_times); at a site's own junction the time is 0."""
    from msapgeo.routing import node_times

    meta = {**andorra_graph.meta, "speed_table": "practical"}
    g = apply_profile(andorra_graph.replace(meta=meta), "practical")
    tg = turn_graph(g)
    junctions = np.flatnonzero(tg.start < 0)
    rng = np.random.default_rng(5)
    o_nodes = rng.choice(junctions, 60, replace=False)
    s_nodes = np.concatenate([o_nodes[:3], rng.choice(g.n_nodes, 5, replace=False)])
    o = snapped_points(g, o_nodes, np.zeros(60))
    s = snapped_points(g, s_nodes, np.zeros(len(s_nodes)), "s")
    near = nearest_site(g, o, s)["time_min"].to_numpy()
    assert np.allclose(near[:3], 0.0, atol=1e-9)
    m = od_matrix(g, o, s).time_min
    assert np.allclose(near, np.nanmin(m, axis=1), rtol=1e-12, equal_nan=True)
    split, every = node_times(g, s)
    idx = split.node_index(g.node_osmid[o_nodes])
    assert np.allclose(near, every[idx], rtol=1e-12, equal_nan=True)
    assert np.isfinite(near).sum() > 50


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4)), max_size=40),
    st.lists(
        st.tuples(
            st.sampled_from(["no_left_turn", "only_straight_on", "no_u_turn", "only_right_turn"]),
            st.integers(1, 5),
            st.integers(1, 4),
            st.integers(1, 5),
        ),
        max_size=8,
    ),
)
def test_restrictions_by_lookup_equal_one_mask_per_relation(
    transitions: list[tuple[int, int, int]], relations: list[tuple[str, int, int, int]]
) -> None:
    """The sorted lookups forbid what one full mask per relation forbade (the method of
    stop 19, which cost relations × transitions), and count the same relations applied."""
    key = np.array(transitions, np.int64).reshape(-1, 3)
    allowed = np.ones(len(key), bool)
    n_ref = 0
    for kind, f_id, via, t_id in relations:
        hit = (key[:, 0] == f_id) & (key[:, 1] == via)
        if not hit.any():
            continue
        n_ref += 1
        if kind.startswith("only_"):
            allowed &= ~(hit & (key[:, 2] != t_id))
        else:
            allowed &= ~(hit & (key[:, 2] == t_id))
    forbidden, n = _restricted([list(r) for r in relations], key[:, 0], key[:, 1], key[:, 2])
    assert np.array_equal(forbidden, ~allowed)
    assert n == n_ref
