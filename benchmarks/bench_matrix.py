"""od_matrix with route lengths against times only, side by side in one run.

Usage::

    .venv/bin/python benchmarks/bench_matrix.py [--quick]

On synthetic grids of ~10^5 and ~10^6 nodes (``--quick``: 10^5 only), 1,000 origins × 16
sites on graph nodes, best of 3: the matrix of times only, then with route lengths
(a compiled walk up each search's predecessor tree), then with the km at default
speeds too. Printed: seconds and the ratios to the times-only matrix (target of the
France-scale issue: ≤ 1.5×). (Earlier, in vectorised numpy: the same walk one step per
round for all origins, 3.8× and 2.6× the times-only matrix on these deep trees; pointer
doubling over every reached node, 1.5–1.7×.)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import grid_graph, snapped_points

import msapgeo as mg


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the 10^6-node grid")
    args = ap.parse_args()
    print(
        "| graph | nodes | times only (s) | + lengths (s) | + lengths and default km (s) "
        "| lengths / times | lengths and default km / times |"
    )
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for n in [10**5] + ([] if args.quick else [10**6]):
        g = grid_graph(n)
        _ = g.csr_reverse
        rng = np.random.default_rng(0)
        nodes = rng.choice(g.n_nodes, 1016, replace=False)
        o = snapped_points(g, nodes[:1000], "o")
        s = snapped_points(g, nodes[1000:], "s")
        mg.od_matrix(g, o, s, distances=False)  # warm
        t_times = _best(lambda: mg.od_matrix(g, o, s, distances=False))  # noqa: B023
        t_len = _best(lambda: mg.od_matrix(g, o, s, distances=True))  # noqa: B023
        t_def = _best(lambda: mg.od_matrix(g, o, s, distances=True, defaults=True))  # noqa: B023
        print(
            f"| grid ~10^{int(np.log10(n))} | {g.n_nodes:,} | {t_times:.3f} | {t_len:.3f} "
            f"| {t_def:.3f} | {t_len / t_times:.2f} | {t_def / t_times:.2f} |"
        )


if __name__ == "__main__":
    main()
