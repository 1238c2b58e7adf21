"""France-scale benchmark: build a graph from generated OSM extracts of 1 M and 5 M road
vertices (20 M with ``--large``), then route 35,000 origins to 2,850 sites on it.

Usage::

    .venv/bin/python benchmarks/bench_national.py [--sizes 1000000 5000000] [--large]

The extracts are written with pyosmium into the cache: a perturbed grid of streets whose
ways run over ~10 vertices each (so most vertices are shape points, as in OSM), classes
and a third of ``maxspeed`` tags drawn at random, a village ``place`` node every 25 km²,
four ways in five named (a name every four ways, ~35 characters), ``ref`` on primary
and secondary roads, and beside every road vertex a building of five nodes: six nodes
in the file per road vertex, as in the France extract (~600 M nodes, ~100 M of them on
roads). Node ids grow by 15 on average, as France's do (~600 M nodes under ids up to
~12·10^9), so that pyosmium's location index is as sparse as it would be there. Each
extract is built twice in fresh processes, side by side: the one-pass read (locations of
every node) and the lean read (:func:`msapgeo.network.read_ways` with ``two_pass``: road
nodes only), which msapgeo uses for files of ``settings.lean_read_min_mb`` (1 GB) or more.
Each build runs in a fresh process; its peak resident memory is read from ``VmHWM``. The
routing step snaps 35,000 origins and 2,850 sites (mid-street points) once on the graph
as built (that first snap builds the snapping index and what routing derives), saves the
graph ``prepared`` and loads it back as the graph cache does, then, on the loaded graph,
snaps again and routes nearest sites end to end (time only), and times one raw
``csgraph.dijkstra(min_only=True)`` on the graph split at the points, side by side.
Printed: time and memory per size, the linear extrapolation to a France-size extract
(metropolitan France: about 100 M road vertices in OSM), and the routing ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FRANCE_VERTICES = 100_000_000


def write_extract(path: Path, n_vertices: int, seed: int = 0, building_nodes: int = 5) -> None:
    """A synthetic road extract of about ``n_vertices`` vertices (see the module notes)."""
    from array import array

    import osmium

    rng = np.random.default_rng(seed)
    per_way = 10
    n_ways = n_vertices // per_way
    k = int(np.sqrt(n_ways / 2)) + 1  # k rows and k columns of streets, split in ways
    # degrees between vertices along a street (~30 m), streets 10 × that apart: ~180
    # road vertices per km², France's density (~100 M over 550,000 km²), so that the
    # street-density grid of a France-size extract is France-size
    spacing = 0.0003
    lon0, lat0 = 2.0, 45.0
    classes = np.array(["residential", "unclassified", "tertiary", "secondary", "primary"])
    probs = np.array([0.45, 0.25, 0.15, 0.1, 0.05])
    gaps = rng.integers(1, 30, size=1 << 20)  # id steps, 15 on average
    gap_i = 0
    nid = 0
    wid = 1
    span = k * per_way  # vertices per street line
    corners = np.exp(2j * np.pi * np.arange(building_nodes) / building_nodes) * 5e-5
    building_refs = array("q")
    tmp = path.with_suffix(".tmp.pbf")
    tmp.unlink(missing_ok=True)

    def new_id() -> int:
        nonlocal nid, gap_i
        nid += int(gaps[gap_i])
        gap_i = (gap_i + 1) % len(gaps)
        return nid

    with osmium.SimpleWriter(str(tmp)) as w:
        # crossings shared: horizontal line i vertex j*per_way is vertical line j vertex
        # i*per_way; nodes are written in id order (a sorted extract)
        ids = {}

        def node(lon: float, lat: float, key: tuple[int, int, int]) -> int:
            if key in ids:
                return ids[key]
            ids[key] = new_id()
            w.add_node(osmium.osm.mutable.Node(id=ids[key], location=(lon, lat)))
            # a building beside the road vertex: its nodes follow in the id sequence
            for c in corners:
                b = new_id()
                w.add_node(
                    osmium.osm.mutable.Node(
                        id=b, location=(lon + 1e-4 + c.real, lat + 1e-4 + c.imag)
                    )
                )
                building_refs.append(b)
            return ids[key]

        road_ways = []
        for direction in (0, 1):
            for i in range(k):
                refs_line = []
                for j in range(span):
                    crossing = j % per_way == 0
                    if direction == 0:
                        lon, lat = lon0 + j * spacing / per_way * 10, lat0 + i * spacing * 10
                        key = (0, i, j) if not crossing else (2, i, j // per_way)
                    else:
                        lon, lat = lon0 + i * spacing * 10, lat0 + j * spacing / per_way * 10
                        key = (1, i, j) if not crossing else (2, j // per_way, i)
                    lon += rng.uniform(-0.2, 0.2) * spacing if not crossing else 0.0
                    refs_line.append(node(lon, lat, key))
                for s0 in range(0, span - per_way, per_way):
                    tags = {"highway": str(rng.choice(classes, p=probs))}
                    if rng.random() < 0.33:
                        tags["maxspeed"] = str(rng.choice([30, 50, 70, 80, 90]))
                    # four ways in five named, a name every four ways (a street of a
                    # few OSM ways), as long as French street names
                    street = s0 // (4 * per_way)
                    if (i + street) % 5:
                        tags["name"] = f"Chemin de la Croix-Blanche {direction}-{i}-{street}"
                    if tags["highway"] in ("primary", "secondary"):
                        tags["ref"] = f"D {i % 997 + 1}"
                    road_ways.append((refs_line[s0 : s0 + per_way + 1], tags))
            ids = {key: v for key, v in ids.items() if key[0] == 2}  # keep crossings only
        # villages: place nodes on a coarse grid
        for i in range(0, k, 30):
            for j in range(0, k, 30):
                w.add_node(
                    osmium.osm.mutable.Node(
                        id=new_id(),
                        location=(lon0 + j * spacing * 10, lat0 + i * spacing * 10),
                        tags={"place": "village", "name": f"v{i}-{j}"},
                    )
                )
        for refs, tags in road_ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
            wid += 1
        del road_ways
        b = np.frombuffer(building_refs, dtype=np.int64).reshape(-1, building_nodes)
        for row in b.tolist():
            w.add_way(
                osmium.osm.mutable.Way(id=wid, nodes=[*row, row[0]], tags={"building": "yes"})
            )
            wid += 1
    os.replace(tmp, path)


_BUILD_CODE = """
import json, time
def _hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
import msapgeo as mg
mg.settings.progress = False
mg.settings.lean_read_min_mb = {lean_mb}
t0 = time.perf_counter()
g = mg.graph_from_osm({path!r})
dt = time.perf_counter() - t0
print(json.dumps({{'s': dt, 'peak_mb': _hwm(), 'vertices': len(g.vx_osmid), 'nodes': g.n_nodes}}))
"""


def bench_build(path: Path, lean: bool) -> dict[str, float]:
    code = _BUILD_CODE.format(path=str(path), lean_mb=1e-6 if lean else 1e9)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_route(path: Path, n_origins: int = 35_000, n_sites: int = 2_850) -> dict[str, float]:
    import geopandas as gpd
    from scipy.sparse import csgraph

    import msapgeo as mg

    mg.settings.progress = False
    g = mg.graph_from_osm(path, builtup=False)
    rng = np.random.default_rng(1)
    lon0, lon1 = np.quantile(g.vx_lon, [0.02, 0.98])
    lat0, lat1 = np.quantile(g.vx_lat, [0.02, 0.98])
    o = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            rng.uniform(lon0, lon1, n_origins), rng.uniform(lat0, lat1, n_origins)
        ),
        crs="EPSG:4326",
    )
    s = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(n_sites)]},
        geometry=gpd.points_from_xy(
            rng.uniform(lon0, lon1, n_sites), rng.uniform(lat0, lat1, n_sites)
        ),
        crs="EPSG:4326",
    )
    # on the graph as built: the first snap builds the index (projection, trees) and
    # what routing derives (edges, CSR, components)
    t0 = time.perf_counter()
    mg.snap(g, o), mg.snap(g, s)
    t_snap_built = time.perf_counter() - t0
    # as a planner meets it: the graph saved prepared (the graph cache) and loaded again
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        saved = g.save(Path(tmp) / "g.npz", prepared=True)
        t_save = time.perf_counter() - t0
        file_gb = saved.stat().st_size / 1e9
        del g
        t0 = time.perf_counter()
        g = mg.RoutingGraph.load(saved, trusted=True)
        t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    so, ss = mg.snap(g, o), mg.snap(g, s)
    t_snap = time.perf_counter() - t0
    t0 = time.perf_counter()
    mg.nearest_site(g, so, ss, second=False, distances=False)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    mg.nearest_site(g, so, ss, second=False, distances=False)
    t_again = time.perf_counter() - t0
    split = g.with_nodes(np.concatenate([so["node_osmid"], ss["node_osmid"]]))
    idx = split.node_index(ss["node_osmid"].to_numpy())
    rev = split.csr_reverse  # the floor is the search alone, on a graph already built
    t0 = time.perf_counter()
    csgraph.dijkstra(rev, directed=True, indices=idx[idx >= 0], min_only=True)
    t_floor = time.perf_counter() - t0
    # a matrix of 1,000 origins × 16 sites, times only and with route lengths
    # (warm: the first matrix with lengths also loads the compiled walk, ~0.3 s once per
    # process); best of 3, alternating
    sub_o, sub_s = so.iloc[:1000], ss.iloc[:16]
    mg.od_matrix(g, sub_o, sub_s, distances=True)
    t_mt = t_md = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        mg.od_matrix(g, sub_o, sub_s, distances=False)
        t_mt = min(t_mt, time.perf_counter() - t0)
        t0 = time.perf_counter()
        mg.od_matrix(g, sub_o, sub_s, distances=True)
        t_md = min(t_md, time.perf_counter() - t0)
    return {
        "snap_built_s": t_snap_built,
        "save_s": t_save,
        "file_gb": file_gb,
        "load_s": t_load,
        "snap_s": t_snap,
        "first_s": t_first,
        "again_s": t_again,
        "floor_s": t_floor,
        "matrix_times_s": t_mt,
        "matrix_dist_s": t_md,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="*", type=int, default=[1_000_000, 5_000_000])
    ap.add_argument("--large", action="store_true", help="add the 20 M-vertex extract")
    args = ap.parse_args()
    sizes = [*args.sizes, *([20_000_000] if args.large else [])]
    cache = Path(os.environ.get("MSAPGEO_CACHE", Path.home() / ".cache" / "msapgeo")) / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:
        path = cache / f"synthetic-{n}-named.osm.pbf"
        if not path.is_file():
            t0 = time.perf_counter()
            write_extract(path, n)
            print(f"wrote {path.name} in {time.perf_counter() - t0:.0f} s", flush=True)
        one = bench_build(path, lean=False)
        lean = bench_build(path, lean=True)
        r = bench_route(path)
        rows.append(
            {
                "n": n,
                "file_mb": path.stat().st_size / 1e6,
                **lean,
                "one_s": one["s"],
                "one_peak_mb": one["peak_mb"],
                **r,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    print(
        "\n| road vertices | file (MB) | graph nodes | build one-pass (s) | peak RSS one-pass (GB) "
        "| build lean (s) | peak RSS lean (GB) | matrix 1,000 × 16 with distances / times only |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print(
            f"| {r['vertices']:,} | {r['file_mb']:.0f} | {r['nodes']:,} | {r['one_s']:.0f} "
            f"| {r['one_peak_mb'] / 1024:.2f} | {r['s']:.0f} | {r['peak_mb'] / 1024:.2f} "
            f"| {r['matrix_dist_s']:.2f} / {r['matrix_times_s']:.2f} = "
            f"{r['matrix_dist_s'] / r['matrix_times_s']:.2f} |"
        )
    print(
        "\n| road vertices | first snap, graph as built (s) | save prepared (s) | file (GB) "
        "| load (s) | snap 35,000 + 2,850 (s) | nearest site, first (s) | end to end (s) "
        "| again (s) | csgraph floor (s) | end to end / floor | again / floor |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        e2e = r["snap_s"] + r["first_s"]
        print(
            f"| {r['vertices']:,} | {r['snap_built_s']:.1f} | {r['save_s']:.1f} "
            f"| {r['file_gb']:.2f} | {r['load_s']:.1f} | {r['snap_s']:.2f} | {r['first_s']:.2f} "
            f"| {e2e:.2f} | {r['again_s']:.2f} | {r['floor_s']:.2f} "
            f"| {e2e / r['floor_s']:.1f} | {r['again_s'] / r['floor_s']:.1f} |"
        )
    big = rows[-1]
    for label, s_key, mb_key in (("one-pass", "one_s", "one_peak_mb"), ("lean", "s", "peak_mb")):
        if len(rows) > 1:  # marginal cost per vertex between the two largest extracts
            small = rows[-2]
            dv = big["vertices"] - small["vertices"]
            s_per_v = (big[s_key] - small[s_key]) / dv
            mb_per_v = (big[mb_key] - small[mb_key]) / dv
        else:
            s_per_v, mb_per_v = big[s_key] / big["vertices"], big[mb_key] / big["vertices"]
        extra = FRANCE_VERTICES - big["vertices"]
        print(
            f"{label}: linear extrapolation to {FRANCE_VERTICES:,} road vertices from the "
            f"marginal cost between the two largest extracts: build "
            f"{(big[s_key] + s_per_v * extra) / 60:.0f} min, peak RSS "
            f"{(big[mb_key] + mb_per_v * extra) / 1024:.1f} GB "
            f"({mb_per_v * 1e6 / 1024:.3f} GB per million road vertices)"
        )


if __name__ == "__main__":
    main()
