"""France-scale benchmark: build a graph from generated OSM extracts of 1 M and 5 M road
vertices (20 M with ``--large``), then route 35,000 origins to 2,850 sites on it.

Usage::

    .venv/bin/python benchmarks/bench_national.py [--sizes 1000000 5000000] [--large]

The extracts are written with pyosmium into the cache: a perturbed grid of streets whose
ways run over ~10 vertices each (so most vertices are shape points, as in OSM), classes
and a third of ``maxspeed`` tags drawn at random, a village ``place`` node every 25 km².
Each build runs in a fresh process; its peak resident memory is read from ``VmHWM``. The
routing step snaps 35,000 origins and 2,850 sites (mid-street points), routes nearest
sites end to end, and times one raw ``csgraph.dijkstra(min_only=True)`` on the same
graph, side by side. Printed: time and memory per size, and the linear extrapolation to
a France-size extract (metropolitan France: about 100 M road vertices in OSM).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FRANCE_VERTICES = 100_000_000


def write_extract(path: Path, n_vertices: int, seed: int = 0) -> None:
    """A synthetic road extract of about ``n_vertices`` vertices (see the module notes)."""
    import osmium

    rng = np.random.default_rng(seed)
    per_way = 10
    n_ways = n_vertices // per_way
    k = int(np.sqrt(n_ways / 2)) + 1  # k rows and k columns of streets, split in ways
    spacing = 0.002  # degrees between vertices along a street (~160 m)
    lon0, lat0 = 2.0, 45.0
    classes = np.array(["residential", "unclassified", "tertiary", "secondary", "primary"])
    probs = np.array([0.45, 0.25, 0.15, 0.1, 0.05])
    nid = 1
    wid = 1
    span = k * per_way  # vertices per street line
    tmp = path.with_suffix(".tmp.pbf")
    tmp.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(tmp)) as w:
        # node ids: line-major grid of (2 directions × k lines × span vertices); crossings
        # shared: horizontal line i vertex j*per_way is vertical line j vertex i*per_way
        ids = {}

        def node(
            lon: float, lat: float, key: tuple[int, int, int], tags: dict | None = None
        ) -> int:
            nonlocal nid
            if key in ids:
                return ids[key]
            ids[key] = nid
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), tags=tags or {}))
            nid += 1
            return ids[key]

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
                    lon += rng.uniform(-2e-4, 2e-4) if not crossing else 0.0
                    refs_line.append(node(lon, lat, key))
                for s0 in range(0, span - per_way, per_way):
                    tags = {"highway": str(rng.choice(classes, p=probs))}
                    if rng.random() < 0.33:
                        tags["maxspeed"] = str(rng.choice([30, 50, 70, 80, 90]))
                    w.add_way(
                        osmium.osm.mutable.Way(
                            id=wid, nodes=refs_line[s0 : s0 + per_way + 1], tags=tags
                        )
                    )
                    wid += 1
            ids = {key: v for key, v in ids.items() if key[0] == 2}  # keep crossings only
        # villages: place nodes on a coarse grid
        for i in range(0, k, 30):
            for j in range(0, k, 30):
                w.add_node(
                    osmium.osm.mutable.Node(
                        id=nid,
                        location=(lon0 + j * spacing * 10, lat0 + i * spacing * 10),
                        tags={"place": "village", "name": f"v{i}-{j}"},
                    )
                )
                nid += 1
    os.replace(tmp, path)


_BUILD_CODE = """
import json, time
def _hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
import msapgeo as mg
mg.settings.progress = False
{base}
t0 = time.perf_counter()
g = mg.graph_from_osm({path!r})
dt = time.perf_counter() - t0
print(json.dumps({{'s': dt, 'peak_mb': _hwm(), 'vertices': len(g.vx_osmid), 'nodes': g.n_nodes}}))
"""


def bench_build(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _BUILD_CODE.format(path=str(path), base="")],
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
    t0 = time.perf_counter()
    csgraph.dijkstra(split.csr_reverse, directed=True, indices=idx[idx >= 0], min_only=True)
    t_floor = time.perf_counter() - t0
    return {"snap_s": t_snap, "first_s": t_first, "again_s": t_again, "floor_s": t_floor}


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
        path = cache / f"synthetic-{n}.osm.pbf"
        if not path.is_file():
            t0 = time.perf_counter()
            write_extract(path, n)
            print(f"wrote {path.name} in {time.perf_counter() - t0:.0f} s", flush=True)
        b = bench_build(path)
        r = bench_route(path)
        rows.append({"n": n, **b, **r})
        print(json.dumps(rows[-1]), flush=True)
    print(
        "\n| vertices | graph nodes | build (s) | peak RSS (GB) | snap 35,000 + 2,850 (s) "
        "| nearest site, first (s) | again (s) | csgraph floor (s) | again / floor |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print(
            f"| {r['vertices']:,} | {r['nodes']:,} | {r['s']:.0f} | {r['peak_mb'] / 1024:.2f} | "
            f"{r['snap_s']:.1f} | {r['first_s']:.1f} | {r['again_s']:.2f} | {r['floor_s']:.2f} "
            f"| {r['again_s'] / r['floor_s']:.1f} |"
        )
    big = rows[-1]
    if len(rows) > 1:  # marginal cost per vertex between the two largest extracts
        small = rows[-2]
        dv = big["vertices"] - small["vertices"]
        s_per_v = (big["s"] - small["s"]) / dv
        mb_per_v = (big["peak_mb"] - small["peak_mb"]) / dv
    else:
        s_per_v, mb_per_v = big["s"] / big["vertices"], big["peak_mb"] / big["vertices"]
    extra = FRANCE_VERTICES - big["vertices"]
    print(
        f"\nlinear extrapolation to {FRANCE_VERTICES:,} vertices from the marginal cost "
        f"between the two largest extracts: build {(big['s'] + s_per_v * extra) / 60:.0f} min, "
        f"peak RSS {(big['peak_mb'] + mb_per_v * extra) / 1024:.0f} GB "
        f"({mb_per_v * 1e6 / 1024:.2f} GB per million vertices)"
    )


if __name__ == "__main__":
    main()
