"""Sums along the paths of a shortest-path tree: a walk compiled with numba, or numpy.

A search from a site (:func:`scipy.sparse.csgraph.dijkstra` with predecessors) gives the
fastest time to every node and the tree of fastest routes; the length of each route (and
its km at default speeds) is the sum of its edges' lengths along the tree. Summing them
for the origins only is a walk up the tree from each origin that stops at the first
node already summed: every tree node on a route to an origin is visited once, and no
other. In vectorised numpy the same sums took pointer doubling over every reached node
(``log2(depth)`` rounds over the whole tree; on a 10^6-node grid 1.5–1.7× the time of the
search itself); compiled, the walk costs a few per cent of it (16 trees: 3.8 s against
0.14 s, ``benchmarks/bench_matrix.py``). numba compiles the walk on its first call and
caches the machine code beside the module (``cache=True``), so later processes load it;
importing numba and loading that code costs ~0.3 s once per process, so small problems
(below :data:`COMPILED_MIN_WORK` trees × nodes: a département's nearest site or matrix)
keep pointer doubling, as fast there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import cast

import numpy as np


def _tree_path_sums(
    indptr: np.ndarray,
    indices: np.ndarray,
    pred: np.ndarray,
    targets: np.ndarray,
    values: np.ndarray,
    out: np.ndarray,
) -> int:
    b, n = pred.shape
    q = values.shape[0]
    acc = np.zeros((q, n))
    done_in = np.full(n, -1, np.int64)  # the tree (row of pred) a node was summed in
    stack = np.empty(n, np.int64)
    for r in range(b):
        up = pred[r]
        for k in range(targets.shape[0]):
            t = targets[k]
            if up[t] < 0:  # a root, or not reached: nothing to sum
                continue
            top = 0
            v = t
            while v >= 0 and done_in[v] != r:
                if top == n:  # longer than the tree: pred holds a cycle
                    return 1
                stack[top] = v
                top += 1
                v = up[v]
            while top > 0:  # down again, from the highest node not summed yet
                top -= 1
                u = stack[top]
                p = up[u]
                done_in[u] = r
                if p < 0:  # the root
                    for j in range(q):
                        acc[j, u] = 0.0
                    continue
                e = indptr[p]  # the entry p -> u (one per pair: the matrix is canonical)
                while e < indptr[p + 1] and indices[e] != u:
                    e += 1
                if e == indptr[p + 1]:  # no such entry: pred is not this graph's
                    return 2
                for j in range(q):
                    acc[j, u] = acc[j, p] + values[j, e]
            for j in range(q):
                out[j, r, k] = acc[j, t]
    return 0


_Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], int]


@cache
def _compiled() -> _Kernel:
    # numba is imported on first use: importing it costs ~0.25 s, which a run that never
    # asks for route lengths (or a command's start) should not pay
    from numba import njit

    return cast(_Kernel, njit(cache=True, nogil=True)(_tree_path_sums))


#: Trees × nodes from which the compiled walk is used: below it, pointer doubling in
#: numpy is as fast (département graphs stay in the CPU caches) and a process does not
#: pay numba's import and loading of the compiled code (~0.3 s once).
COMPILED_MIN_WORK = 1_000_000


def tree_path_sums(
    indptr: np.ndarray,
    indices: np.ndarray,
    pred: np.ndarray,
    targets: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Sums of per-entry values along the tree path from the root to each target.

    Parameters
    ----------
    indptr, indices
        CSR structure of the searched graph: canonical (at most one entry per ordered
        pair of nodes), so that a tree edge ``pred[v] -> v`` is one entry.
    pred
        Predecessors from csgraph, shape ``(b, n)`` (one tree per row; negative at the
        roots and at the nodes not reached).
    targets
        Node indices, shape ``(t,)``.
    values
        Shape ``(q, nnz)``: ``q`` quantities per entry (e.g. metres, metres at default
        speeds), aligned with ``indices``.
    rows
        The row of each entry (``int32``), when the caller keeps it for repeated calls
        on one graph (used by pointer doubling; computed when not given).

    Returns
    -------
    numpy.ndarray
        Shape ``(q, b, t)``: the sums of each quantity along each tree's path to each
        target; 0 at a root and where the target is not reached.

    Raises
    ------
    ValueError
        Inputs of different graphs, or predecessors that are not a forest.

    Notes
    -----
    From :data:`COMPILED_MIN_WORK` trees × nodes the compiled walk
    (:func:`_tree_path_sums`), below it pointer doubling (:func:`doubling_path_sums`):
    the same sums (up to the order of the additions, ~1e-12 relative).
    """
    pred2 = np.ascontiguousarray(np.atleast_2d(pred))
    vals = np.ascontiguousarray(np.atleast_2d(values), dtype=np.float64)
    tg = np.ascontiguousarray(targets, dtype=np.int64)
    out = np.zeros((vals.shape[0], pred2.shape[0], len(tg)))
    if not (pred2.size and len(tg)):
        return out
    # the compiled loop does not check bounds: its inputs are checked here
    n = pred2.shape[1]
    if tg.min() < 0 or tg.max() >= n or pred2.max() >= n:
        raise ValueError("targets or predecessors outside the tree")
    if vals.shape[1] != len(indices) or len(indptr) != n + 1 or indptr[-1] != len(indices):
        raise ValueError("values, indptr and indices do not describe one graph")
    if pred2.size < COMPILED_MIN_WORK:
        if rows is None or len(rows) != len(indices):
            rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
        return doubling_path_sums(rows, indices, pred2, tg, vals)
    status = _compiled()(
        np.ascontiguousarray(indptr), np.ascontiguousarray(indices), pred2, tg, vals, out
    )
    if status:
        raise ValueError(
            "predecessors hold a cycle" if status == 1 else "a tree edge is not in the graph"
        )
    return out


def doubling_path_sums(
    rows: np.ndarray,
    indices: np.ndarray,
    pred: np.ndarray,
    targets: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """:func:`tree_path_sums` by pointer doubling in numpy (inputs as checked there;
    ``rows`` = the row of each entry).

    Every reached node first holds the value of the edge to its parent; each round adds
    the value held by its current ancestor and jumps to that ancestor's ancestor, so
    ``ceil(log2(depth))`` vectorised rounds give every node its whole path sum.
    """
    b, n = pred.shape
    q = values.shape[0]
    out = np.zeros((q, b, len(targets)))
    for r in range(b):
        anc = pred[r].astype(np.int64)
        reached = np.flatnonzero(anc >= 0)
        # the tree edge of each reached node: the one entry (p -> c) whose row is c's
        # predecessor, found in one pass over the entries
        tree = np.flatnonzero(pred[r][indices] == rows)
        edge_of = np.full(n, -1, np.int64)
        edge_of[indices[tree]] = tree
        edge = edge_of[reached]
        if (edge < 0).any():
            raise ValueError("a tree edge is not in the graph")
        accs = [np.zeros(n) for _ in range(q)]  # 1-D each: faster than a (q, n) array
        for acc, v in zip(accs, values, strict=True):
            acc[reached] = v[edge]
        anc[anc < 0] = -1
        live = reached
        for _ in range(64):  # depth < 2**64: more rounds mean a cycle
            if not len(live):
                break
            up = anc[live]
            anc_up = anc[up]
            for acc in accs:
                acc[live] += acc[up]
            anc[live] = anc_up
            live = live[anc_up >= 0]
        else:
            raise ValueError("predecessors hold a cycle")
        for j, acc in enumerate(accs):
            out[j, r] = acc[targets]
    return out
