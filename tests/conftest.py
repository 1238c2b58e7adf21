"""Shared fixtures: the real-data mirror, a private cache, the Andorra graph, graph builders."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from msapgeo import settings
from msapgeo.graph import RoutingGraph

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    # Real data: MSAPGEO_MIRROR (set by the Makefile); fall back to ../shared/data.
    if not os.environ.get("MSAPGEO_MIRROR") and SHARED.is_dir():
        os.environ["MSAPGEO_MIRROR"] = str(SHARED)
    # A private cache per run, so every test run fetches through the data layer.
    cache = Path(config.rootpath) / ".pytest_cache" / "msapgeo-cache"
    os.environ["MSAPGEO_CACHE"] = str(cache)
    settings.progress = False


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real-data mirror; tests that need it fail (never skip) when it is missing."""
    m = os.environ.get("MSAPGEO_MIRROR", "")
    if not m or not Path(m).is_dir():
        pytest.fail(
            "MSAPGEO_MIRROR does not point to the real-data folder (../shared/data); "
            "run the tests with `make test`"
        )
    return Path(m)


@pytest.fixture(scope="session")
def andorra_pbf(mirror: Path) -> Path:
    from msapgeo import datasets

    return datasets.fetch("osm_andorra_2025")


@pytest.fixture(scope="session")
def andorra_features(andorra_pbf: Path):  # type: ignore[no-untyped-def]
    from msapgeo.network import read_features

    return read_features(andorra_pbf)


@pytest.fixture(scope="session")
def andorra_graph(andorra_pbf: Path, andorra_features) -> RoutingGraph:  # type: ignore[no-untyped-def]
    from msapgeo.network import graph_from_osm

    return graph_from_osm(andorra_pbf, features=andorra_features)


def graph_from_edges(
    n: int,
    edges: list[tuple[int, int, float, float]],
    coords: np.ndarray | None = None,
) -> RoutingGraph:
    """A RoutingGraph whose ways are single directed edges (u, v, time_s, length_m).

    Node ``i`` has OSM id ``i + 1``; every vertex is a graph node. Nodes that no edge
    touches are added as isolated two-vertex ways closed in both directions.
    """
    rng = np.random.default_rng(0)
    xy = coords if coords is not None else rng.uniform([6.0, 44.5], [6.2, 44.7], size=(n, 2))
    touched = {x for e in edges for x in e[:2]}
    ways = [(u, v, t, d, True) for u, v, t, d in edges]
    ways += [(i, i, 1.0, 1.0, False) for i in range(n) if i not in touched]
    k = len(ways)
    osm = np.array([[u + 1, v + 1] for u, v, *_ in ways], dtype=np.int64).ravel()
    lon = np.array([[xy[u, 0], xy[v, 0]] for u, v, *_ in ways]).ravel()
    lat = np.array([[xy[u, 1], xy[v, 1]] for u, v, *_ in ways]).ravel()
    seg_len = np.array([[d, 0.0] for *_, d, _ in ways]).ravel()
    seg_t = np.array([[t, 0.0] for _, _, t, _, _ in ways]).ravel()
    open_ = np.array([w[4] for w in ways])
    return RoutingGraph(
        vx_osmid=osm,
        vx_lon=lon,
        vx_lat=lat,
        vx_junction=np.ones(2 * k, bool),
        seg_len_m=seg_len,
        seg_time_fwd_s=seg_t,
        seg_time_bwd_s=seg_t,
        seg_src_fwd=np.zeros(2 * k, np.uint8),
        seg_src_bwd=np.zeros(2 * k, np.uint8),
        way_id=np.arange(1, k + 1, dtype=np.int64),
        way_ptr=np.arange(0, 2 * k + 1, 2, dtype=np.int64),
        way_fwd=open_,
        way_bwd=np.zeros(k, bool),
        way_highway=np.array(["primary"] * k),
        way_name=np.array([""] * k),
        way_ref=np.array([""] * k),
        way_oneway=np.array(["yes"] * k),
        way_maxspeed=np.array([""] * k),
        way_tags=np.array(["{}"] * k),
        meta={"profile": "legal", "source_file": "synthetic"},
    )


def snapped_points(
    graph: RoutingGraph, nodes: list[int], offsets_s: list[float] | None = None, prefix: str = "p"
) -> gpd.GeoDataFrame:
    """Points sitting on graph nodes (by index), already snapped, with optional off-network time."""
    ids = graph.node_osmid[nodes]
    off = np.asarray(offsets_s if offsets_s is not None else [0.0] * len(nodes), float)
    return gpd.GeoDataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(nodes))],
            "node_osmid": ids,
            "snap_m": off * 10.0,
            "snap_time_s": off,
            "exclusion": pd.Series([pd.NA] * len(nodes), dtype="string"),
        },
        geometry=gpd.points_from_xy(graph.node_lon[nodes], graph.node_lat[nodes]),
        crs="EPSG:4326",
    )


def nearest_equals_matrix_minimum(graph: RoutingGraph, origins, sites):  # type: ignore[no-untyped-def]
    """Route both ways and check that each origin's nearest-site time is its row minimum
    of the matrix (NaN where no site is reachable); returns (nearest result, matrix)."""
    from msapgeo.routing import nearest_site, od_matrix

    res = nearest_site(graph, origins, sites)
    m = od_matrix(graph, origins, sites)
    best = np.nanmin(np.where(np.isnan(m.time_min), np.inf, m.time_min), axis=1)
    got = res["time_min"].to_numpy()
    fin = np.isfinite(best)
    assert np.allclose(got[fin], best[fin], rtol=1e-9, atol=1e-9)
    assert np.isnan(got[~fin]).all()
    return res, m
