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
    national()


def _synthetic_matrix(no: int, ns: int, n_ex: int, seed: int = 0) -> planning.CandidateMatrix:
    """Times of a national-like instance: origins and sites scattered over a 1,000 km
    square, time = straight-line km at 50 km/h × a detour factor of 1.3."""
    rng = np.random.default_rng(seed)
    o = rng.uniform(0, 1000, size=(no, 2))
    st = rng.uniform(0, 1000, size=(ns, 2))
    t = np.empty((no, ns))
    for c0 in range(0, ns, 500):
        d = np.hypot(
            o[:, None, 0] - st[None, c0 : c0 + 500, 0], o[:, None, 1] - st[None, c0 : c0 + 500, 1]
        )
        t[:, c0 : c0 + 500] = d * 1.3 / 50 * 60
    return planning.CandidateMatrix(
        time_min=t,
        origin_ids=np.array([f"o{i}" for i in range(no)]),
        site_ids=np.array([f"s{i}" for i in range(ns)]),
        n_existing=n_ex,
        weights=rng.integers(50, 5000, no).astype(float),
    )


def _old_greedy_swap_pmedian(m: planning.CandidateMatrix, k: int) -> float:
    """The previous landing's p-median heuristic: one objective evaluation per trial."""
    t, w, ne = m.time_min, m.weights, m.n_existing
    ex = t[:, :ne].min(axis=1)
    cand = t[:, ne:]

    def total(sel: list[int]) -> float:
        return float(w @ (np.minimum(ex, cand[:, sel].min(axis=1)) if sel else ex))

    chosen: list[int] = []
    for _ in range(k):
        best = min(
            (j for j in range(cand.shape[1]) if j not in chosen), key=lambda j: total([*chosen, j])
        )
        chosen.append(best)
    current = total(chosen)
    improved = True
    while improved:
        improved = False
        for pos in range(len(chosen)):
            for j in range(cand.shape[1]):
                if j in chosen:
                    continue
                trial = [*chosen[:pos], j, *chosen[pos + 1 :]]
                v = total(trial)
                if v < current - 1e-9:
                    chosen, current, improved = trial, v, True
    return current


def national() -> None:
    """Location models at national size (35,000 communes × 2,850 sites + 3,000 candidates:
    the heuristics, vectorised) and, side by side on a smaller instance, the previous
    heuristic against the vectorised one."""
    print("\n## location models at national size (synthetic times, no routing)")
    print("| instance | step | time (s) |\n|:--|:--|--:|")
    from msapgeo.locations import _median_greedy_swap

    small = _synthetic_matrix(10_000, 1_100, 100)
    t0 = time.perf_counter()
    old = _old_greedy_swap_pmedian(small, 5)
    t_old = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = small.time_min[:, :100].min(axis=1)
    cand = small.time_min[:, 100:]
    sel = _median_greedy_swap(ex, cand, small.weights, 5)
    new = float(small.weights @ np.minimum(ex, cand[:, sel].min(axis=1)))
    t_new = time.perf_counter() - t0
    print(f"| 10,000 × (100 + 1,000) | p-median k=5, previous greedy+swap | {t_old:.2f} |")
    print(f"| 10,000 × (100 + 1,000) | p-median k=5, vectorised greedy+swap | {t_new:.2f} |")
    print(
        f"| | previous / vectorised: {t_old / t_new:.1f}×; objectives {old:,.0f} and {new:,.0f} | |"
    )
    m = _synthetic_matrix(35_000, 5_850, 2_850)
    print(f"| 35,000 × (2,850 + 3,000) | matrix in memory: {m.time_min.nbytes / 1e9:.1f} GB | |")
    for k in (1, 10):
        t0 = time.perf_counter()
        r = planning.maximal_covering(m, k, 30.0, method="heuristic")
        print(
            f"| 35,000 × (2,850 + 3,000) | maximal covering k={k}, 30 min: "
            f"{r.objective:,.0f} covered | {time.perf_counter() - t0:.1f} |"
        )
    for k in (1, 10):
        t0 = time.perf_counter()
        r = planning.p_median(m, k, method="heuristic")
        print(
            f"| 35,000 × (2,850 + 3,000) | p-median k={k}: mean "
            f"{r.details['mean_time_min_weighted']:.2f} min | {time.perf_counter() - t0:.1f} |"
        )
    pairs_side_by_side(m)


def pairs_side_by_side(m: planning.CandidateMatrix, limit: float = 45.0) -> None:
    """The same national instance with the candidates' cells beyond a 45-minute search
    limit dropped: dense (NaN there) against the pairs kept by ``candidate_matrix(...,
    limit_min=45)`` (:attr:`CandidateMatrix.pairs`), side by side, same answers."""
    from scipy import sparse

    ne = m.n_existing
    cand = m.time_min[:, ne:].copy()
    keep = cand <= limit
    r, c = np.nonzero(keep)
    pairs = sparse.csc_matrix((cand[r, c], (r, c)), shape=cand.shape)
    cand[~keep] = np.nan
    dense = planning.CandidateMatrix(
        time_min=np.hstack([m.time_min[:, :ne], cand]),
        weights=m.weights,
        origin_ids=m.origin_ids,
        site_ids=m.site_ids,
        n_existing=ne,
        limit_min=limit,
    )
    sp = planning.CandidateMatrix(
        time_min=m.time_min[:, :ne],
        weights=m.weights,
        origin_ids=m.origin_ids,
        site_ids=m.site_ids,
        n_existing=ne,
        pairs=pairs,
        limit_min=limit,
    )
    mb_dense = dense.time_min[:, ne:].nbytes / 1e6
    mb_pairs = (pairs.data.nbytes + pairs.indices.nbytes + pairs.indptr.nbytes) / 1e6
    print(
        f"\n## 35,000 × 3,000 candidates within a {limit:.0f}-min limit: dense vs pairs "
        f"({pairs.nnz:,} pairs, {100 * pairs.nnz / cand.size:.1f} % of the cells)"
    )
    print("| step | dense (s) | pairs (s) | dense / pairs | same answer |\n|:--|--:|--:|--:|:--|")
    print(
        f"| candidates' columns in memory (MB) | {mb_dense:,.0f} | {mb_pairs:,.0f} | "
        f"{mb_dense / mb_pairs:.0f} | |"
    )
    for label, run in (
        (
            "maximal covering k=10, 30 min",
            lambda x: planning.maximal_covering(x, 10, 30.0, method="heuristic"),
        ),
        ("p-median k=10", lambda x: planning.p_median(x, 10, method="heuristic")),
    ):
        t0 = time.perf_counter()
        a = run(dense)
        t_dense = time.perf_counter() - t0
        t0 = time.perf_counter()
        b = run(sp)
        t_pairs = time.perf_counter() - t0
        same = a.chosen == b.chosen and abs(a.objective - b.objective) <= 1e-9 * abs(a.objective)
        print(f"| {label} | {t_dense:.2f} | {t_pairs:.2f} | {t_dense / t_pairs:.1f} | {same} |")


if __name__ == "__main__":
    main()
