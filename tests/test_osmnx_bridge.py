"""A planner's osmnx graph in, a networkx graph out: RoutingGraph.from_osmnx / to_networkx."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from msapgeo.graph import RoutingGraph
from msapgeo.network import graph_from_osm
from msapgeo.routing import nearest_site
from tests.conftest import snapped_points
from tests.hostile_fixture import osm_xml


def test_round_trip_through_networkx_keeps_every_time(andorra_graph: RoutingGraph) -> None:
    G = andorra_graph.to_networkx()
    assert G.number_of_nodes() == andorra_graph.n_nodes
    assert G.number_of_edges() == andorra_graph.n_edges
    back = RoutingGraph.from_osmnx(G)
    rng = np.random.default_rng(0)
    nodes = rng.choice(andorra_graph.n_nodes, 40, replace=False)
    o_idx, s_idx = nodes[:30], nodes[30:]
    # the same nodes in both graphs, by OSM id
    o1 = snapped_points(andorra_graph, list(o_idx), prefix="o")
    s1 = snapped_points(andorra_graph, list(s_idx), prefix="s")
    a = nearest_site(andorra_graph, o1, s1)
    b = nearest_site(back, o1, s1)
    ok = a["time_min"].notna()
    assert np.allclose(a.loc[ok, "time_min"], b.loc[ok, "time_min"], rtol=1e-9)
    assert np.allclose(a.loc[ok, "dist_km"], b.loc[ok, "dist_km"], rtol=1e-6)
    # networkx agrees on one pair
    u, v = int(andorra_graph.node_osmid[o_idx[0]]), int(andorra_graph.node_osmid[s_idx[0]])
    if nx.has_path(G, u, v):
        t = nx.shortest_path_length(G, u, v, weight="travel_time")
        assert t >= a["time_min"].iloc[0] * 60 - 1e-6  # nearest of 10 sites is not slower


def test_osmnx_graph_from_xml(tmp_path: Path) -> None:
    f = tmp_path / "fixture.osm"
    f.write_text(osm_xml())
    G = ox.graph_from_xml(f, simplify=True, retain_all=True)
    ours = graph_from_osm(f, progress=False)
    g = RoutingGraph.from_osmnx(G)  # no travel_time on G: French legal model, rural
    assert g.n_edges == G.number_of_edges()
    speeds = g.edges["speed_kmh"]
    assert np.allclose(speeds[g.way_highway[g.edges["way"]] == "tertiary"], 80.0)
    # osmnx's own travel times are kept when present
    G2 = ox.add_edge_travel_times(ox.add_edge_speeds(G, fallback=50))
    g2 = RoutingGraph.from_osmnx(G2)
    tt = np.array([d["travel_time"] for *_, d in G2.edges(data=True)])
    assert np.sort(g2.edges["time_s"]) == pytest.approx(np.sort(tt), rel=1e-6)
    assert ours.n_nodes > 0
