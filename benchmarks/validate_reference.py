"""Validate msapgeo's routes against independent engines: Valhalla and OSRM, same extracts.

Usage::

    .venv/bin/python benchmarks/validate_reference.py [--extract andorra chamonix] [--csv F]

OSRM's wheel on PyPI (``osrm-bindings``) ships ``osrm-extract``, ``osrm-partition``,
``osrm-customize`` and ``osrm-routed`` with its ``car.lua`` profile; like Valhalla's, it is
downloaded for Python 3.12 into the cache and only its executables are run (``osrm-routed``
listens on 127.0.0.1 during the run).

Valhalla's wheels on PyPI (``pyvalhalla``) need Python 3.12: the script downloads the wheel
with pip for that Python into a separate folder of the cache (``MSAPGEO_CACHE/valhalla``),
unpacks it and runs its executables (``valhalla_build_tiles``, ``valhalla_service``), so
nothing of it enters this environment. Tiles are built from the Andorra 2025 extract.

Pairs: every populated place of the test region × every town hall and post office. Both
engines route between the same road vertices (msapgeo's snapped vertices), so off-network
legs do not blur the comparison. Printed: per pair length and time from both engines, then
the median and 90th percentile of the relative differences, overall and by trip length, for
the ``legal`` and the ``mountain`` profiles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

import msapgeo as mg
from msapgeo import datasets
from msapgeo.dem import DEM
from msapgeo.pipeline import demo_places, load_graph
from msapgeo.routing import od_matrix

VALHALLA_VERSION = "3.9.1"
OSRM_VERSION = "26.10.0"
EXTRACTS = {
    "andorra": ("osm_andorra_2025", "srtm_N42E001"),
    "chamonix": ("osm_chamonix_2022", None),
}
PROFILES = ("legal", "practical", "mountain", "insee")
mg.settings.progress = False


def _wheel(root: Path, package: str, version: str, probe: str) -> Path:
    """Unpacked wheel of ``package`` for Python 3.12 (downloaded once with pip)."""
    unpacked = root / f"{package}-{version}"
    if (unpacked / probe).is_file():
        return unpacked
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.12",
            "--platform",
            "manylinux_2_28_x86_64",
            f"{package}=={version}",
            "-d",
            str(root),
        ],
        check=True,
    )
    wheel = next(root.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    for exe in (unpacked / Path(probe).parent).iterdir():
        exe.chmod(0o755)
    return unpacked


def _valhalla(root: Path) -> Path:
    return _wheel(root, "pyvalhalla", VALHALLA_VERSION, "valhalla/bin/valhalla_service")


def _osrm_matrix(
    root: Path, pbf: Path, src: np.ndarray, dst: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Durations (min) and distances (m) from OSRM's car profile, sources × targets."""
    import socket
    import time
    import urllib.request

    osrm = _wheel(root, "osrm-bindings", OSRM_VERSION, "osrm/bin/osrm-routed") / "osrm"
    work = root / f"osrm-{datasets.sha256_file(pbf)[:12]}"
    base = work / pbf.name.replace(".osm.pbf", ".osrm")
    if not (work / "done").is_file():
        work.mkdir(parents=True, exist_ok=True)
        local = work / pbf.name
        local.write_bytes(pbf.read_bytes())
        profile = osrm / "share" / "profiles" / "car.lua"
        for step in (
            ["osrm-extract", "-p", str(profile), str(local)],
            ["osrm-partition", str(base)],
            ["osrm-customize", str(base)],
        ):
            subprocess.run(
                [str(osrm / "bin" / step[0]), *step[1:]], check=True, capture_output=True
            )
        (work / "done").write_text("ok")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            str(osrm / "bin" / "osrm-routed"),
            "--algorithm",
            "mld",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "--max-table-size",
            "100000",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        coords = ";".join(f"{x:.7f},{y:.7f}" for x, y in [*src, *dst])
        n = len(src)
        q = (
            f"http://127.0.0.1:{port}/table/v1/driving/{coords}?sources="
            + ";".join(map(str, range(n)))
            + "&destinations="
            + ";".join(map(str, range(n, n + len(dst))))
            + "&annotations=duration,distance"
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(q, timeout=60) as resp:
                    out = json.loads(resp.read())
                break
            except OSError:
                time.sleep(0.2)
        else:  # pragma: no cover
            raise RuntimeError("osrm-routed did not answer")
    finally:
        server.terminate()
        server.wait()
    t = np.array(out["durations"], dtype=float) / 60
    d = np.array(out["distances"], dtype=float)
    return t, d


def _tiles(vh: Path, pbf: Path, work: Path) -> Path:
    config = work / "valhalla.json"
    if config.is_file() and (work / "tiles").is_dir() and any((work / "tiles").iterdir()):
        return config
    (work / "tiles").mkdir(parents=True, exist_ok=True)
    cfg = subprocess.run(
        [
            sys.executable,
            str(vh / "valhalla" / "valhalla_build_config.py"),
            "--mjolnir-tile-dir",
            str(work / "tiles"),
            "--mjolnir-tile-extract",
            str(work / "tiles.tar"),
            "--mjolnir-timezone",
            str(work / "tz.sqlite"),
            "--mjolnir-admin",
            str(work / "admins.sqlite"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config.write_text(cfg)
    subprocess.run(
        [str(vh / "valhalla" / "bin" / "valhalla_build_tiles"), "-c", str(config), str(pbf)],
        capture_output=True,
        check=True,
    )
    return config


def _matrix(
    vh: Path, config: Path, src: np.ndarray, dst: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    req = {
        "sources": [{"lon": float(x), "lat": float(y)} for x, y in src],
        "targets": [{"lon": float(x), "lat": float(y)} for x, y in dst],
        "costing": "auto",
        "units": "kilometers",
    }
    out = subprocess.run(
        [
            str(vh / "valhalla" / "bin" / "valhalla_service"),
            str(config),
            "sources_to_targets",
            json.dumps(req),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = json.loads(out)["sources_to_targets"]
    t = np.full((len(src), len(dst)), np.nan)
    d = np.full((len(src), len(dst)), np.nan)
    for row in rows:
        for cell in row:
            if cell.get("time") is not None:
                t[cell["from_index"], cell["to_index"]] = cell["time"] / 60
                d[cell["from_index"], cell["to_index"]] = cell["distance"]
    return t, d


def _on_vertices(g: mg.RoutingGraph, pts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    s = mg.snap(g, pts)
    s = s[s["exclusion"].isna()].copy()
    ids = s["node_osmid"].to_numpy()
    pos = {int(o): i for i, o in enumerate(g.vx_osmid)}
    idx = [pos[int(o)] for o in ids]
    s["vx_lon"], s["vx_lat"] = g.vx_lon[idx], g.vx_lat[idx]
    s["snap_m"], s["snap_time_s"] = 0.0, 0.0  # route vertex to vertex in all engines
    return s


def _stats(rel: pd.Series) -> str:
    a = rel.abs().dropna()
    if not len(a):
        return "n=0"
    return f"median {100 * a.median():5.1f} %, p90 {100 * a.quantile(0.9):5.1f} % (n={len(a)})"


def _graphs(key: str) -> tuple[Path, object, dict[str, mg.RoutingGraph]]:
    osm_name, dem_name = EXTRACTS[key]
    pbf = datasets.fetch(osm_name)
    feats = mg.read_features(pbf)
    dem = DEM.from_files([datasets.fetch(dem_name)]) if dem_name else None
    density = None
    if key == "chamonix":  # INSEE Métric's density classes from the communes of the region
        from msapgeo.regions import commune_density, load_region

        density = commune_density(load_region("pays-du-mont-blanc").origins)
    graphs = {
        p: load_graph(pbf, features=feats, profile=p, dem=dem, density=density) for p in PROFILES
    }
    return pbf, feats, graphs


def validate(key: str, max_places: int, seed: int = 0) -> pd.DataFrame:
    """Per-pair table of one extract: msapgeo (each profile), Valhalla and OSRM."""
    pbf, feats, graphs = _graphs(key)
    places, sites = demo_places(feats)  # type: ignore[arg-type]
    if len(places) > max_places:
        places = places.sample(max_places, random_state=seed)
    base = graphs["legal"]
    o = _on_vertices(base, places)
    s = _on_vertices(base, sites)
    src = o[["vx_lon", "vx_lat"]].to_numpy()
    dst = s[["vx_lon", "vx_lat"]].to_numpy()
    root = datasets.cache_dir() / "valhalla"
    vh = _valhalla(root)
    config = _tiles(vh, pbf, root / f"tiles-{datasets.sha256_file(pbf)[:12]}")
    vt, vd = _matrix(vh, config, src, dst)
    ot, od = _osrm_matrix(datasets.cache_dir() / "osrm", pbf, src, dst)
    frames = []
    for name, g in graphs.items():
        m = od_matrix(g, o, s, site_id="site_id", defaults=True)
        frames.append(
            pd.DataFrame(
                {
                    "extract": key,
                    "profile": name,
                    "origin": np.repeat(o["name"].to_numpy(), len(s)),
                    "site": np.tile(s["site_id"].to_numpy(), len(o)),
                    "msapgeo_km": m.dist_km.ravel(),
                    "msapgeo_min": m.time_min.ravel(),
                    "valhalla_km": vd.ravel(),
                    "valhalla_min": vt.ravel(),
                    "osrm_km": od.ravel() / 1000,
                    "osrm_min": ot.ravel(),
                    "tagged_share": g.meta.get("maxspeed_tagged_share"),
                    "msapgeo_default_km": m.default_km.ravel(),  # type: ignore[union-attr]
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df = df[(df["valhalla_km"] > 0.2) & df["msapgeo_km"].notna()]  # same-vertex pairs out
    df["rel_length"] = df["msapgeo_km"] / df["valhalla_km"] - 1
    df["rel_time"] = df["msapgeo_min"] / df["valhalla_min"] - 1
    df["rel_time_osrm"] = df["msapgeo_min"] / df["osrm_min"] - 1
    df["trip"] = pd.cut(
        df["valhalla_km"], [0, 2, 10, 30, 1e9], labels=["< 2 km", "2-10 km", "10-30 km", "> 30 km"]
    )
    return df


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per extract and profile: the issue's targets, against Valhalla and OSRM."""
    rows = []
    for (key, prof), d in df.groupby(["extract", "profile"], sort=False):
        short = d[d["valhalla_km"] < 2]
        defaults_share = d["msapgeo_default_km"].sum() / d["msapgeo_km"].sum()
        rows.append(
            {
                "extract": key,
                "profile": prof,
                "pairs": len(d),
                "maxspeed km share": f"{100 * d['tagged_share'].iloc[0]:.0f} %",
                "route km at defaults": f"{100 * defaults_share:.0f} %",
                "length |diff| median": f"{100 * d['rel_length'].abs().median():.1f} %",
                "Valhalla signed median": f"{100 * d['rel_time'].median():+.1f} %",
                "Valhalla |diff| median": f"{100 * d['rel_time'].abs().median():.1f} %",
                "Valhalla |diff| p90": f"{100 * d['rel_time'].abs().quantile(0.9):.1f} %",
                "< 2 km signed median": f"{100 * short['rel_time'].median():+.1f} %"
                if len(short)
                else "—",
                "OSRM signed median": f"{100 * d['rel_time_osrm'].median():+.1f} %",
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description="msapgeo vs Valhalla and OSRM on the extracts")
    ap.add_argument("--extract", nargs="*", default=list(EXTRACTS), choices=list(EXTRACTS))
    ap.add_argument("--max-places", type=int, default=80, help="places sampled per extract")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-pair table here")
    args = ap.parse_args()
    if not os.environ.get("MSAPGEO_MIRROR"):
        shared = Path(__file__).resolve().parents[2] / "shared" / "data"
        if shared.is_dir():
            os.environ["MSAPGEO_MIRROR"] = str(shared)
    df = pd.concat([validate(k, args.max_places) for k in args.extract], ignore_index=True)
    if args.csv:
        df.to_csv(args.csv, index=False)
    print(
        f"msapgeo {mg.__version__} vs Valhalla {VALHALLA_VERSION} (auto) and OSRM "
        f"{OSRM_VERSION} (car.lua), vertex to vertex\n"
    )
    print(summary(df).to_markdown(index=False))
    for (key, prof), d in df.groupby(["extract", "profile"], sort=False):
        print(f"\n[{key} / {prof}] by trip length (time vs Valhalla):")
        for trip, sub in d.groupby("trip", observed=True):
            print(
                f"   {trip:>9}: signed {100 * sub['rel_time'].median():+5.1f} %, "
                f"{_stats(sub['rel_time'])}"
            )


if __name__ == "__main__":
    main()
