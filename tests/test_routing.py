"""Routing: properties on random graphs (hypothesis) and hand-checked cases."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.routing import nearest_site, od_matrix
from tests.conftest import graph_from_edges, snapped_points

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(3, 14))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    raw = draw(st.lists(pairs, min_size=1, max_size=4 * n, unique=True))
    times = draw(st.lists(st.floats(1.0, 500.0), min_size=len(raw), max_size=len(raw)))
    lengths = [t * draw(st.floats(5.0, 30.0)) for t in times]
    edges = [(u, v, t, d) for (u, v), t, d in zip(raw, times, lengths, strict=True)]
    nodes = list(range(n))
    sites = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=min(4, n), unique=True))
    origins = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=n))
    s_off = draw(st.lists(st.floats(0.0, 60.0), min_size=len(sites), max_size=len(sites)))
    o_off = draw(st.lists(st.floats(0.0, 60.0), min_size=len(origins), max_size=len(origins)))
    return n, edges, sites, origins, s_off, o_off


def _oracle(n: int, edges: list, sites: list[int], origins: list[int], s_off, o_off) -> np.ndarray:
    """Times (s) origin × site by one single-source Dijkstra per origin (forward graph)."""
    g = graph_from_edges(n, edges)
    d = csgraph.dijkstra(g.csr, directed=True, indices=origins)
    return d[:, sites] + np.asarray(s_off)[None, :] + np.asarray(o_off)[:, None]


@PROPS
@given(problems())
def test_nearest_equals_min_over_single_source_runs(prob: tuple) -> None:
    n, edges, sites, origins, s_off, o_off = prob
    g = graph_from_edges(n, edges)
    res = nearest_site(g, snapped_points(g, origins, o_off), snapped_points(g, sites, s_off, "s"))
    ref = _oracle(n, edges, sites, origins, s_off, o_off)
    best = ref.min(axis=1)
    got = res["time_min"].to_numpy() * 60
    finite = np.isfinite(best)
    assert np.allclose(got[finite], best[finite], rtol=1e-9, atol=1e-6)
    assert np.isnan(got[~finite]).all()
    assert (res["reachable"].to_numpy() == finite).all()
    # the chosen site achieves the minimum
    chosen = res["site_id"].to_numpy()
    for i in np.flatnonzero(finite):
        j = int(str(chosen[i])[1:])
        assert ref[i, j] == pytest.approx(best[i], abs=1e-6)


@PROPS
@given(problems())
def test_second_nearest_is_second_smallest(prob: tuple) -> None:
    n, edges, sites, origins, s_off, o_off = prob
    g = graph_from_edges(n, edges)
    res = nearest_site(g, snapped_points(g, origins, o_off), snapped_points(g, sites, s_off, "s"))
    ref = np.sort(_oracle(n, edges, sites, origins, s_off, o_off), axis=1)
    second = ref[:, 1] if ref.shape[1] > 1 else np.full(len(origins), np.inf)
    got = res["time2_min"].to_numpy() * 60
    finite = np.isfinite(second)
    assert np.allclose(got[finite], second[finite], rtol=1e-9, atol=1e-6)
    assert np.isnan(got[~finite]).all()


@PROPS
@given(problems(), st.integers(0, 13), st.floats(0.0, 60.0))
def test_adding_a_site_never_increases_any_time(prob: tuple, extra: int, off: float) -> None:
    n, edges, sites, origins, s_off, o_off = prob
    extra = extra % n
    g = graph_from_edges(n, edges)
    o = snapped_points(g, origins, o_off)
    before = nearest_site(g, o, snapped_points(g, sites, s_off, "s"))["time_min"].to_numpy()
    after = nearest_site(g, o, snapped_points(g, [*sites, extra], [*s_off, off], "s"))
    a = after["time_min"].to_numpy()
    fin = np.isfinite(before)
    assert np.all(np.isfinite(a[fin]))
    assert np.all(a[fin] <= before[fin] + 1e-9)


@PROPS
@given(problems(), st.data())
def test_removing_edges_never_decreases_any_time(prob: tuple, data: st.DataObject) -> None:
    n, edges, sites, origins, s_off, o_off = prob
    drop = data.draw(st.sets(st.integers(0, len(edges) - 1)))
    g = graph_from_edges(n, edges)
    kept = [e for i, e in enumerate(edges) if i not in drop]
    g2 = graph_from_edges(n, kept) if kept else None
    o = snapped_points(g, origins, o_off)
    s = snapped_points(g, sites, s_off, "s")
    before = nearest_site(g, o, s)["time_min"].to_numpy()
    if g2 is None:
        return
    after = nearest_site(g2, o, s)["time_min"].to_numpy()
    b = np.where(np.isnan(before), np.inf, before)
    a = np.where(np.isnan(after), np.inf, after)
    assert np.all(a >= b - 1e-9)


@PROPS
@given(problems())
def test_od_matrix_matches_oracle_and_distances_follow_the_fastest_path(prob: tuple) -> None:
    n, edges, sites, origins, s_off, o_off = prob
    g = graph_from_edges(n, edges)
    o = snapped_points(g, origins, o_off)
    s = snapped_points(g, sites, s_off, "s")
    m = od_matrix(g, o, s)
    ref = _oracle(n, edges, sites, origins, s_off, o_off)
    got = m.time_min * 60
    fin = np.isfinite(ref)
    assert np.allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-6)
    assert np.isnan(got[~fin]).all()
    # distance: length of a time-shortest path (networkx), plus the off-network legs
    G = nx.DiGraph()
    for u, v, t, d in edges:
        if not G.has_edge(u, v) or G[u][v]["t"] > t:
            G.add_edge(u, v, t=t, d=d)
    for i, oi in enumerate(origins):
        for j, sj in enumerate(sites):
            if not fin[i, j]:
                continue
            path = nx.dijkstra_path(G, oi, sj, weight="t") if oi != sj else [oi]
            t_path = sum(G[a][b]["t"] for a, b in pairwise(path))
            if abs(t_path - (ref[i, j] - s_off[j] - o_off[i])) > 1e-6:
                continue  # equal-time paths: distance of either is valid
            d_path = sum(G[a][b]["d"] for a, b in pairwise(path))
            legs = (s_off[j] + o_off[i]) * 10.0
            alt = nx.all_shortest_paths(G, oi, sj, weight="t") if oi != sj else [[oi]]
            lengths = {round(sum(G[a][b]["d"] for a, b in pairwise(p)) + legs, 6) for p in alt}
            assert round(m.dist_km[i, j] * 1000, 6) in lengths or np.isclose(
                m.dist_km[i, j] * 1000, d_path + legs
            )


def test_unreachable_gives_nan_and_reason() -> None:
    # 0 -> 1 -> 2 ; 3 isolated; site at 2
    g = graph_from_edges(4, [(0, 1, 10.0, 100.0), (1, 2, 10.0, 100.0)])
    res = nearest_site(g, snapped_points(g, [0, 3, 2]), snapped_points(g, [2], prefix="s"))
    assert res["time_min"].iloc[0] == pytest.approx(20 / 60)
    assert res["dist_km"].iloc[0] == pytest.approx(0.2)
    assert np.isnan(res["time_min"].iloc[1])
    assert not res["reachable"].iloc[1]
    assert "aucun site accessible" in res["exclusion"].iloc[1]
    assert res["time_min"].iloc[2] == 0.0
    assert pd.isna(res["site_id"].iloc[1])


def test_direction_matters() -> None:
    # one-way 0 -> 1 only: from 1 the site at 0 is unreachable
    g = graph_from_edges(2, [(0, 1, 30.0, 300.0)])
    res = nearest_site(g, snapped_points(g, [0, 1]), snapped_points(g, [1], prefix="s"))
    assert res["time_min"].iloc[0] == pytest.approx(0.5)
    res2 = nearest_site(g, snapped_points(g, [1]), snapped_points(g, [0], prefix="s"))
    assert not res2["reachable"].iloc[0]


def test_two_sites_on_one_node_rank_by_their_offnetwork_legs() -> None:
    g = graph_from_edges(2, [(0, 1, 60.0, 600.0), (1, 0, 60.0, 600.0)])
    sites = snapped_points(g, [1, 1], [30.0, 6.0], prefix="s")
    res = nearest_site(g, snapped_points(g, [0]), sites)
    assert res["site_id"].iloc[0] == "s1"
    assert res["time_min"].iloc[0] == pytest.approx((60 + 6) / 60)
    assert res["site2_id"].iloc[0] == "s0"
    assert res["time2_min"].iloc[0] == pytest.approx((60 + 30) / 60)


def test_no_site_on_the_network_is_an_error() -> None:
    g = graph_from_edges(2, [(0, 1, 1.0, 1.0)])
    sites = snapped_points(g, [1], prefix="s")
    sites["exclusion"] = "no coordinates"
    with pytest.raises(InputError, match="no site could be placed"):
        nearest_site(g, snapped_points(g, [0]), sites)


def test_od_matrix_labels_rows_of_a_nearest_site_result_by_origin() -> None:
    g = graph_from_edges(3, [(0, 1, 10.0, 100.0), (1, 2, 10.0, 100.0), (2, 0, 10.0, 100.0)])
    o = snapped_points(g, [0, 1], prefix="o")
    s = snapped_points(g, [2], prefix="s").rename(columns={"id": "site_id"})
    res = nearest_site(g, o, s)
    assert list(res["site_id"]) == ["s0", "s0"]  # each origin's nearest site
    m = od_matrix(g, res, s)
    assert list(m.origin_ids) == ["o0", "o1"]  # rows keep the origins' own ids
    assert list(m.site_ids) == ["s0"]


def test_results_come_back_in_the_input_crs() -> None:
    g = graph_from_edges(3, [(0, 1, 10.0, 100.0), (1, 2, 10.0, 100.0), (2, 0, 10.0, 100.0)])
    import geopandas as gpd

    o = gpd.GeoDataFrame(  # not snapped: snapping works in WGS84, results come back
        {"id": ["o0", "o1"]},
        geometry=gpd.points_from_xy(g.node_lon[[0, 1]], g.node_lat[[0, 1]]),
        crs="EPSG:4326",
    ).to_crs("EPSG:2154")
    s = snapped_points(g, [2], prefix="s")
    res = nearest_site(g, o, s)
    assert res.crs.to_epsg() == 2154
    assert res["time_min"].notna().all()


def test_split_graph_is_kept_between_queries(andorra_graph: RoutingGraph) -> None:
    """Routing from snapped mid-street vertices splits the graph once and keeps it: the next
    query with the same (or fewer) vertices reuses it with its CSR and turn graph, a query
    needing more grows it, and the times are those of a fresh split."""
    g = andorra_graph.replace()  # a private copy: the cache lives on the graph object
    mid = np.flatnonzero(~g.vx_junction & g.vx_in_lscc)
    a, b = g.vx_osmid[mid[:20]], g.vx_osmid[mid[20:40]]
    first = g.with_nodes(a)
    assert first is not g
    assert g.with_nodes(a[:10]) is first  # already nodes there: the same graph
    grown = g.with_nodes(b)
    assert grown is not first
    assert np.isin(np.concatenate([a, b]), grown.node_osmid).all()  # the union
    fresh = andorra_graph.replace().with_nodes(a)
    o = fresh.node_index(a[:10])
    s = fresh.node_index(a[10:])
    t_fresh = csgraph_times(fresh, o, s)
    t_grown = csgraph_times(grown, grown.node_index(a[:10]), grown.node_index(a[10:]))
    assert np.allclose(t_fresh, t_grown, rtol=1e-12, atol=1e-9)


def csgraph_times(g: RoutingGraph, o: np.ndarray, s: np.ndarray) -> np.ndarray:
    return csgraph.dijkstra(g.csr_reverse, directed=True, indices=s, min_only=True)[o]
