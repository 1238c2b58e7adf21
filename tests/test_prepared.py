"""A graph saved prepared: edges, CSR, components and snapping index read back, not rebuilt."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

import msapgeo as mg
from msapgeo.graph import RoutingGraph

_DERIVED = ("edges", "_csr_rev", "scc_labels", "_vertex_indexes")


def _points(g: RoutingGraph, n: int, seed: int, prefix: str) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon0, lon1 = np.quantile(g.vx_lon, [0.1, 0.9])
    lat0, lat1 = np.quantile(g.vx_lat, [0.1, 0.9])
    return gpd.GeoDataFrame(
        {"site_id": [f"{prefix}{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(lon0, lon1, n), rng.uniform(lat0, lat1, n)),
        crs="EPSG:4326",
    )


def _run(g: RoutingGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    o, s = _points(g, 300, 1, "o"), _points(g, 12, 2, "s")
    so, ss = mg.snap(g, o), mg.snap(g, s)
    return so, mg.nearest_site(g, so, ss)


def test_prepared_round_trip_reads_back_what_routing_derives(
    andorra_graph: RoutingGraph, tmp_path: Path
) -> None:
    g = andorra_graph.replace()  # a fresh graph: nothing derived yet
    before = _run(g)
    path = g.save(tmp_path / "g.npz", prepared=True)
    back = RoutingGraph.load(path, trusted=True)
    assert back.equals(g)
    assert all(k in back.__dict__ for k in _DERIVED)  # read, not computed
    np.testing.assert_array_equal(back.scc_labels, g.scc_labels)
    for k, v in g.edges.items():
        np.testing.assert_array_equal(back.edges[k], v)
    assert (back.csr_reverse != g.csr_reverse).nnz == 0
    after = _run(back)
    for a, b in zip(before, after, strict=True):
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))


def test_untrusted_files_are_read_without_their_derived_arrays(
    andorra_graph: RoutingGraph, tmp_path: Path
) -> None:
    g = andorra_graph.replace()
    path = g.save(tmp_path / "g.npz", prepared=True)
    back = RoutingGraph.load(path)
    assert not any(k in back.__dict__ for k in _DERIVED)
    assert back.equals(g)
    snapped, routes = _run(back)
    ref_snapped, ref_routes = _run(g)
    np.testing.assert_array_equal(snapped["node_osmid"], ref_snapped["node_osmid"])
    np.testing.assert_array_equal(routes["time_min"], ref_routes["time_min"])


def _rewrite(path: Path, out: Path, change) -> None:  # type: ignore[no-untyped-def]
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(out, "wb") as fh:
        np.savez(fh, **arrays)


def test_derived_arrays_that_do_not_fit_are_recomputed(
    andorra_graph: RoutingGraph, tmp_path: Path
) -> None:
    g = andorra_graph.replace()
    path = g.save(tmp_path / "g.npz", prepared=True)

    def break_them(a: dict[str, np.ndarray]) -> None:
        idx = a["derived__csr_rev__indices"].copy()
        idx[0] = g.n_nodes + 5  # a column outside the graph
        a["derived__csr_rev__indices"] = idx
        a["derived__edges__u"] = a["derived__edges__u"][:-1]  # edges of different lengths
        vx = a["derived__vi0__vx"].copy()
        vx[3] = -1
        a["derived__vi0__vx"] = vx
        a["derived__scc_labels"] = a["derived__scc_labels"][:-2]

    bad = tmp_path / "bad.npz"
    _rewrite(path, bad, break_them)
    back = RoutingGraph.load(bad, trusted=True)
    assert not any(k in back.__dict__ for k in ("edges", "_csr_rev", "scc_labels"))
    assert not back.__dict__.get("_vertex_indexes")
    ref_snapped, ref_routes = _run(g)
    snapped, routes = _run(back)
    np.testing.assert_array_equal(snapped["node_osmid"], ref_snapped["node_osmid"])
    np.testing.assert_array_equal(routes["time_min"], ref_routes["time_min"])

    def other_scipy(a: dict[str, np.ndarray]) -> None:
        meta = json.loads(str(a["__derived__"]))
        meta["vertex_indexes"][0]["scipy"] = "0.0"
        a["__derived__"] = np.array(json.dumps(meta))

    old = tmp_path / "old.npz"
    _rewrite(path, old, other_scipy)
    back = RoutingGraph.load(old, trusted=True)
    assert "edges" in back.__dict__
    assert not back.__dict__.get("_vertex_indexes")  # another scipy's trees: rebuilt
    assert mg.snap(back, _points(g, 50, 4, "p"))["node_osmid"].equals(
        mg.snap(g, _points(g, 50, 4, "p"))["node_osmid"]
    )


def test_new_speeds_keep_the_index_other_topologies_do_not(andorra_graph: RoutingGraph) -> None:
    g = andorra_graph.replace()
    vx, index = g.vertex_index("largest")
    faster = g.replace(seg_time_fwd_s=g.seg_time_fwd_s / 2, seg_time_bwd_s=g.seg_time_bwd_s / 2)
    assert faster.vertex_index("largest")[1] is index
    assert faster.scc_labels is g.scc_labels
    assert "edges" not in faster.__dict__  # times changed: edges are recomputed
    closed = g.without_ways(np.arange(g.n_ways) == int(g.vx_way[vx[0]]))
    assert "_vertex_indexes" not in closed.__dict__
    assert closed.vertex_index("largest")[1] is not index


def test_graph_cache_writes_prepared_files(
    andorra_pbf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from msapgeo.graphcache import load_graph

    monkeypatch.setenv("MSAPGEO_CACHE", str(tmp_path))
    first = load_graph(andorra_pbf, profile="legal")
    cached = list((tmp_path / "graphs").glob("*.npz"))
    assert len(cached) == 1
    assert "__derived__.npy" in zipfile.ZipFile(cached[0]).namelist()
    again = load_graph(andorra_pbf, profile="legal")
    assert "_vertex_indexes" in again.__dict__
    assert "edges" in again.__dict__
    assert again.equals(first)
    practical = load_graph(andorra_pbf, profile="practical")  # new speeds, same index
    assert practical.__dict__.get("_vertex_indexes")  # read from the file, kept by the profile
