"""Planning benchmark: candidate matrix and maximal covering on a ~10^5-node graph.

Usage::

    .venv/bin/python benchmarks/bench_planning.py

Prints the time of the 200 candidates × 200 communes matrix (one routing run per site,
batched, on the reversed graph) and of maximal covering for k = 1..5 (exact, HiGHS) on it,
plus p-median and set covering for reference. Targets: under 5 s each.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import grid_graph, snapped_points

from msapgeo import planning


def main() -> None:
    g = grid_graph(10**5)
    _ = g.csr_reverse
    rng = np.random.default_rng(0)
    nodes = rng.choice(g.n_nodes, 420, replace=False)
    origins = snapped_points(g, nodes[:200], "c", rng.integers(50, 5000, 200).astype(float))
    existing = snapped_points(g, nodes[200:220], "fs")
    cands = snapped_points(g, nodes[220:420], "cand")
    rows = []
    t0 = time.perf_counter()
    m = planning.candidate_matrix(g, origins, existing, cands)
    rows.append(
        ("candidate matrix 200 communes × (20 existing + 200 candidates)", time.perf_counter() - t0)
    )
    threshold = float(np.nanpercentile(m.time_min[:, : m.n_existing].min(axis=1), 50))
    t0 = time.perf_counter()
    cut = planning.candidate_matrix(g, origins, existing, cands, limit_min=threshold)
    rows.append(
        (
            f"same matrix with a {threshold:.1f}-min limit (coverage unchanged: "
            f"{bool((cut.covered(threshold) == m.covered(threshold)).all())})",
            time.perf_counter() - t0,
        )
    )
    for k in range(1, 6):
        t0 = time.perf_counter()
        r = planning.maximal_covering(m, k, threshold)
        rows.append(
            (
                f"maximal covering k={k} (T={threshold:.1f} min): objective "
                f"{r.objective:,.0f}, {r.method}",
                time.perf_counter() - t0,
            )
        )
    t0 = time.perf_counter()
    r = planning.p_median(m, 5)
    rows.append((f"p-median k=5: {r.method}, gap {r.gap_pct:.2g} %", time.perf_counter() - t0))
    t0 = time.perf_counter()
    r = planning.p_median(m, 5, method="heuristic")
    rows.append(
        (f"p-median k=5 greedy+swap: gap to LP bound {r.gap_pct:.2g} %", time.perf_counter() - t0)
    )
    t0 = time.perf_counter()
    r = planning.set_covering(m, threshold)
    rows.append(
        (f"set covering T={threshold:.1f}: {int(r.objective)} sites", time.perf_counter() - t0)
    )
    print(f"graph: {g.n_nodes:,} nodes, {g.n_edges:,} edges (synthetic grid)")
    print("| step | time (s) |\n|:--|--:|")
    for label, s in rows:
        print(f"| {label} | {s:.3f} |")


if __name__ == "__main__":
    main()
