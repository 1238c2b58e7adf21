"""Benchmark of msapgeo's routing and network build, measured side by side in one run.

Usage::

    make bench                     # or: .venv/bin/python benchmarks/bench_routing.py [--quick]

Routing (``nearest_site``) is compared on the Andorra 2025 graph, on synthetic grids of
about 10^4, 10^5 and 10^6 nodes (every node a four-way junction: the worst case of the
turn-expanded graph) and on real networks tiled to about 10^5 and 10^6 nodes
(:func:`_synthetic.tiled_graph`): Chamonix–Mont-Blanc 17 and 170 times, Andorra 36 and
360 times (networkx is not run on Andorra's mosaics), with:

(a) what a planner writes with osmnx/networkx: one ``nx.shortest_path_length`` per
    origin–site pair (timed on a sample of pairs, extrapolated to all pairs, marked *);
(b) networkx ``multi_source_dijkstra_path_length`` on the reversed graph;
(c) one raw ``scipy.sparse.csgraph.dijkstra(..., min_only=True)`` call: the floor.

The network build (wall time and peak resident memory, each in a fresh process) compares
``msapgeo.graph_from_osm`` with ``osmnx.graph_from_xml`` on the same OSM XML file (the
drivable ways of the Andorra extract and their nodes), and msapgeo on the PBF itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import grid_graph, snapped_points, tiled_graph

import msapgeo as mg
from msapgeo.graph import RoutingGraph
from msapgeo.routing import _turn_graph

mg.settings.progress = False


def _timeit_side_by_side(fns: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, float]:
    """Best time of each function, the functions run in turn ``repeat`` times (so that a
    slow spell of the machine falls on all of them, not on one)."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {k: float(v) for k, v in best.items()}


def _nx_graph(g: RoutingGraph) -> nx.DiGraph:
    c = g.csr.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(
        zip(c.row.tolist(), c.col.tolist(), c.data.tolist(), strict=True), weight="travel_time"
    )
    return G


def bench_routing(
    name: str,
    g: RoutingGraph,
    o_nodes: np.ndarray,
    s_nodes: np.ndarray,
    *,
    pair_sample: int,
    run_nx: bool,
) -> dict[str, object]:
    origins = snapped_points(g, o_nodes, "o")
    sites = snapped_points(g, s_nodes, "s")
    _ = g.csr_reverse  # built once for everyone (part of the graph, like nx's adjacency)
    res = mg.nearest_site(g, origins, sites)
    floor = csgraph.dijkstra(g.csr_reverse, directed=True, indices=s_nodes, min_only=True)
    ref = np.where(np.isfinite(floor[o_nodes]), floor[o_nodes], np.nan)
    assert np.allclose(res["time_min"].to_numpy() * 60, ref, atol=1e-6, equal_nan=True)
    # the practical profile routes on the turn-expanded graph (msapgeo.turns): its build
    # (first call on a graph) timed apart, then the routing once built
    gt = g.replace(meta={**g.meta, "turns": True})
    t0 = time.perf_counter()
    mg.nearest_site(gt, origins, sites, second=False, distances=False)
    t_turn_first = time.perf_counter() - t0
    # the raw csgraph search on the turn graph alone, from the states a site can be
    # reached in: what the expansion itself costs, apart from msapgeo's frame handling
    tgr = _turn_graph(gt)
    ap = tgr.arrive_ptr
    s_states = np.unique(np.concatenate([tgr.arrive_states[ap[v] : ap[v + 1]] for v in s_nodes]))
    t = _timeit_side_by_side(
        {
            "floor": lambda: csgraph.dijkstra(
                g.csr_reverse, directed=True, indices=s_nodes, min_only=True
            ),
            "ours": lambda: mg.nearest_site(g, origins, sites),
            "ours_min": lambda: mg.nearest_site(g, origins, sites, second=False, distances=False),
            "turn_min": lambda: mg.nearest_site(gt, origins, sites, second=False, distances=False),
            "turn": lambda: mg.nearest_site(gt, origins, sites),
            "turn_raw": lambda: csgraph.dijkstra(
                tgr.R, directed=True, indices=s_states, min_only=True
            ),
        }
    )
    t_floor, t_ours, t_ours_min = t["floor"], t["ours"], t["ours_min"]
    t_turn_min, t_turn, t_turn_raw = t["turn_min"], t["turn"], t["turn_raw"]
    row: dict[str, object] = {
        "turn_states_per_node": tgr.n_states / g.n_nodes,
        "turn_transitions_per_node": tgr.R.nnz / g.n_nodes,
        "edges_per_node": g.csr.nnz / g.n_nodes,
        "turns_raw_dijkstra_s": t_turn_raw,
        "turns_build_and_route_s": t_turn_first,
        "turns_s": t_turn,
        "turns_nearest_only_s": t_turn_min,
        "graph": name,
        "nodes": g.n_nodes,
        "edges": g.n_edges,
        "origins": len(o_nodes),
        "sites": len(s_nodes),
        "msapgeo_s": t_ours,
        "msapgeo_nearest_only_s": t_ours_min,
        "c_csgraph_floor_s": t_floor,
    }
    if run_nx:
        G = _nx_graph(g)
        R = G.reverse(copy=False)
        t0 = time.perf_counter()
        d = nx.multi_source_dijkstra_path_length(R, set(s_nodes.tolist()), weight="travel_time")
        row["b_nx_multi_source_s"] = time.perf_counter() - t0
        reached = o_nodes[np.isfinite(floor[o_nodes])]
        assert all(np.isclose(d[int(x)], floor[x]) for x in reached[:10])
        assert all(int(x) not in d for x in o_nodes[~np.isfinite(floor[o_nodes])])
        rng = np.random.default_rng(1)
        pairs = list(
            zip(rng.choice(o_nodes, pair_sample), rng.choice(s_nodes, pair_sample), strict=True)
        )
        t0 = time.perf_counter()
        for o, s in pairs:
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.shortest_path_length(G, int(o), int(s), weight="travel_time")
        per_pair = (time.perf_counter() - t0) / len(pairs)
        row["a_nx_per_pair_s"] = per_pair * len(o_nodes) * len(s_nodes)
        row["a_pairs_timed"] = len(pairs)
        del G, R
    return row


def _bench_random(
    name: str, g: RoutingGraph, small: bool, run_nx: bool = True
) -> dict[str, object]:
    """:func:`bench_routing` from 1,000 random origins to 50 random sites (seed 0);
    networkx's per-pair baseline timed on 100 pairs (``small``) or 10."""
    rng = np.random.default_rng(0)
    o_nodes = rng.choice(g.n_nodes, 1000, replace=False)
    s_nodes = rng.choice(g.n_nodes, 50, replace=False)
    return bench_routing(name, g, o_nodes, s_nodes, pair_sample=100 if small else 10, run_nx=run_nx)


def _drivable_xml(pbf: Path, out: Path) -> None:
    """Write the drivable ways of an extract and their nodes as OSM XML."""
    import osmium

    from msapgeo.network import KEEP_TAGS, is_drivable

    ways, refs = [], set()
    for w in osmium.FileProcessor(str(pbf), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        tags = {k: str(w.tags[k]) for k in KEEP_TAGS if k in w.tags}
        if is_drivable(tags)[0]:
            ways.append(w.id)
            refs.update(n.ref for n in w.nodes)
    keep_ways = set(ways)
    with osmium.SimpleWriter(str(out)) as wr:
        for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
            if (isinstance(obj, osmium.osm.Node) and obj.id in refs) or (
                isinstance(obj, osmium.osm.Way) and obj.id in keep_ways
            ):
                wr.add(obj)


_BUILD = {
    "msapgeo": "import msapgeo as mg, msapgeo.network, msapgeo.pipeline; "
    "mg.settings.progress=False; "
    "g = mg.graph_from_osm(P, builtup=False); n = (g.n_nodes, g.n_edges)",
    "msapgeo (with built-up areas)": "import msapgeo as mg, msapgeo.network, msapgeo.pipeline; "
    "mg.settings.progress=False; "
    "g = mg.graph_from_osm(P); n = (g.n_nodes, g.n_edges)",
    "osmnx": "import osmnx as ox; G = ox.graph_from_xml(P, simplify=True, retain_all=True); "
    "n = (G.number_of_nodes(), G.number_of_edges())",
}


def bench_build(path: Path, tool: str) -> dict[str, object]:
    code = (
        "import json, time\n"
        "def _hwm():\n"
        "    # VmHWM: peak resident set of this process (ru_maxrss survives execve on Linux)\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        f"P = {str(path)!r}\n"
        "t0 = time.perf_counter()\n"
        f"{_BUILD[tool]}\n"
        "dt = time.perf_counter() - t0\n"
        "rss = _hwm()\n"
        "print(json.dumps({'s': dt, 'peak_mb': rss, 'nodes': n[0], 'edges': n[1]}))\n"
    )
    # peak RSS of a process that only imports the same modules, to report the increment
    base_code = code.replace(_BUILD[tool], _BUILD[tool].split(";")[0] + "; n = (0, 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    base = subprocess.run(
        [sys.executable, "-c", base_code], capture_output=True, text=True, check=True
    )
    r, b = json.loads(out.stdout), json.loads(base.stdout)
    return {
        "tool": tool,
        "file": path.name,
        "build_s": r["s"],
        "peak_rss_mb": r["peak_mb"],
        "peak_rss_over_imports_mb": r["peak_mb"] - b["peak_mb"],
        "nodes": r["nodes"],
        "edges": r["edges"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the 10^6-node graph")
    args = ap.parse_args()
    if not os.environ.get("MSAPGEO_MIRROR"):
        shared = Path(__file__).resolve().parents[2] / "shared" / "data"
        if shared.is_dir():
            os.environ["MSAPGEO_MIRROR"] = str(shared)

    rows = []
    pbf = mg.fetch("osm_andorra_2025")
    feats = mg.read_features(pbf)
    g = mg.graph_from_osm(pbf, features=feats)
    origins, sites = mg.demo_places(feats)
    o = mg.snap(g, origins)
    s = mg.snap(g, sites)
    o = o[o["exclusion"].isna()]
    g2 = g.with_nodes(np.concatenate([o["node_osmid"], s["node_osmid"]]))
    o_nodes = g2.node_index(o["node_osmid"].to_numpy())
    s_nodes = np.unique(g2.node_index(s["node_osmid"].to_numpy()))
    rows.append(
        bench_routing(
            "Andorra 2025", g2, o_nodes, s_nodes, pair_sample=len(o_nodes) * 3, run_nx=True
        )
    )
    sizes = [10**4, 10**5] + ([] if args.quick else [10**6])
    for n in sizes:
        rows.append(_bench_random(f"grid ~10^{int(np.log10(n))}", grid_graph(n), n < 10**6))
    # real topology at the same sizes: the Chamonix–Mont-Blanc network (French mountain
    # roads: bends, way splits, dead ends, three-way junctions) tiled 17 and 170 times,
    # and the original OSM extract of Andorra tiled 36 and 360 times (networkx skipped)
    real = [
        ("Chamonix", mg.load_graph(mg.fetch("osm_chamonix_2022"), profile="practical"), 17, True),
        ("Andorra", mg.load_graph(pbf, features=feats, profile="practical"), 36, False),
    ]
    for name, base, copies_1e5, nx_too in real:
        for copies in [copies_1e5] + ([] if args.quick else [10 * copies_1e5]):
            mosaic = tiled_graph(base, copies)
            rows.append(_bench_random(f"{name} x{copies}", mosaic, copies < 100, run_nx=nx_too))
            del mosaic

    df = pd.DataFrame(rows)
    df["vs_a_speedup"] = df["a_nx_per_pair_s"] / df["msapgeo_s"]
    df["vs_b_speedup"] = df["b_nx_multi_source_s"] / df["msapgeo_s"]
    df["vs_c_ratio"] = df["msapgeo_s"] / df["c_csgraph_floor_s"]
    df["nearest_only_vs_c_ratio"] = df["msapgeo_nearest_only_s"] / df["c_csgraph_floor_s"]
    df["turns_nearest_only_vs_c_ratio"] = df["turns_nearest_only_s"] / df["c_csgraph_floor_s"]
    df["turns_raw_vs_c_ratio"] = df["turns_raw_dijkstra_s"] / df["c_csgraph_floor_s"]
    pd.set_option("display.width", 200)
    print("\n## nearest_site: msapgeo vs (a) nx per pair*, (b) nx multi-source, (c) csgraph floor")
    print("(msapgeo = nearest + exact second nearest + route length; nearest_only = time only)")
    cols = [
        "graph",
        "nodes",
        "edges",
        "origins",
        "sites",
        "msapgeo_s",
        "msapgeo_nearest_only_s",
        "c_csgraph_floor_s",
        "b_nx_multi_source_s",
        "a_nx_per_pair_s",
        "vs_a_speedup",
        "vs_b_speedup",
        "vs_c_ratio",
        "nearest_only_vs_c_ratio",
    ]
    print(df[cols].to_markdown(index=False, floatfmt=".4g"))
    print("\n## turn-expanded graph (practical and mountain profiles) vs the node-based floor")
    tcols = [
        "graph",
        "nodes",
        "edges_per_node",
        "turn_states_per_node",
        "turn_transitions_per_node",
        "turns_build_and_route_s",
        "turns_s",
        "turns_nearest_only_s",
        "turns_raw_dijkstra_s",
        "c_csgraph_floor_s",
        "turns_raw_vs_c_ratio",
        "turns_nearest_only_vs_c_ratio",
    ]
    print(df[tcols].to_markdown(index=False, floatfmt=".4g"))
    print("* (a) timed on a sample of pairs and extrapolated to origins × sites")

    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "andorra-drivable.osm"
        _drivable_xml(pbf, xml)
        build = [
            bench_build(xml, "msapgeo"),
            bench_build(xml, "osmnx"),
            bench_build(pbf, "msapgeo"),
            bench_build(pbf, "msapgeo (with built-up areas)"),
        ]
    b = pd.DataFrame(build)
    print("\n## network build from the Andorra 2025 extract (fresh process each)")
    print(b.to_markdown(index=False, floatfmt=".3g"))
    ours = b[(b.tool == "msapgeo") & (b.file.str.endswith(".osm"))].iloc[0]
    theirs = b[b.tool == "osmnx"].iloc[0]
    print(
        f"\nbuild on the same XML: osmnx / msapgeo = {theirs.build_s / ours.build_s:.1f}x time, "
        f"{theirs.peak_rss_over_imports_mb / max(ours.peak_rss_over_imports_mb, 1):.1f}x "
        "peak memory over imports"
    )


if __name__ == "__main__":
    main()
