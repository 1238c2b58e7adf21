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


def tiled_graph(g: RoutingGraph, n_copies: int, links_per_side: int = 8) -> RoutingGraph:
    """A mosaic of ``n_copies`` translated copies of a real graph, stitched at their borders.

    Grids make every node a four-way junction, the worst case for the turn-expanded graph;
    a real network has bends, way splits, dead ends and three-way junctions in the
    proportions a planner's extract has. The copies are laid out on a near-square mosaic,
    each shifted by the graph's extent plus a 1 km gap, with its own node, way and control
    ids (restrictions and traffic controls copied with them). Adjacent copies are joined
    by ``links_per_side`` two-way secondary roads (60 km/h) between the outermost junctions
    of each side, paired in order along the border, so that a search crosses the mosaic.
    Every copy keeps the original's speeds, controls and restrictions.
    """
    cols = int(np.ceil(np.sqrt(n_copies)))
    n_vx = len(g.vx_osmid)
    id_step = int(g.vx_osmid.max()) + 1
    way_step = int(g.way_id.max()) + 1
    gap = 0.01  # degrees, ~1 km
    dlon = float(g.vx_lon.max() - g.vx_lon.min()) + gap
    dlat = float(g.vx_lat.max() - g.vx_lat.min()) + gap
    # the junctions of one copy (vertices that are graph nodes) in its largest strongly
    # connected component, and their positions
    from scipy.sparse import csgraph

    _, label = csgraph.connected_components(g.csr, directed=True, connection="strong")
    main = np.zeros(g.n_nodes, bool)
    main[label == np.bincount(label).argmax()] = True
    jn = np.flatnonzero(g.vx_junction)
    jn = jn[np.unique(g.vx_osmid[jn], return_index=True)[1]]
    jn = jn[main[g.node_index(g.vx_osmid[jn])]]
    j_lon, j_lat = g.vx_lon[jn], g.vx_lat[jn]
    side = {
        "east": jn[np.argsort(-j_lon)[:links_per_side]],
        "west": jn[np.argsort(j_lon)[:links_per_side]],
        "north": jn[np.argsort(-j_lat)[:links_per_side]],
        "south": jn[np.argsort(j_lat)[:links_per_side]],
    }
    side["east"] = side["east"][np.argsort(g.vx_lat[side["east"]])]
    side["west"] = side["west"][np.argsort(g.vx_lat[side["west"]])]
    side["north"] = side["north"][np.argsort(g.vx_lon[side["north"]])]
    side["south"] = side["south"][np.argsort(g.vx_lon[side["south"]])]

    def at(c: int) -> tuple[float, float]:
        return (c % cols) * dlon, (c // cols) * dlat

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("osmid", "lon", "lat", "junction")}
    link_a: list[np.ndarray] = []
    link_b: list[np.ndarray] = []
    for c in range(n_copies):
        x, y = at(c)
        parts["osmid"].append(g.vx_osmid + c * id_step)
        parts["lon"].append(g.vx_lon + x)
        parts["lat"].append(g.vx_lat + y)
        parts["junction"].append(g.vx_junction)
        right, up = c + 1, c + cols
        if c % cols < cols - 1 and right < n_copies:
            link_a.append(c * n_vx + side["east"])
            link_b.append(right * n_vx + side["west"])
        if up < n_copies:
            link_a.append(c * n_vx + side["north"])
            link_b.append(up * n_vx + side["south"])
    osmid = np.concatenate(parts["osmid"])
    lon = np.concatenate(parts["lon"])
    lat = np.concatenate(parts["lat"])
    empty_i = np.zeros(0, np.int64)
    a, b = np.concatenate([empty_i, *link_a]), np.concatenate([empty_i, *link_b])
    m = len(a)
    pair = np.column_stack([a, b]).ravel()
    link_len = np.zeros(2 * m)
    dx = (lon[a] - lon[b]) * 111_195 * np.cos(np.radians(lat[a]))
    link_len[0::2] = np.hypot(dx, (lat[a] - lat[b]) * 111_195)
    link_t = link_len / (60 / 3.6)

    def rep(arr: np.ndarray, extra: np.ndarray) -> np.ndarray:
        return np.concatenate([np.tile(arr, n_copies), extra])

    ptr = np.concatenate(
        [g.way_ptr[:-1] + c * n_vx for c in range(n_copies)]
        + [n_copies * n_vx + np.arange(0, 2 * m + 1, 2)]
    )
    empty = np.array([""] * m, dtype=g.way_name.dtype)
    controls = {
        k: [int(i) + c * id_step for c in range(n_copies) for i in v]
        for k, v in (g.meta.get("node_controls") or {}).items()
    }
    restrictions = [
        [kind, int(fw) + c * way_step, int(via) + c * id_step, int(tw) + c * way_step]
        for c in range(n_copies)
        for kind, fw, via, tw in g.meta.get("turn_restrictions") or []
    ]
    return RoutingGraph(
        vx_osmid=np.concatenate([osmid, osmid[pair]]),
        vx_lon=np.concatenate([lon, lon[pair]]),
        vx_lat=np.concatenate([lat, lat[pair]]),
        vx_junction=np.concatenate([np.concatenate(parts["junction"]), np.ones(2 * m, bool)]),
        seg_len_m=rep(g.seg_len_m, link_len),
        seg_time_fwd_s=rep(g.seg_time_fwd_s, link_t),
        seg_time_bwd_s=rep(g.seg_time_bwd_s, link_t.copy()),
        seg_src_fwd=rep(g.seg_src_fwd, np.zeros(2 * m, g.seg_src_fwd.dtype)),
        seg_src_bwd=rep(g.seg_src_bwd, np.zeros(2 * m, g.seg_src_bwd.dtype)),
        way_id=np.concatenate(
            [g.way_id + c * way_step for c in range(n_copies)]
            + [n_copies * way_step + np.arange(1, m + 1, dtype=np.int64)]
        ),
        way_ptr=ptr,
        way_fwd=rep(g.way_fwd, np.ones(m, bool)),
        way_bwd=rep(g.way_bwd, np.ones(m, bool)),
        way_highway=rep(g.way_highway, np.array(["secondary"] * m, dtype=g.way_highway.dtype)),
        way_name=rep(g.way_name, empty),
        way_ref=rep(g.way_ref, empty),
        way_oneway=rep(g.way_oneway, np.array(["no"] * m, dtype=g.way_oneway.dtype)),
        way_maxspeed=rep(g.way_maxspeed, empty),
        way_tags=rep(g.way_tags, np.array(["{}"] * m, dtype=g.way_tags.dtype)),
        meta={
            **g.meta,
            "node_controls": controls,
            "turn_restrictions": restrictions,
            "source_file": f"{g.meta.get('source_file')} x {n_copies}",
            "turns": False,  # node-based; the benchmark asks for the turn graph itself
        },
    )
