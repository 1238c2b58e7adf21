"""Planning: what-if evaluation and the location models, cross-checked against PySAL spopt."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spopt.locate import LSCP, MCLP, PMedian

from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.pipeline import demo_places
from msapgeo.planning import (
    CandidateMatrix,
    candidate_matrix,
    evaluate,
    maximal_covering,
    optimise,
    p_median,
    set_covering,
    sites_from_communes,
    sites_from_points,
)

SOLVER = pulp.PULP_CBC_CMD(msg=False)


@pytest.fixture(scope="module")
def region(andorra_graph: RoutingGraph, andorra_features) -> tuple:  # type: ignore[no-untyped-def]
    origins, sites = demo_places(andorra_features)
    origins["insee_com"] = origins["id"]
    existing = sites[sites["amenity"] == "townhall"].reset_index(drop=True)
    posts = sites[sites["amenity"] == "post_office"].reset_index(drop=True)
    return andorra_graph, origins, existing, posts


@pytest.fixture(scope="module")
def matrix(region: tuple) -> CandidateMatrix:
    g, origins, existing, _ = region
    ok = origins[origins["id"] != "node/6312742113"]  # Ràmio: off the network
    cands = sites_from_communes(ok, ok["insee_com"].tolist())
    return candidate_matrix(g, origins, existing, cands, weight="count")


def test_evaluate_a_new_site_at_a_commune(region: tuple) -> None:
    g, origins, existing, _ = region
    far = "node/9717817533"  # a hamlet far from every town hall
    add = sites_from_communes(origins, [far])
    ev = evaluate(g, origins, existing, add=add)
    row = ev.communes.set_index("id").loc[far]
    assert row["time_after_min"] < row["time_before_min"]
    assert row["site_after"] == f"candidate/{far}"
    both = ev.communes["time_before_min"].notna()
    c = ev.communes[both]
    assert (c["time_after_min"] <= c["time_before_min"] + 1e-9).all()
    assert ev.communes["changes_site"].sum() >= 1
    s = ev.summary.set_index("key")
    assert s.loc["changing_site", "communes"] == ev.communes["changes_site"].sum()
    assert s.loc["changing_site", "indicator"] == "origines qui changent de site le plus proche"


def test_evaluate_closing_a_site(region: tuple) -> None:
    g, origins, existing, _ = region
    gone = existing["site_id"].iloc[0]
    ev = evaluate(g, origins, existing, remove=[gone])
    hit = ev.communes["site_before"] == gone
    assert hit.any()
    assert (ev.communes.loc[hit, "time_after_min"] >= ev.communes.loc[hit, "time_before_min"]).all()
    assert not (ev.communes["site_after"] == gone).any()


def test_bad_planning_inputs(region: tuple, matrix: CandidateMatrix) -> None:
    g, origins, existing, _ = region
    with pytest.raises(InputError, match="unknown commune code"):
        sites_from_communes(origins, ["05061"])
    with pytest.raises(InputError, match="off the network"):
        evaluate(g, origins, existing, add=sites_from_points([(2.35, 48.85)]))
    with pytest.raises(InputError, match="not found"):
        evaluate(g, origins, existing, remove=["no-such-site"])
    with pytest.raises(InputError, match="choose between 0 and the"):
        maximal_covering(matrix, matrix.n_candidates + 1, 10.0)


def _spopt_inputs(m: CandidateMatrix) -> tuple[np.ndarray, np.ndarray]:
    cost = np.where(np.isfinite(m.time_min), m.time_min, 1_000.0)
    pre = np.zeros(cost.shape[1], int)
    pre[: m.n_existing] = 1
    return cost, pre


@pytest.mark.parametrize("k", [1, 2, 3])
def test_maximal_covering_and_p_median_equal_spopt(matrix: CandidateMatrix, k: int) -> None:
    cost, pre = _spopt_inputs(matrix)
    ours = maximal_covering(matrix, k, 5.0)
    theirs = MCLP.from_cost_matrix(
        cost,
        matrix.weights,
        service_radius=5.0,
        p_facilities=matrix.n_existing + k,
        predefined_facilities_arr=pre,
        name="m",
    ).solve(SOLVER)
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))
    assert ours.gap_pct == 0.0
    reach = np.isfinite(matrix.time_min).any(axis=1)
    pm = p_median(matrix, k)
    theirs = PMedian.from_cost_matrix(
        cost[reach],
        matrix.weights[reach],
        p_facilities=matrix.n_existing + k,
        predefined_facilities_arr=pre,
        name="p",
    ).solve(SOLVER)
    assert pm.objective == pytest.approx(pulp.value(theirs.problem.objective), rel=1e-9)


def test_set_covering_equals_spopt_on_coverable_origins(matrix: CandidateMatrix) -> None:
    ours = set_covering(matrix, 8.0)
    cost, pre = _spopt_inputs(matrix)
    cov = matrix.covered(8.0)
    keep = cov.any(axis=1)
    theirs = LSCP.from_cost_matrix(
        cost[keep], service_radius=8.0, predefined_facilities_arr=pre, name="l"
    ).solve(SOLVER)
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))
    assert ours.details["n_uncoverable"] == int((~keep).sum())


@st.composite
def random_matrices(draw: st.DrawFn) -> CandidateMatrix:
    no = draw(st.integers(3, 12))
    ne = draw(st.integers(0, 2))
    nc = draw(st.integers(2, 6))
    t = np.array(draw(st.lists(st.floats(1, 60), min_size=no * (ne + nc), max_size=no * (ne + nc))))
    w = np.array(draw(st.lists(st.integers(1, 500), min_size=no, max_size=no)), float)
    return CandidateMatrix(
        t.reshape(no, ne + nc), w, np.arange(no).astype(str), np.arange(ne + nc).astype(str), ne
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_matrices(), st.integers(1, 2), st.floats(10, 40))
def test_exact_models_equal_spopt_and_bound_the_heuristic(
    m: CandidateMatrix, k: int, threshold: float
) -> None:
    k = min(k, m.n_candidates)
    cost, pre = _spopt_inputs(m)
    ex = maximal_covering(m, k, threshold, method="exact")
    sp = MCLP.from_cost_matrix(
        cost,
        m.weights,
        service_radius=threshold,
        p_facilities=m.n_existing + k,
        predefined_facilities_arr=pre,
        name="r",
    ).solve(SOLVER)
    assert ex.objective == pytest.approx(pulp.value(sp.problem.objective))
    he = maximal_covering(m, k, threshold, method="heuristic")
    assert he.objective <= ex.objective + 1e-9
    assert ex.objective <= he.bound + 1e-6
    assert he.gap_pct >= 0
    pe = p_median(m, k, method="exact")
    ph = p_median(m, k, method="heuristic")
    assert ph.objective >= pe.objective - 1e-6
    assert pe.bound <= pe.objective + 1e-6


def test_optimise_reuses_one_matrix(matrix: CandidateMatrix) -> None:
    t = optimise(matrix, [1, 2], [5.0, 10.0])
    assert set(t["model"]) == {"maximal_covering", "set_covering", "p_median"}
    mc = t[t["model"] == "maximal_covering"].set_index(["threshold_min", "k"])["objective"]
    assert mc[(5.0, 2)] >= mc[(5.0, 1)]
    assert mc[(10.0, 1)] >= mc[(5.0, 1)]


def test_cli_planning_commands(
    tmp_path: Path, mirror: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from msapgeo.cli import main

    assert (
        main(["evaluate", "--add", "node/9717817533", "--out", str(tmp_path / "ev"), "--quiet"])
        == 0
    )
    ev = pd.read_csv(tmp_path / "ev" / "evaluation_communes.csv", sep=";", decimal=",")
    assert {"time_before_min", "time_after_min", "gain_min", "changes_site"} <= set(ev.columns)
    assert (tmp_path / "ev" / "map.html").is_file()
    assert (
        main(["optimise", "--k", "2", "--threshold", "5", "--out", str(tmp_path / "op"), "--quiet"])
        == 0
    )
    op = pd.read_csv(tmp_path / "op" / "optimise.csv", sep=";", decimal=",")
    assert len(op[op["model"] == "maximal_covering"]) == 2
    chosen = gpd.read_file(tmp_path / "op" / "optimise.gpkg")
    assert len(chosen) == 2
    # bad inputs
    assert main(["evaluate", "--add", "05061", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "unknown commune code" in capsys.readouterr().err
    assert main(["evaluate", "--add", "2.35,48.85", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "off the network" in capsys.readouterr().err
    assert (
        main(
            [
                "optimise",
                "--k",
                "99",
                "--candidates",
                "post_offices",
                "--out",
                str(tmp_path / "x"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "larger than the 4 candidates" in capsys.readouterr().err


def test_nearest_times_from_the_matrix_equal_evaluate(
    region: tuple, matrix: CandidateMatrix
) -> None:
    from msapgeo.planning import nearest_times

    g, origins, existing, _ = region
    best = maximal_covering(matrix, 2, 5.0)
    before, after = nearest_times(matrix, best.chosen)
    ok = origins[origins["id"] != "node/6312742113"]
    add = sites_from_communes(ok, [c.removeprefix("candidate/") for c in best.chosen])
    ev = evaluate(g, origins, existing, add=add)
    assert np.allclose(before, ev.communes["time_before_min"], equal_nan=True)
    assert np.allclose(after, ev.communes["time_after_min"], equal_nan=True)


def test_candidate_matrix_with_a_time_limit(region: tuple) -> None:
    g, origins, existing, cands = region
    full = candidate_matrix(g, origins, existing, cands, weight="count")
    cut = candidate_matrix(g, origins, existing, cands, weight="count", limit_min=5.0)
    # the existing sites form one column: the nearest of them
    assert full.n_existing == 1
    # coverage at any threshold up to the limit is unchanged
    for th in (2.0, 5.0):
        np.testing.assert_array_equal(full.covered(th), cut.covered(th))
    beyond = np.isfinite(full.time_min) & (full.time_min > 5.0)
    beyond[:, 0] = False  # the existing column is not limited
    assert beyond.any()
    assert np.isnan(cut.time_min[beyond]).all()
    assert maximal_covering(cut, 2, 5.0).objective == maximal_covering(full, 2, 5.0).objective


def test_optimise_rows_say_what_they_count(region: tuple) -> None:
    g, origins, existing, cands = region
    m = candidate_matrix(g, origins, existing, cands, weight="count")
    names = dict(zip(cands["site_id"], cands["name"].astype(str), strict=True))
    t = optimise(m, [1], [5.0], names=names)
    mc = t[t["model"] == "maximal_covering"].iloc[0]
    cov = m.covered(5.0)[:, : m.n_existing].any(axis=1)
    assert mc["already_covered_origins"] == int(cov.sum())
    assert mc["gain_population"] == mc["objective"] - mc["already_covered_population"]
    assert mc["chosen_names"] == names[mc["chosen"]]
    assert mc["objective_unit"].startswith("habitants couverts")
    assert mc["model_label"] == "couverture maximale"


def _random_matrix(seed: int, no: int = 60, nc: int = 12, n_ex: int = 2):  # type: ignore[no-untyped-def]
    from msapgeo.locations import CandidateMatrix

    rng = np.random.default_rng(seed)
    t = rng.uniform(1, 60, size=(no, n_ex + nc))
    t[rng.random(t.shape) < 0.05] = np.inf
    ids = np.array([f"s{i}" for i in range(n_ex + nc)])
    return CandidateMatrix(
        time_min=t,
        origin_ids=np.array([f"o{i}" for i in range(no)]),
        site_ids=ids,
        n_existing=n_ex,
        weights=rng.integers(1, 500, size=no).astype(float),
    )


@pytest.mark.parametrize("seed", range(6))
def test_heuristics_end_on_a_local_optimum(seed: int) -> None:
    """The national-scale heuristics (greedy then vertex substitution, vectorised): no
    single swap of a chosen candidate improves their result, for k = 1 they equal the
    exact optimum, and they never beat the exact optimum."""
    from msapgeo.locations import maximal_covering, p_median

    m = _random_matrix(seed)
    ne = m.n_existing
    cov = m.covered(20.0)
    t = np.where(np.isfinite(m.time_min), m.time_min, 1_000.0)
    idx = {str(x): i for i, x in enumerate(m.site_ids)}

    def cover(sel: list[int]) -> float:
        hit = cov[:, :ne].any(axis=1) | cov[:, sel].any(axis=1)
        return -float(m.weights[hit].sum())  # lower is better, as for the p-median

    def total(sel: list[int]) -> float:
        return float(m.weights @ t[:, list(range(ne)) + sel].min(axis=1))

    for k in (1, 3):
        mc_h = maximal_covering(m, k, 20.0, method="heuristic")
        mc_x = maximal_covering(m, k, 20.0, method="exact")
        pm_h = p_median(m, k, method="heuristic")
        pm_x = p_median(m, k, method="exact")
        assert mc_h.objective <= mc_x.objective + 1e-6
        assert pm_h.objective >= pm_x.objective - 1e-6
        if k == 1:
            assert mc_h.objective == pytest.approx(mc_x.objective)
            assert pm_h.objective == pytest.approx(pm_x.objective)
        for res, value in ((mc_h, cover), (pm_h, total)):
            sel = [idx[c] for c in res.chosen]
            base = value(sel)
            for pos in range(len(sel)):
                for j in range(ne, ne + m.n_candidates):
                    if j not in sel:
                        assert value([*sel[:pos], j, *sel[pos + 1 :]]) >= base - 1e-9


def test_heuristic_without_bound_says_the_gap_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import msapgeo.locations as loc

    monkeypatch.setattr(loc, "BOUND_MAX_VARIABLES", 10)
    res = loc.p_median(_random_matrix(0), 2, method="heuristic")
    assert np.isnan(res.bound)
    assert np.isnan(res.gap_pct)


def test_sparse_pairs_equal_the_dense_matrix(region: tuple) -> None:
    """With a time limit, the candidate columns kept as pairs within it hold exactly the
    dense matrix's finite cells; the models read them to the same answers."""
    from msapgeo.routing import od_pairs

    g, origins, existing, cands = region
    dense = candidate_matrix(g, origins, existing, cands, weight="count", limit_min=5.0)
    pairs = candidate_matrix(
        g, origins, existing, cands, weight="count", limit_min=5.0, sparse_pairs=True
    )
    assert pairs.is_sparse
    assert not dense.is_sparse
    assert pairs.n_candidates == dense.n_candidates
    np.testing.assert_array_equal(pairs.dense().time_min, dense.time_min)
    assert pairs.pairs is not None
    assert pairs.pairs.nnz == int(np.isfinite(dense.time_min[:, 1:]).sum())
    frame = od_pairs(g, origins, cands, limit_min=5.0, site_id="site_id").to_frame()
    assert len(frame) == pairs.pairs.nnz
    assert (frame["time_min"] <= 5.0).all()
    for th in (2.0, 5.0):
        assert maximal_covering(pairs, 2, th).objective == maximal_covering(dense, 2, th).objective
    with pytest.raises(InputError, match="beyond the matrix's search limit"):
        maximal_covering(pairs, 1, 10.0)


def _sparse_of(m, limit: float):  # type: ignore[no-untyped-def]
    """``m`` with its candidate cells beyond ``limit`` dropped: dense (NaN) and as pairs."""
    from scipy import sparse as sp

    from msapgeo.locations import CandidateMatrix

    t = m.time_min.copy()
    cand = t[:, m.n_existing :]
    cand[~(np.isfinite(cand) & (cand <= limit))] = np.nan
    t[:, m.n_existing :] = cand
    ok = np.isfinite(cand)
    r, c = np.nonzero(ok)
    pairs = sp.csc_matrix((cand[r, c], (r, c)), shape=cand.shape)
    dense = CandidateMatrix(
        time_min=t,
        weights=m.weights,
        origin_ids=m.origin_ids,
        site_ids=m.site_ids,
        n_existing=m.n_existing,
        limit_min=limit,
    )
    return dense, CandidateMatrix(
        time_min=t[:, : m.n_existing],
        weights=m.weights,
        origin_ids=m.origin_ids,
        site_ids=m.site_ids,
        n_existing=m.n_existing,
        pairs=pairs,
        limit_min=limit,
    )


@pytest.mark.parametrize("seed", range(6))
def test_sparse_heuristics_equal_the_dense_ones(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the pairs of a sparse matrix the heuristics choose the same sites with the same
    objective as on the dense matrix, and nearest_times reads the same times."""
    import msapgeo.locations as loc

    dense, pairs = _sparse_of(_random_matrix(seed, no=80, nc=15), limit=30.0)
    monkeypatch.setattr(loc, "DENSE_MAX_CELLS", 0)  # every matrix is "large"
    for k in (1, 2, 4):
        for th in (15.0, 30.0):
            a = loc.maximal_covering(dense, k, th, method="heuristic")
            b = loc.maximal_covering(pairs, k, th, method="heuristic")
            assert b.chosen == a.chosen
            assert b.objective == pytest.approx(a.objective)
        a = loc.p_median(dense, k, method="heuristic")
        b = loc.p_median(pairs, k, method="heuristic")
        assert b.chosen == a.chosen
        assert b.objective == pytest.approx(a.objective, rel=1e-12)
        assert b.details["unreachable_origins"] == a.details["unreachable_origins"]
        before_after = zip(
            loc.nearest_times(dense, a.chosen), loc.nearest_times(pairs, a.chosen), strict=True
        )
        for x, y in before_after:
            np.testing.assert_allclose(x, y, equal_nan=True)
