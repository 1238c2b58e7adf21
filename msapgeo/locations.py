"""Location models: choose new sites (maximal covering, p-median, set covering).

The models read one origin × (existing + candidate) matrix computed once by
:func:`candidate_matrix` (routing results, never re-routing) and reused across every
``k`` and threshold.

Models (existing sites always kept)
-----------------------------------
* **Maximal covering** (Church & ReVelle 1974): ``k`` new sites maximising the population
  within ``T`` minutes of a site.
* **p-median** (Hakimi 1964): ``k`` new sites minimising the population-weighted time to
  the nearest site.
* **Set covering** (Toregas et al. 1971): the fewest new sites so that every origin is
  within ``T`` minutes; origins no candidate can serve within ``T`` are reported, not
  silently dropped.

Exact solutions use :func:`scipy.optimize.milp` (HiGHS). For instances too large for it,
a greedy-plus-swap heuristic is used and its optimality gap against the LP-relaxation
bound is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.i18n import t as t_
from msapgeo.places import ensure_snapped
from msapgeo.routing import nearest_site, od_matrix, od_pairs

#: Cost (minutes) of an unreachable origin–site pair in the p-median.
UNREACHABLE_MIN = 1_000.0
#: Largest number of p-median assignment variables solved exactly by default.
EXACT_MAX_VARIABLES = 2_000_000
#: Largest number of origin–candidate pairs for which the LP-relaxation bound is computed;
#: beyond it (a national instance: 35,000 × 3,000) the heuristic runs without a bound and
#: says so (``bound`` and ``gap_pct`` are NaN).
BOUND_MAX_VARIABLES = 20_000_000
#: Columns of the candidate matrix processed at once by the heuristics (memory bound).
HEURISTIC_CHUNK = 256


@dataclass
class CandidateMatrix:
    """Origin × (existing + candidate) times, computed once and reused across models.

    Attributes
    ----------
    time_min
        ``(n_origins, n_existing + n_candidates)`` minutes, NaN where unreachable; for a
        sparse matrix (``pairs`` set), only the ``n_existing`` columns.
    weights
        Demand of each origin (population, or 1 per origin).
    origin_ids, site_ids
        Labels.
    n_existing
        The first ``n_existing`` columns are existing sites, always kept.
    pairs
        ``None`` for a dense matrix; else the candidates' columns as a
        ``scipy.sparse.csc_matrix`` of minutes holding only the pairs within ``limit_min``
        (:func:`msapgeo.routing.od_pairs`): the models read it without a dense matrix of
        origins × candidates (a pair beyond the limit counts as unreachable).
    limit_min
        The search limit of the candidates' columns (``None``: no limit).
    """

    time_min: np.ndarray
    weights: np.ndarray
    origin_ids: np.ndarray
    site_ids: np.ndarray
    n_existing: int
    notes: list[str] = field(default_factory=list)
    pairs: sparse.csc_matrix | None = None
    limit_min: float | None = None

    @property
    def n_candidates(self) -> int:
        """Number of candidate columns."""
        if self.pairs is not None:
            return int(self.pairs.shape[1])
        return int(self.time_min.shape[1] - self.n_existing)

    @property
    def is_sparse(self) -> bool:
        """Whether the candidates' columns are held as pairs within the limit."""
        return self.pairs is not None

    def dense(self) -> CandidateMatrix:
        """The same matrix with every column dense (NaN beyond the limit): for the exact
        models on instances small enough for them."""
        if self.pairs is None:
            return self
        cand = np.full(self.pairs.shape, np.nan)
        col = np.repeat(np.arange(self.pairs.shape[1]), np.diff(self.pairs.indptr))
        cand[self.pairs.indices, col] = self.pairs.data
        return CandidateMatrix(
            time_min=np.hstack([self.time_min[:, : self.n_existing], cand]),
            weights=self.weights,
            origin_ids=self.origin_ids,
            site_ids=self.site_ids,
            n_existing=self.n_existing,
            notes=list(self.notes),
            limit_min=self.limit_min,
        )

    def existing_min(self) -> np.ndarray:
        """Time (min) of each origin to its nearest existing site, ``inf`` when none."""
        t = self.time_min[:, : self.n_existing]
        return np.asarray(np.where(np.isfinite(t), t, np.inf).min(axis=1, initial=np.inf))

    def covered(self, threshold_min: float) -> np.ndarray:
        """Boolean coverage matrix: site j serves origin i within the threshold (dense)."""
        t = self.dense().time_min
        return np.asarray(np.isfinite(t) & (t <= threshold_min))


#: Above this many origin × candidate cells, :func:`candidate_matrix` with a time limit
#: keeps only the pairs within it (80 MB of dense float64).
DENSE_MAX_CELLS = 10_000_000


def candidate_matrix(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    weight: str = "population",
    origin_id: str | None = None,
    limit_min: float | None = None,
    sparse_pairs: bool | None = None,
) -> CandidateMatrix:
    """Route once from every origin to the existing sites and to every candidate.

    The existing sites, always kept, form one column: the time to the nearest of them,
    from a single multi-source search. Each candidate is its own column.

    Parameters
    ----------
    graph
        Routing graph.
    origins
        Demand points.
    existing, candidates
        Sites (``site_id``); candidates off the network raise an error that names them.
    weight
        ``"population"`` (origins without one weigh 0, noted) or ``"count"`` (1 each).
    origin_id
        Identifier column of the origins.
    limit_min
        Time limit of the candidates' searches (:func:`msapgeo.routing.od_matrix`): a
        coverage model at a threshold up to the limit is unchanged; p-median then treats
        the pairs beyond it as unreachable.
    sparse_pairs
        Keep only the candidate pairs within ``limit_min`` (:attr:`CandidateMatrix.pairs`);
        default: when there is a limit and more than :data:`DENSE_MAX_CELLS` origin ×
        candidate cells.
    """
    cand = ensure_snapped(graph, candidates)
    off = cand[cand["exclusion"].notna()]
    if len(off):
        raise InputError(
            "candidate(s) off the network: "
            + "; ".join(f"{r.get('site_id')}: {r['exclusion']}" for _, r in off.head(10).iterrows())
        )
    ex = ensure_snapped(graph, existing)
    ex = ex[ex["exclusion"].isna()]
    notes = []
    if sparse_pairs is None:
        sparse_pairs = limit_min is not None and len(origins) * len(cand) > DENSE_MAX_CELLS
    if sparse_pairs and limit_min is None:
        raise InputError("sparse_pairs needs limit_min: the pairs kept are those within it")
    pairs = None
    if sparse_pairs:
        assert limit_min is not None
        op = od_pairs(
            graph, origins, cand, origin_id=origin_id, site_id="site_id", limit_min=limit_min
        )
        pairs, cand_time = op.time_min, np.zeros((len(origins), 0))
        origin_ids, cand_ids = op.origin_ids, op.site_ids
    else:
        cm = od_matrix(
            graph,
            origins,
            cand,
            origin_id=origin_id,
            site_id="site_id",
            distances=False,
            limit_min=limit_min,
        )
        cand_time, origin_ids, cand_ids = cm.time_min, cm.origin_ids, cm.site_ids
    if len(ex):
        near = nearest_site(graph, origins, ex, site_id="site_id", second=False, distances=False)
        t_ex = near["time_min"].to_numpy(float)[:, None]
        ex_ids = np.array(["existing sites (nearest)"])
    else:
        t_ex = np.zeros((len(origins), 0))
        ex_ids = np.zeros(0, dtype=str)
    time_min = np.hstack([t_ex, cand_time])
    site_ids = np.concatenate([ex_ids, cand_ids])
    if weight == "count":
        w = np.ones(len(origins))
    elif weight == "population":
        w = pd.to_numeric(origins.get("population"), errors="coerce").to_numpy(float)
        n_unknown = int(np.isnan(w).sum())
        if n_unknown:
            notes.append(f"{n_unknown} origins without population weigh 0")
        w = np.nan_to_num(w)
    else:
        raise InputError(f"weight {weight!r}: choose 'population' or 'count'")
    return CandidateMatrix(
        time_min=time_min,
        weights=w,
        origin_ids=origin_ids,
        site_ids=site_ids,
        n_existing=t_ex.shape[1],
        notes=notes,
        pairs=pairs,
        limit_min=limit_min,
    )


# --------------------------------------------------------------------------- models


@dataclass
class PlanResult:
    """Solution of a location model.

    Attributes
    ----------
    model
        ``maximal_covering``, ``p_median`` or ``set_covering``.
    chosen
        Candidate site ids opened (existing sites are kept in every model).
    objective
        Covered population (maximal covering), population-weighted total time in minutes
        (p-median) or number of sites opened in total, existing included (set covering).
    bound
        LP-relaxation bound of the objective; ``gap_pct`` is the relative gap to it.
    method
        ``exact (HiGHS)`` or ``greedy+swap``.
    """

    model: str
    k: int | None
    threshold_min: float | None
    chosen: list[str]
    objective: float
    bound: float
    gap_pct: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """A flat row for tables."""
        return {
            "model": self.model,
            "k": self.k,
            "threshold_min": self.threshold_min,
            "chosen": ", ".join(self.chosen),
            "objective": self.objective,
            "bound": self.bound,
            "gap_pct": self.gap_pct,
            "method": self.method,
            **self.details,
        }


def nearest_times(m: CandidateMatrix, chosen: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Time (min) of every origin to its nearest site before and after opening ``chosen``.

    Read from the matrix, no routing: before = existing sites, after = existing + chosen.
    NaN where no site is reachable.
    """
    cols = [m.n_existing + j for j, s in enumerate(m.site_ids[m.n_existing :]) if s in set(chosen)]
    if m.pairs is not None:
        before = m.existing_min()
        after = _with_columns(before, m.pairs, [c - m.n_existing for c in cols])
        return np.where(np.isfinite(before), before, np.nan), np.where(
            np.isfinite(after), after, np.nan
        )
    t = np.where(np.isfinite(m.time_min), m.time_min, np.inf)
    before = t[:, : m.n_existing].min(axis=1, initial=np.inf)
    after = np.minimum(before, t[:, cols].min(axis=1, initial=np.inf))
    return np.where(np.isfinite(before), before, np.nan), np.where(
        np.isfinite(after), after, np.nan
    )


def _with_columns(
    best: np.ndarray, pairs: sparse.csc_matrix, cols: Sequence[int] | np.ndarray
) -> np.ndarray:
    """``best`` lowered by the pairs of the given columns (element-wise minimum)."""
    out = best.copy()
    for j in cols:
        lo, hi = pairs.indptr[j], pairs.indptr[j + 1]
        rows = pairs.indices[lo:hi]
        out[rows] = np.minimum(out[rows], pairs.data[lo:hi])
    return out


def _use_sparse(m: CandidateMatrix, method: str) -> bool:
    """Whether a model reads the pairs as they are (a large sparse matrix, heuristic)."""
    big = len(m.origin_ids) * m.n_candidates > DENSE_MAX_CELLS
    return m.pairs is not None and big and method != "exact"


def _check_threshold(m: CandidateMatrix, threshold_min: float) -> None:
    if m.limit_min is not None and threshold_min > m.limit_min + 1e-9:
        raise InputError(
            f"threshold {threshold_min} min is beyond the matrix's search limit "
            f"({m.limit_min} min): build the candidate matrix with limit_min >= the threshold"
        )


def _check_k(m: CandidateMatrix, k: int) -> None:
    if k < 0 or k > m.n_candidates:
        raise InputError(f"k = {k}: choose between 0 and the {m.n_candidates} candidates")


def _gap(obj: float, bound: float, maximise: bool) -> float:
    if not np.isfinite(bound):
        return float("nan")  # no bound computed: the gap is unknown, not zero
    if bound == 0:
        return 0.0
    gap = 100 * ((bound - obj) if maximise else (obj - bound)) / abs(bound)
    return float(max(gap, 0.0)) if abs(gap) > 1e-9 else 0.0


def maximal_covering(
    m: CandidateMatrix, k: int, threshold_min: float, *, method: str = "auto"
) -> PlanResult:
    """Open ``k`` candidates maximising the weight within ``threshold_min`` of a site.

    On a large sparse matrix (:attr:`CandidateMatrix.pairs`) the heuristic reads the pairs
    within the threshold directly (no dense coverage matrix)."""
    _check_k(m, k)
    _check_threshold(m, threshold_min)
    if _use_sparse(m, method):
        chosen, obj, base = _maximal_covering_pairs(m, k, threshold_min)
        return _covering_result(m, k, threshold_min, chosen, obj, float("nan"), "greedy+swap", base)
    m = m.dense()
    cov = m.covered(threshold_min)
    pre = cov[:, : m.n_existing].any(axis=1)
    a = cov[~pre, m.n_existing :]
    w = m.weights[~pre]
    base = float(m.weights[pre].sum())
    nc, no = a.shape[1], a.shape[0]
    if nc * no <= BOUND_MAX_VARIABLES:
        bound = _mclp_solve(a, w, k, relax=True)[0] + base
    else:
        bound = float("nan")
    if method == "auto":
        method = "exact" if nc * no <= EXACT_MAX_VARIABLES else "heuristic"
    if method == "exact":
        val, x = _mclp_solve(a, w, k, relax=False)
        chosen = np.flatnonzero(x > 0.5)
        name = "exact (HiGHS)"
    else:
        chosen = _cover_greedy_swap(sparse.csc_matrix(a), w, k)
        val = _cover_value(a, w, chosen)
        name = "greedy+swap"
    return _covering_result(m, k, threshold_min, chosen, val + base, bound, name, base)


def _covering_result(
    m: CandidateMatrix,
    k: int,
    threshold_min: float,
    chosen: np.ndarray,
    obj: float,
    bound: float,
    method: str,
    base: float,
) -> PlanResult:
    return PlanResult(
        "maximal_covering",
        k,
        threshold_min,
        [str(m.site_ids[m.n_existing + j]) for j in chosen],
        obj,
        bound,
        _gap(obj, bound, True),
        method,
        {"covered_by_existing": base, "total_weight": float(m.weights.sum())},
    )


def _maximal_covering_pairs(
    m: CandidateMatrix, k: int, threshold_min: float
) -> tuple[np.ndarray, float, float]:
    """Maximal covering, greedy + swap, on the pairs of a sparse candidate matrix:
    the candidates chosen, the weight covered (existing sites included) and the weight
    the existing sites cover."""
    assert m.pairs is not None
    pre = m.existing_min() <= threshold_min
    p = m.pairs
    within = p.data <= threshold_min
    col = np.repeat(np.arange(p.shape[1]), np.diff(p.indptr))
    keep = within & ~pre[p.indices]
    left = np.flatnonzero(~pre)
    row_of = np.full(len(pre), -1, np.int64)
    row_of[left] = np.arange(len(left))
    a = sparse.csc_matrix(
        (np.ones(int(keep.sum())), (row_of[p.indices[keep]], col[keep])),
        shape=(len(left), p.shape[1]),
    )
    w = m.weights[left]
    base = float(m.weights[pre].sum())
    chosen = _cover_greedy_swap(a, w, k)
    hit = np.asarray(a[:, chosen].sum(axis=1)).ravel() > 0 if len(chosen) else np.zeros(0, bool)
    obj = float(w[hit].sum()) + base if len(chosen) else base
    return chosen, obj, base


def _cover_value(a: np.ndarray, w: np.ndarray, chosen: np.ndarray | list[int]) -> float:
    if len(chosen) == 0:
        return 0.0
    return float(w[a[:, list(chosen)].any(axis=1)].sum())


def _mclp_solve(a: np.ndarray, w: np.ndarray, k: int, *, relax: bool) -> tuple[float, np.ndarray]:
    no, nc = a.shape
    if no == 0 or nc == 0 or k == 0:
        return 0.0, np.zeros(nc)
    # variables: x_j (nc), y_i (no); max w.y  <=> min -w.y
    c = np.concatenate([np.zeros(nc), -w])
    # y_i - sum_j a_ij x_j <= 0
    A1 = sparse.hstack([-sparse.csr_matrix(a.astype(float)), sparse.identity(no)])
    A2 = sparse.hstack([sparse.csr_matrix(np.ones((1, nc))), sparse.csr_matrix((1, no))])
    cons = [LinearConstraint(A1, -np.inf, 0), LinearConstraint(A2, k, k)]
    integ = np.zeros(nc + no) if relax else np.concatenate([np.ones(nc), np.zeros(no)])
    res = milp(c, constraints=cons, integrality=integ, bounds=Bounds(0, 1))
    if res.x is None:  # pragma: no cover
        raise RuntimeError(f"HiGHS failed on maximal covering: {res.message}")
    return float(-res.fun), res.x[:nc]


def _cover_greedy_swap(
    a: sparse.csc_matrix, w: np.ndarray, k: int, *, max_rounds: int = 50
) -> np.ndarray:
    """Maximal covering by greedy additions then vertex substitution (Teitz & Bart 1968),
    vectorised on the sparse coverage matrix ``a`` (origins × candidates): each step is one
    sparse product, so a national instance (35,000 × 3,000 pairs within the threshold)
    runs in seconds. The result is a local optimum: no single swap covers more."""
    no, nc = a.shape
    k = min(k, nc)
    at = a.T.tocsr()
    count = np.zeros(no, np.int64)
    chosen: list[int] = []
    for _ in range(k):
        gain = at @ np.where(count == 0, w, 0.0)
        gain[chosen] = -np.inf
        j = int(np.argmax(gain))
        chosen.append(j)
        count += a[:, j].toarray().ravel().astype(np.int64)
    for _ in range(max_rounds):
        improved = False
        for pos in range(len(chosen)):
            r = chosen[pos]
            col_r = a[:, r].toarray().ravel().astype(np.int64)
            without = count - col_r
            lost = float(w[(without == 0) & (col_r > 0)].sum())
            gain = at @ np.where(without == 0, w, 0.0)
            gain[chosen] = -np.inf
            j = int(np.argmax(gain))
            if gain[j] > lost + 1e-9:
                chosen[pos] = j
                count = without + a[:, j].toarray().ravel().astype(np.int64)
                improved = True
        if not improved:
            break
    return np.array(sorted(chosen), dtype=int)


def _median_greedy_swap(
    ex_best: np.ndarray, cand: np.ndarray, w: np.ndarray, k: int, *, max_rounds: int = 50
) -> np.ndarray:
    """p-median by greedy additions then vertex substitution (Teitz & Bart 1968),
    vectorised over the candidates in chunks of :data:`HEURISTIC_CHUNK` columns: one step
    costs origins × candidates operations, whatever ``k``. The result is a local optimum:
    no single swap lowers the weighted time."""
    nc = cand.shape[1]
    k = min(k, nc)

    def totals(best: np.ndarray) -> np.ndarray:
        """Weighted total time when each candidate is added to a solution of ``best``."""
        out = np.empty(nc)
        for c0 in range(0, nc, HEURISTIC_CHUNK):
            block = cand[:, c0 : c0 + HEURISTIC_CHUNK]
            out[c0 : c0 + block.shape[1]] = w @ np.minimum(best[:, None], block)
        return out

    best = ex_best.copy()
    chosen: list[int] = []
    for _ in range(k):
        tot = totals(best)
        tot[chosen] = np.inf
        j = int(np.argmin(tot))
        chosen.append(j)
        best = np.minimum(best, cand[:, j])
    current = float(w @ best)
    for _ in range(max_rounds):
        improved = False
        for pos in range(len(chosen)):
            others = [c for i, c in enumerate(chosen) if i != pos]
            without = np.minimum(ex_best, cand[:, others].min(axis=1)) if others else ex_best
            tot = totals(without)
            tot[chosen] = np.inf
            j = int(np.argmin(tot))
            if tot[j] < current - 1e-9:
                chosen[pos] = j
                current = float(tot[j])
                improved = True
        if not improved:
            break
    return np.array(sorted(chosen), dtype=int)


def p_median(m: CandidateMatrix, k: int, *, method: str = "auto") -> PlanResult:
    """Open ``k`` candidates minimising the weighted time to the nearest site (minutes).

    Origins that no site, existing or candidate, can reach are left out (listed in
    ``details["unreachable_origins"]``); a pair that is unreachable costs
    :data:`UNREACHABLE_MIN` minutes. On a large sparse matrix
    (:attr:`CandidateMatrix.pairs`) the heuristic reads the pairs as they are: a pair
    beyond the search limit is unreachable.
    """
    _check_k(m, k)
    if _use_sparse(m, method):
        chosen, val, tot, unreachable = _p_median_pairs(m, k)
        return _median_result(m, k, chosen, val, float("nan"), "greedy+swap", tot, unreachable)
    m = m.dense()
    reach = np.isfinite(m.time_min).any(axis=1)
    unreachable = [str(x) for x in m.origin_ids[~reach]]
    t = np.where(np.isfinite(m.time_min), m.time_min, UNREACHABLE_MIN)[reach]
    w = m.weights[reach]
    no, ns = t.shape
    fixed = np.zeros(ns, bool)
    fixed[: m.n_existing] = True
    bound = (
        _pmedian_solve(t, w, fixed, k, relax=True)[0]
        if no * ns <= BOUND_MAX_VARIABLES
        else float("nan")
    )
    if method == "auto":
        method = "exact" if no * ns <= EXACT_MAX_VARIABLES else "heuristic"
    if method == "exact":
        val, x = _pmedian_solve(t, w, fixed, k, relax=False)
        chosen = np.flatnonzero(x[m.n_existing :] > 0.5)
        name = "exact (HiGHS)"
    else:
        ex_best = t[:, : m.n_existing].min(axis=1) if m.n_existing else np.full(no, np.inf)
        cand = t[:, m.n_existing :]
        chosen = _median_greedy_swap(ex_best, cand, w, k)
        best = np.minimum(ex_best, cand[:, chosen].min(axis=1)) if len(chosen) else ex_best
        val = float((w * best).sum())
        name = "greedy+swap"
    return _median_result(m, k, chosen, val, bound, name, float(w.sum()), unreachable)


def _median_result(
    m: CandidateMatrix,
    k: int,
    chosen: np.ndarray,
    val: float,
    bound: float,
    method: str,
    tot_w: float,
    unreachable: list[str],
) -> PlanResult:
    return PlanResult(
        "p_median",
        k,
        None,
        [str(m.site_ids[m.n_existing + j]) for j in chosen],
        val,
        bound,
        _gap(val, bound, False),
        method,
        {
            "mean_time_min_weighted": val / tot_w if tot_w else float("nan"),
            "unreachable_origins": unreachable,
        },
    )


def _p_median_pairs(m: CandidateMatrix, k: int) -> tuple[np.ndarray, float, float, list[str]]:
    """p-median, greedy + swap, on the pairs of a sparse candidate matrix: the candidates
    chosen, the weighted total time, the weight routed and the origins left out."""
    assert m.pairs is not None
    ex = m.existing_min()
    has_pair = np.bincount(m.pairs.indices, minlength=len(ex)) > 0
    reach = np.isfinite(ex) | has_pair
    unreachable = [str(x) for x in m.origin_ids[~reach]]
    keep = np.flatnonzero(reach)
    pairs = sparse.csc_matrix(m.pairs[keep])
    ex_cost = np.where(np.isfinite(ex), ex, UNREACHABLE_MIN)[keep]
    w = m.weights[keep]
    chosen = _median_greedy_swap_pairs(ex_cost, pairs, w, k)
    val = float(w @ _with_columns(ex_cost, pairs, chosen))
    return chosen, val, float(w.sum()), unreachable


def _median_greedy_swap_pairs(
    ex_cost: np.ndarray, pairs: sparse.csc_matrix, w: np.ndarray, k: int, *, max_rounds: int = 50
) -> np.ndarray:
    """:func:`_median_greedy_swap` on the pairs of a sparse matrix: the weighted time
    each candidate saves is summed over its own pairs only (a pair it lacks saves
    nothing), so one step costs the number of pairs, not origins × candidates."""
    nc = pairs.shape[1]
    k = min(k, nc)
    col = np.repeat(np.arange(nc), np.diff(pairs.indptr))
    rows, t = pairs.indices, pairs.data
    w_rows = w[rows]

    def saved(best: np.ndarray) -> np.ndarray:
        return np.bincount(col, weights=np.maximum(best[rows] - t, 0.0) * w_rows, minlength=nc)

    best = ex_cost.copy()
    chosen: list[int] = []
    for _ in range(k):
        gain = saved(best)
        gain[chosen] = -np.inf
        j = int(np.argmax(gain))
        chosen.append(j)
        best = _with_columns(best, pairs, [j])
    current = float(w @ best)
    for _ in range(max_rounds):
        improved = False
        for pos in range(len(chosen)):
            others = [c for i, c in enumerate(chosen) if i != pos]
            without = _with_columns(ex_cost, pairs, others)
            gain = saved(without)
            gain[chosen] = -np.inf
            j = int(np.argmax(gain))
            total = float(w @ without) - float(gain[j])
            if total < current - 1e-9:
                chosen[pos] = j
                current = total
                improved = True
        if not improved:
            break
    return np.array(sorted(chosen), dtype=int)


def _pmedian_solve(
    t: np.ndarray, w: np.ndarray, fixed: np.ndarray, k: int, *, relax: bool
) -> tuple[float, np.ndarray]:
    no, ns = t.shape
    nz = no * ns
    # variables: x_j (ns), z_ij (no*ns, row-major)
    c = np.concatenate([np.zeros(ns), (w[:, None] * t).ravel()])
    rows = np.repeat(np.arange(no), ns)
    assign = sparse.hstack(
        [
            sparse.csr_matrix((no, ns)),
            sparse.csr_matrix((np.ones(nz), (rows, np.arange(nz))), (no, nz)),
        ]
    )
    # z_ij - x_j <= 0
    link = sparse.hstack(
        [
            -sparse.csr_matrix(
                (np.ones(nz), (np.arange(nz), np.tile(np.arange(ns), no))), (nz, ns)
            ),
            sparse.identity(nz, format="csr"),
        ]
    )
    count = sparse.hstack([sparse.csr_matrix(np.ones((1, ns))), sparse.csr_matrix((1, nz))])
    n_open = int(fixed.sum()) + k
    cons = [
        LinearConstraint(assign, 1, 1),
        LinearConstraint(link, -np.inf, 0),
        LinearConstraint(count, n_open, n_open),
    ]
    lb = np.zeros(ns + nz)
    lb[:ns][fixed] = 1
    integ = np.zeros(ns + nz) if relax else np.concatenate([np.ones(ns), np.zeros(nz)])
    res = milp(c, constraints=cons, integrality=integ, bounds=Bounds(lb, 1))
    if res.x is None:  # pragma: no cover
        raise RuntimeError(f"HiGHS failed on p-median: {res.message}")
    return float(res.fun), res.x[:ns]


def set_covering(m: CandidateMatrix, threshold_min: float, *, method: str = "auto") -> PlanResult:
    """The fewest candidates so that every origin is within ``threshold_min`` (existing kept).

    Origins that no site, existing or candidate, serves within the threshold cannot be
    covered: they are listed in ``details["uncoverable"]`` and left out of the constraints.
    """
    _check_threshold(m, threshold_min)
    cov = m.covered(threshold_min)
    pre = cov[:, : m.n_existing].any(axis=1)
    a = cov[~pre, m.n_existing :]
    ids = m.origin_ids[~pre]
    can = a.any(axis=1)
    uncoverable = [str(x) for x in ids[~can]]
    a = a[can]
    if len(a) == 0:
        chosen = np.zeros(0, int)
        bound, name = 0.0, "trivial"
    else:
        bound = _lscp_solve(a, relax=True)[0]
        if method == "auto":
            method = "exact" if a.size <= 20 * EXACT_MAX_VARIABLES else "heuristic"
        if method == "exact":
            _, x = _lscp_solve(a, relax=False)
            chosen = np.flatnonzero(x > 0.5)
            name = "exact (HiGHS)"
        else:
            left = np.ones(len(a), bool)
            sel: list[int] = []
            while left.any():
                j = int(a[left].sum(axis=0).argmax())
                sel.append(j)
                left &= ~a[:, j]
            chosen = np.array(sorted(sel))
            name = "greedy"
    obj = float(len(chosen) + m.n_existing)
    return PlanResult(
        "set_covering",
        len(chosen),
        threshold_min,
        [str(m.site_ids[m.n_existing + j]) for j in chosen],
        obj,
        bound + m.n_existing,
        _gap(obj, bound + m.n_existing, False),
        name,
        {"uncoverable": uncoverable, "n_uncoverable": len(uncoverable)},
    )


def _lscp_solve(a: np.ndarray, *, relax: bool) -> tuple[float, np.ndarray]:
    nc = a.shape[1]
    cons = [LinearConstraint(sparse.csr_matrix(a.astype(float)), 1, np.inf)]
    res = milp(
        np.ones(nc),
        constraints=cons,
        integrality=np.zeros(nc) if relax else np.ones(nc),
        bounds=Bounds(0, 1),
    )
    if res.x is None:  # pragma: no cover
        raise RuntimeError(f"HiGHS failed on set covering: {res.message}")
    return float(res.fun), res.x


OBJECTIVE_UNITS: dict[str, str] = {
    "maximal_covering": "habitants couverts (sites existants compris)",
    "p_median": "temps total pondéré par la population (habitants × minutes)",
    "set_covering": "sites nécessaires au total (existants compris)",
}
#: The models' names, in French, for the outputs (``model`` keeps the code).
MODEL_LABELS: dict[str, str] = {
    "maximal_covering": "couverture maximale",
    "p_median": "p-médiane (temps moyen minimal)",
    "set_covering": "couverture totale (nombre minimal de sites)",
}


def optimise(
    m: CandidateMatrix,
    ks: Sequence[int],
    thresholds: Sequence[float],
    *,
    method: str = "auto",
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Run the three models over several ``k`` and thresholds on one matrix; one row each.

    Each row also says what its objective counts (``objective_unit``), how many people and
    origins the existing sites already cover at its threshold (``already_covered_population``,
    ``already_covered_origins``), the gain of the new sites in people (``gain_population``)
    and, with ``names`` (site id → name), the chosen sites by name (``chosen_names``).
    """
    rows = []
    for th in thresholds:
        for k in ks:
            rows.append(maximal_covering(m, k, th, method=method).as_row())
        rows.append(set_covering(m, th, method=method).as_row())
    for k in ks:
        rows.append(p_median(m, k, method=method).as_row())
    out = pd.DataFrame(rows)
    out.insert(1, "model_label", [t_(MODEL_LABELS[x]) for x in out["model"]])
    out["objective_unit"] = [t_(OBJECTIVE_UNITS[x]) for x in out["model"]]
    base = {}
    for th in thresholds:
        cov = m.existing_min() <= th
        base[th] = (float(m.weights[cov].sum()), int(cov.sum()))
    th_col = out["threshold_min"]
    out["already_covered_population"] = [
        base[t][0] if pd.notna(t) and t in base else np.nan for t in th_col
    ]
    out["already_covered_origins"] = [
        base[t][1] if pd.notna(t) and t in base else np.nan for t in th_col
    ]
    mc = out["model"] == "maximal_covering"
    out["gain_population"] = np.where(
        mc, out["objective"] - out["already_covered_population"], np.nan
    )
    if names is not None:
        out["chosen_names"] = [
            ", ".join(names.get(c.strip(), c.strip()) for c in str(ch).split(",") if c.strip())
            for ch in out["chosen"]
        ]
    return out
