"""Synthetic road-like graphs for the benchmarks: perturbed grids, two-way streets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo.graph import RoutingGraph


def grid_graph(n_target: int, seed: int = 0) -> RoutingGraph:
    """A ``k × k`` grid (k² ≈ n_target nodes), every street two-way, 30–90 km/h, ~200 m blocks.

    Each street segment is a two-vertex way, so every vertex is a node (no simplification).
    """
    rng = np.random.default_rng(seed)
    k = round(np.sqrt(n_target))
    idx = np.arange(k * k).reshape(k, k)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    # drop 10 % of streets for irregularity
    keep = rng.random(len(u)) > 0.1
    u, v = u[keep], v[keep]
    lon0, lat0, step = 5.5, 44.0, 0.0025
    jitter = rng.uniform(-0.0005, 0.0005, size=(k * k, 2))
    lon = lon0 + (np.arange(k * k) % k) * step + jitter[:, 0]
    lat = lat0 + (np.arange(k * k) // k) * step + jitter[:, 1]
    m = len(u)
    vx = np.column_stack([u, v]).ravel()
    seg_len = np.zeros(2 * m)
    dx = (lon[u] - lon[v]) * 111_195 * np.cos(np.radians(lat0))
    dy = (lat[u] - lat[v]) * 111_195
    seg_len[0::2] = np.hypot(dx, dy)
    speed = rng.choice([30.0, 50.0, 70.0, 90.0], size=m) / 3.6
    seg_t = np.zeros(2 * m)
    seg_t[0::2] = seg_len[0::2] / speed
    empty = np.array([""] * m)
    return RoutingGraph(
        vx_osmid=vx.astype(np.int64) + 1,
        vx_lon=lon[vx],
        vx_lat=lat[vx],
        vx_junction=np.ones(2 * m, bool),
        seg_len_m=seg_len,
        seg_time_fwd_s=seg_t,
        seg_time_bwd_s=seg_t.copy(),
        seg_src_fwd=np.zeros(2 * m, np.uint8),
        seg_src_bwd=np.zeros(2 * m, np.uint8),
        way_id=np.arange(1, m + 1, dtype=np.int64),
        way_ptr=np.arange(0, 2 * m + 1, 2, dtype=np.int64),
        way_fwd=np.ones(m, bool),
        way_bwd=np.ones(m, bool),
        way_highway=np.array(["primary"] * m),
        way_name=empty,
        way_ref=empty,
        way_oneway=np.array(["no"] * m),
        way_maxspeed=empty,
        way_tags=np.array(["{}"] * m),
        meta={"source_file": f"synthetic grid {k}x{k}"},
    )


def snapped_points(
    g: RoutingGraph, nodes: np.ndarray, prefix: str, population: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Points sitting on graph nodes, already snapped (no off-network leg)."""
    ids = [f"{prefix}{i}" for i in range(len(nodes))]
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "site_id": ids,
            "population": population if population is not None else np.zeros(len(nodes)),
            "node_osmid": g.node_osmid[nodes],
            "snap_m": np.zeros(len(nodes)),
            "snap_time_s": np.zeros(len(nodes)),
            "exclusion": pd.Series([pd.NA] * len(nodes), dtype="string"),
        },
        geometry=gpd.points_from_xy(g.node_lon[nodes], g.node_lat[nodes]),
        crs="EPSG:4326",
    )
