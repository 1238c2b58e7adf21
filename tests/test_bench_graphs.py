"""The benchmark's tiled real network is what it claims: copies of the real graph, joined."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csgraph

from msapgeo.graph import RoutingGraph
from msapgeo.routing import _turn_graph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _synthetic import tiled_graph


def test_tiled_graph_copies_the_real_network(andorra_graph: RoutingGraph) -> None:
    g = andorra_graph.replace(meta={**andorra_graph.meta, "turns": False})
    tiled = tiled_graph(g, 5)
    assert tiled.n_nodes == 5 * g.n_nodes  # link ends are existing junctions
    assert tiled.n_edges > 5 * g.n_edges
    # inside every copy, the same times as on the original, node for node
    rng = np.random.default_rng(0)
    src = rng.choice(g.n_nodes, 5, replace=False)
    ref = csgraph.dijkstra(g.csr, directed=True, indices=src)
    for c in (0, 3):
        idx = tiled.node_index(g.node_osmid + c * (int(g.vx_osmid.max()) + 1))
        assert (idx >= 0).all()
        d = csgraph.dijkstra(tiled.csr, directed=True, indices=idx[src])[:, idx]
        # the links can only shorten a trip that leaves the copy and comes back
        assert (d <= ref + 1e-6).all()
        assert np.isclose(d, ref, rtol=1e-9).mean() > 0.99
    # the copies are joined: one strongly connected component holds most of the mosaic
    _, lab = csgraph.connected_components(tiled.csr, directed=True, connection="strong")
    _, lab1 = csgraph.connected_components(g.csr, directed=True, connection="strong")
    assert np.bincount(lab).max() == 5 * np.bincount(lab1).max()
    # restrictions and controls are copied with their copy's ids
    assert len(tiled.meta["turn_restrictions"]) == 5 * len(g.meta["turn_restrictions"])
    tg = _turn_graph(tiled.replace(meta={**tiled.meta, "turns": True}))
    tg1 = _turn_graph(g.replace(meta={**g.meta, "turns": True}))
    assert tg.report["restrictions_applied"] == 5 * tg1.report["restrictions_applied"]
