"""Sums along shortest-path trees (the compiled walk behind route lengths)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse import csgraph

from msapgeo import treepaths
from msapgeo.treepaths import tree_path_sums


@pytest.fixture(params=["compiled", "doubling"])
def method(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Both ways of summing: the compiled walk (any size) and numpy's pointer doubling."""
    old = treepaths.COMPILED_MIN_WORK
    treepaths.COMPILED_MIN_WORK = 0 if request.param == "compiled" else 10**18
    yield request.param
    treepaths.COMPILED_MIN_WORK = old


def _naive(A: sparse.csr_matrix, pred: np.ndarray, targets: np.ndarray, vals: np.ndarray):
    """Walk up from every target on its own, reading each edge's value by (row, col)."""
    coo = A.tocoo()
    where = {(int(r), int(c)): k for k, (r, c) in enumerate(zip(coo.row, coo.col, strict=True))}
    # tocoo keeps the CSR order of the entries, so k is the entry's position in A.data
    out = np.zeros((vals.shape[0], pred.shape[0], len(targets)))
    for r in range(pred.shape[0]):
        for k, t in enumerate(targets):
            v = int(t)
            while pred[r, v] >= 0:
                out[:, r, k] += vals[:, where[(int(pred[r, v]), v)]]
                v = int(pred[r, v])
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(2, 40),
    density=st.floats(0.05, 0.5),
    seed=st.integers(0, 2**31 - 1),
    n_roots=st.integers(1, 4),
)
def test_sums_equal_a_walk_from_every_target(method, n, density, seed, n_roots):
    rng = np.random.default_rng(seed)
    A = sparse.random(n, n, density=density, format="csr", random_state=rng)
    A.data = rng.uniform(0.1, 10, A.nnz)
    A.sum_duplicates()
    A.sort_indices()
    roots = rng.choice(n, min(n_roots, n), replace=False)
    _, pred = csgraph.dijkstra(A, directed=True, indices=roots, return_predecessors=True)
    targets = rng.integers(0, n, 25)
    vals = np.stack([rng.uniform(0, 100, A.nnz), rng.uniform(0, 5, A.nnz)])
    got = tree_path_sums(A.indptr, A.indices, pred, targets, vals)
    np.testing.assert_allclose(got, _naive(A, pred, targets, vals), rtol=1e-12, atol=1e-9)
    # one forest from all roots at once (nearest_site's min_only search): a 1-D pred
    _, forest, _ = csgraph.dijkstra(
        A, directed=True, indices=roots, min_only=True, return_predecessors=True
    )
    got = tree_path_sums(A.indptr, A.indices, forest, targets, vals)
    np.testing.assert_allclose(
        got, _naive(A, forest[None, :], targets, vals), rtol=1e-12, atol=1e-9
    )


def test_sums_on_a_chain_by_hand(method):
    # 0 -> 1 -> 2 -> 3 and 0 -> 4; lengths 1, 10, 100, 1000
    A = sparse.csr_matrix(
        (np.ones(4), np.array([1, 4, 2, 3]), np.array([0, 2, 3, 4, 4, 4])), shape=(5, 5)
    )
    vals = np.array([[1.0, 1000.0, 10.0, 100.0]])
    _, pred = csgraph.dijkstra(A, directed=True, indices=0, return_predecessors=True)
    got = tree_path_sums(A.indptr, A.indices, pred, np.array([3, 2, 4, 0, 1]), vals)
    np.testing.assert_array_equal(got[0, 0], [111.0, 11.0, 1000.0, 0.0, 1.0])


def test_bad_trees_are_refused_not_read_out_of_bounds(method):
    A = sparse.csr_matrix((np.ones(2), np.array([1, 2]), np.array([0, 1, 2, 2])), shape=(3, 3))
    vals = np.ones((1, 2))
    # 0 <-> 1 -> 2: every predecessor is an edge, but 0 and 1 are each other's
    loop = sparse.csr_matrix(
        (np.ones(3), np.array([1, 0, 2]), np.array([0, 1, 3, 3])), shape=(3, 3)
    )
    with pytest.raises(ValueError, match="cycle"):
        tree_path_sums(
            loop.indptr, loop.indices, np.array([[1, 0, 1]]), np.array([2]), np.ones((1, 3))
        )
    with pytest.raises(ValueError, match="not in the graph"):
        tree_path_sums(A.indptr, A.indices, np.array([[-9999, 2, 0]]), np.array([1]), vals)
    with pytest.raises(ValueError, match="outside"):
        tree_path_sums(A.indptr, A.indices, np.array([[-9999, 0, 7]]), np.array([2]), vals)
    with pytest.raises(ValueError, match="one graph"):
        tree_path_sums(A.indptr, A.indices, np.array([[-9999, 0, 1]]), np.array([2]), vals[:, :1])


def test_routes_measure_the_same_either_way(andorra_graph, monkeypatch: pytest.MonkeyPatch):
    """The compiled walk (national graphs) and pointer doubling (départements) give the
    same route lengths and default-speed km through od_matrix and nearest_site."""
    import geopandas as gpd

    import msapgeo as mg

    g = andorra_graph
    rng = np.random.default_rng(5)
    lon0, lon1 = np.quantile(g.vx_lon, [0.1, 0.9])
    lat0, lat1 = np.quantile(g.vx_lat, [0.1, 0.9])

    def pts(n: int, p: str) -> gpd.GeoDataFrame:
        xy = gpd.points_from_xy(rng.uniform(lon0, lon1, n), rng.uniform(lat0, lat1, n))
        return gpd.GeoDataFrame({"site_id": [f"{p}{i}" for i in range(n)]}, geometry=xy, crs=4326)

    o, s = mg.snap(g, pts(200, "o")), mg.snap(g, pts(8, "s"))
    results = {}
    for label, work in (("doubling", 10**18), ("compiled", 0)):
        monkeypatch.setattr(treepaths, "COMPILED_MIN_WORK", work)
        m = mg.od_matrix(g, o, s, defaults=True)
        r = mg.nearest_site(g, o, s)
        results[label] = (m.dist_km, m.default_km, r["dist_km"].to_numpy())
    for a, b in zip(results["doubling"], results["compiled"], strict=True):
        assert np.isfinite(a).sum() > 100
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9, equal_nan=True)
