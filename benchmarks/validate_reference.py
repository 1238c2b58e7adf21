"""Validate msapgeo's routes against an independent engine: Valhalla, on the same extract.

Usage::

    .venv/bin/python benchmarks/validate_reference.py [--csv pairs.csv]

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
from msapgeo.pipeline import demo_inputs, demo_places, load_graph
from msapgeo.routing import od_matrix

VALHALLA_VERSION = "3.9.1"
mg.settings.progress = False


def _valhalla(root: Path) -> Path:
    """Unpacked pyvalhalla wheel (downloaded once with pip, for Python 3.12)."""
    unpacked = root / f"pyvalhalla-{VALHALLA_VERSION}"
    if (unpacked / "valhalla" / "bin" / "valhalla_service").is_file():
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
            f"pyvalhalla=={VALHALLA_VERSION}",
            "-d",
            str(root),
        ],
        check=True,
    )
    wheel = next(root.glob(f"pyvalhalla-{VALHALLA_VERSION}-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    for exe in (unpacked / "valhalla" / "bin").iterdir():
        exe.chmod(0o755)
    return unpacked


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
    s["snap_m"], s["snap_time_s"] = 0.0, 0.0  # route vertex to vertex in both engines
    return s


def _stats(rel: pd.Series) -> str:
    a = rel.abs().dropna()
    return f"median {100 * a.median():5.1f} %, p90 {100 * a.quantile(0.9):5.1f} % (n={len(a)})"


def main() -> None:
    ap = argparse.ArgumentParser(description="msapgeo vs Valhalla on the Andorra 2025 extract")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-pair table here")
    ap.add_argument("--quiet-pairs", action="store_true", help="do not print every pair")
    args = ap.parse_args()
    if not os.environ.get("MSAPGEO_MIRROR"):
        shared = Path(__file__).resolve().parents[2] / "shared" / "data"
        if shared.is_dir():
            os.environ["MSAPGEO_MIRROR"] = str(shared)

    pbf, feats = demo_inputs()
    legal = load_graph(pbf, features=feats)
    dem = DEM.from_files([datasets.fetch("srtm_N42E001")])
    mountain = load_graph(pbf, features=feats, profile="mountain", dem=dem)
    places, sites = demo_places(feats)
    o = _on_vertices(legal, places)
    s = _on_vertices(legal, sites)

    root = datasets.cache_dir() / "valhalla"
    vh = _valhalla(root)
    config = _tiles(vh, pbf, root / f"tiles-{datasets.sha256_file(pbf)[:12]}")
    vt, vd = _matrix(
        vh, config, o[["vx_lon", "vx_lat"]].to_numpy(), s[["vx_lon", "vx_lat"]].to_numpy()
    )

    rows = []
    for name, g in (("legal", legal), ("mountain", mountain)):
        m = od_matrix(g, o, s, site_id="site_id")
        for i in range(len(o)):
            for j in range(len(s)):
                rows.append(
                    {
                        "profile": name,
                        "origin": o["name"].iloc[i],
                        "site": s["site_id"].iloc[j],
                        "msapgeo_km": m.dist_km[i, j],
                        "valhalla_km": vd[i, j],
                        "msapgeo_min": m.time_min[i, j],
                        "valhalla_min": vt[i, j],
                    }
                )
    df = pd.DataFrame(rows)
    df = df[(df["valhalla_km"] > 0.2) & df["msapgeo_km"].notna()]  # same-vertex pairs out
    df["rel_length"] = df["msapgeo_km"] / df["valhalla_km"] - 1
    df["rel_time"] = df["msapgeo_min"] / df["valhalla_min"] - 1
    df["trip"] = pd.cut(df["valhalla_km"], [0, 5, 15, 1e9], labels=["< 5 km", "5-15 km", "> 15 km"])
    if args.csv:
        df.to_csv(args.csv, index=False)
    if not args.quiet_pairs:
        legal_pairs = df[df["profile"] == "legal"].copy()
        legal_pairs["mountain_min"] = df[df["profile"] == "mountain"]["msapgeo_min"].to_numpy()
        cols = [
            "origin",
            "site",
            "msapgeo_km",
            "valhalla_km",
            "msapgeo_min",
            "mountain_min",
            "valhalla_min",
        ]
        print(legal_pairs[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(
        f"\nmsapgeo {mg.__version__} vs Valhalla {VALHALLA_VERSION} (auto costing), "
        f"Andorra 2025, {len(o)} places × {len(s)} sites"
    )
    for name in ("legal", "mountain"):
        d = df[df["profile"] == name]
        print(f"\n[{name}] route length: {_stats(d['rel_length'])}")
        print(
            f"[{name}] travel time:  {_stats(d['rel_time'])}; "
            f"median signed {100 * d['rel_time'].median():+.1f} %"
        )
        for trip, sub in d.groupby("trip", observed=True):
            print(
                f"   {trip:>8}: length {_stats(sub['rel_length'])} | time {_stats(sub['rel_time'])}"
            )
    lp, mp = df[df["profile"] == "legal"], df[df["profile"] == "mountain"]
    ratio = mp["msapgeo_min"].to_numpy() / lp["msapgeo_min"].to_numpy()
    print(
        f"\nmountain / legal time: median {np.nanmedian(ratio):.3f}, p90 "
        f"{np.nanpercentile(ratio, 90):.3f}, max {np.nanmax(ratio):.3f}"
    )


if __name__ == "__main__":
    main()
