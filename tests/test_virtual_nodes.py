"""Points snapped inside an edge are virtual nodes: the graph is neither split nor rebuilt.

On the node-based graph a virtual node must give exactly the times of the graph split at
the point (the previous way of routing them), whatever the points: several on one edge,
origins and sites on the same edge in either order, one-way roads, loops. On the
turn-expanded graph the properties of a model must still hold with such points.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from msapgeo.graph import RoutingGraph
from msapgeo.routing import nearest_site, od_matrix
from tests.conftest import nearest_equals_matrix_minimum

PROPS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def way_graphs(draw: st.DrawFn) -> tuple[RoutingGraph, np.ndarray, np.ndarray, list, list]:
    """A graph whose ways have 0–3 shape points, and points snapped on any vertex."""
    n = draw(st.integers(2, 8))
    n_ways = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xy = rng.uniform([6.0, 44.5], [6.05, 44.55], size=(n, 2))
    osm, lon, lat, junction, ptr, fwd, bwd = [], [], [], [], [0], [], []
    next_id = 1000
    for _ in range(n_ways):
        u, v = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        inner = draw(st.integers(0 if u != v else 2, 3))
        ids = [u + 1, *range(next_id, next_id + inner), v + 1]
        next_id += inner
        f = np.linspace(0, 1, inner + 2)
        bend = rng.uniform(-0.002, 0.002, size=(inner + 2, 2)) * (f * (1 - f))[:, None] * 4
        pts = xy[u] * (1 - f)[:, None] + xy[v] * f[:, None] + bend
        osm += ids
        lon += list(pts[:, 0])
        lat += list(pts[:, 1])
        junction += [True] + [False] * inner + [True]
        ptr.append(ptr[-1] + len(ids))
        direction = draw(st.sampled_from(["both", "fwd", "bwd"]))
        fwd.append(direction != "bwd")
        bwd.append(direction != "fwd")
    m = len(osm)
    seg_len = rng.uniform(50, 800, m)
    last = np.array(ptr[1:]) - 1
    seg_len[last] = 0.0
    speed_f = rng.uniform(8, 25, m)
    speed_b = rng.uniform(8, 25, m)
    k = len(ptr) - 1
    g = RoutingGraph(
        vx_osmid=np.array(osm, np.int64),
        vx_lon=np.array(lon),
        vx_lat=np.array(lat),
        vx_junction=np.array(junction),
        seg_len_m=seg_len,
        seg_time_fwd_s=seg_len / speed_f,
        seg_time_bwd_s=seg_len / speed_b,
        seg_src_fwd=rng.integers(0, 2, m).astype(np.uint8),
        seg_src_bwd=rng.integers(0, 2, m).astype(np.uint8),
        way_id=np.arange(1, k + 1, dtype=np.int64),
        way_ptr=np.array(ptr, np.int64),
        way_fwd=np.array(fwd),
        way_bwd=np.array(bwd),
        way_highway=np.array(["tertiary"] * k),
        way_name=np.array([""] * k),
        way_ref=np.array([""] * k),
        way_oneway=np.array(["no"] * k),
        way_maxspeed=np.array([""] * k),
        way_tags=np.array(["{}"] * k),
        meta={"profile": "legal", "source_file": "synthetic"},
    )
    vertices = st.integers(0, m - 1)
    origins = np.array(draw(st.lists(vertices, min_size=1, max_size=8)))
    sites = np.array(draw(st.lists(vertices, min_size=1, max_size=4, unique=True)))
    o_off = draw(st.lists(st.floats(0.0, 60.0), min_size=len(origins), max_size=len(origins)))
    s_off = draw(st.lists(st.floats(0.0, 60.0), min_size=len(sites), max_size=len(sites)))
    return g, origins, sites, o_off, s_off


def _points(g: RoutingGraph, vx: np.ndarray, off: list, prefix: str) -> gpd.GeoDataFrame:
    off_s = np.asarray(off, float)
    return gpd.GeoDataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(vx))],
            "site_id": [f"{prefix}{i}" for i in range(len(vx))],
            "node_osmid": g.vx_osmid[vx],
            "snap_m": off_s * 10.0,
            "snap_time_s": off_s,
            "exclusion": pd.Series([pd.NA] * len(vx), dtype="string"),
        },
        geometry=gpd.points_from_xy(g.vx_lon[vx], g.vx_lat[vx]),
        crs="EPSG:4326",
    )


def _split_oracle(g: RoutingGraph, o_vx: np.ndarray, s_vx: np.ndarray, o_off, s_off):  # type: ignore[no-untyped-def]
    """Times (s) and lengths (m) origin × site on the graph split at every point."""
    split = g.with_nodes(np.concatenate([g.vx_osmid[o_vx], g.vx_osmid[s_vx]]))
    o = split.node_index(g.vx_osmid[o_vx])
    s = split.node_index(g.vx_osmid[s_vx])
    d = csgraph.dijkstra(split.csr, directed=True, indices=o)
    return d[:, s] + np.asarray(s_off)[None, :] + np.asarray(o_off)[:, None]


@PROPS
@given(way_graphs())
def test_virtual_nodes_give_the_times_of_the_split_graph(case: tuple) -> None:  # type: ignore[type-arg]
    g, o_vx, s_vx, o_off, s_off = case
    o, s = _points(g, o_vx, o_off, "o"), _points(g, s_vx, s_off, "s")
    ref = _split_oracle(g, o_vx, s_vx, o_off, s_off)
    m = od_matrix(g, o, s, defaults=True)
    got = np.where(np.isnan(m.time_min), np.inf, m.time_min * 60)
    assert np.allclose(got, ref, rtol=1e-9, atol=1e-6)
    best = ref.min(axis=1)
    res = nearest_site(g, o, s)
    fin = np.isfinite(best)
    assert np.allclose(res["time_min"].to_numpy()[fin] * 60, best[fin], rtol=1e-9, atol=1e-6)
    assert res["time_min"].isna().to_numpy()[~fin].all()
    # the route length of each pair is that of a fastest path of the split graph
    split = g.with_nodes(np.concatenate([g.vx_osmid[o_vx], g.vx_osmid[s_vx]]))
    sm = od_matrix(split, o, s, defaults=True)
    both = np.isfinite(got) & np.isfinite(ref)
    assert np.allclose(m.time_min[both], sm.time_min[both], rtol=1e-9, atol=1e-9)
    # of each route's length, the part at default speeds is no more than the whole
    assert m.dist_km is not None
    assert m.default_km is not None
    assert (m.default_km[both] <= m.dist_km[both] + 1e-9).all()
    if len(s_vx) > 1:
        second = np.sort(ref, axis=1)[:, 1]
        f2 = np.isfinite(second)
        got2 = res["time2_min"].to_numpy() * 60
        assert np.allclose(got2[f2], second[f2], rtol=1e-9, atol=1e-6)


@PROPS
@given(way_graphs(), st.integers(0, 10_000), st.floats(0.0, 60.0))
def test_turn_graph_with_virtual_nodes_keeps_the_model_properties(
    case: tuple,  # type: ignore[type-arg]
    extra: int,
    off: float,
) -> None:
    """On the turn-expanded graph: the nearest site is the row minimum of the matrix, and
    a new site (anywhere, inside an edge too) never lengthens a trip."""
    g, o_vx, s_vx, o_off, s_off = case
    g = g.replace(meta={**g.meta, "turns": True})
    o, s = _points(g, o_vx, o_off, "o"), _points(g, s_vx, s_off, "s")
    res, _ = nearest_equals_matrix_minimum(g, o, s)
    got = res["time_min"].to_numpy()
    fin = np.isfinite(got)
    new = extra % len(g.vx_osmid)
    more = _points(g, np.append(s_vx, new), [*s_off, off], "s")
    after = nearest_site(g, o, more)["time_min"].to_numpy()
    assert np.all(after[fin] <= got[fin] + 1e-9)


def _street(oneway: bool) -> RoutingGraph:
    """One straight street of five 100 m segments at 10 m/s, vertices 0..5, ends at
    nodes; forward only when ``oneway``."""
    lon = 6.0 + np.arange(6) * 0.0013
    return RoutingGraph(
        vx_osmid=np.arange(1, 7, dtype=np.int64),
        vx_lon=lon,
        vx_lat=np.full(6, 44.5),
        vx_junction=np.array([True, False, False, False, False, True]),
        seg_len_m=np.array([100.0] * 5 + [0.0]),
        seg_time_fwd_s=np.array([10.0] * 5 + [0.0]),
        seg_time_bwd_s=np.array([10.0] * 5 + [0.0]),
        seg_src_fwd=np.zeros(6, np.uint8),
        seg_src_bwd=np.zeros(6, np.uint8),
        way_id=np.array([1]),
        way_ptr=np.array([0, 6]),
        way_fwd=np.array([True]),
        way_bwd=np.array([not oneway]),
        way_highway=np.array(["residential"]),
        way_name=np.array([""]),
        way_ref=np.array([""]),
        way_oneway=np.array(["yes" if oneway else "no"]),
        way_maxspeed=np.array([""]),
        way_tags=np.array(["{}"]),
        meta={"profile": "legal", "source_file": "synthetic"},
    )


@pytest.mark.parametrize("turns", [False, True])
def test_origin_and_site_on_the_same_street(turns: bool) -> None:
    """Hand-checked: on a two-way street, 2 → 4 takes two segments either way round; on a
    one-way street, a site behind the origin cannot be reached."""
    two = _street(oneway=False)
    one = _street(oneway=True)
    if turns:
        two = two.replace(meta={**two.meta, "turns": True})
        one = one.replace(meta={**one.meta, "turns": True})
    o = _points(two, np.array([2, 4, 3]), [0.0, 0.0, 0.0], "o")
    s = _points(two, np.array([4]), [0.0], "s")
    res = nearest_site(two, o, s)
    assert res["time_min"].to_numpy() * 60 == pytest.approx([20.0, 0.0, 10.0])
    assert res["dist_km"].to_numpy() == pytest.approx([0.2, 0.0, 0.1])
    res1 = nearest_site(one, o, s)
    assert res1["time_min"].to_numpy()[[0, 1, 2]] * 60 == pytest.approx([20.0, 0.0, 10.0])
    ahead, behind = _points(one, np.array([4]), [0.0], "o"), _points(one, np.array([2]), [0.0], "s")
    back = nearest_site(one, ahead, behind)
    assert not back["reachable"].iloc[0]
    # the site at the street's end node, the origin inside it
    inside, end_node = (
        _points(one, np.array([1]), [0.0], "o"),
        _points(one, np.array([5]), [0.0], "s"),
    )
    end = nearest_site(one, inside, end_node)
    assert end["time_min"].iloc[0] * 60 == pytest.approx(40.0)


def test_routing_never_rebuilds_the_graph(andorra_graph: RoutingGraph) -> None:
    """Origins and sites snapped in the middle of streets: the graph is routed as it is,
    no split graph is made or kept."""
    g = andorra_graph.replace()
    mid = np.flatnonzero(~g.vx_junction & g.vx_in_lscc)
    o = _points(g, mid[:30], [0.0] * 30, "o")
    s = _points(g, mid[30:35], [0.0] * 5, "s")
    res = nearest_site(g, o, s)
    assert res["reachable"].all()
    assert "_with_nodes" not in g.__dict__
