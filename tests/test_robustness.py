"""Interrupted runs, concurrent caches and faulty inputs: atomic outputs, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from msapgeo import settings
from msapgeo.cli import main
from msapgeo.errors import InputError
from msapgeo.fileio import OutputFolder, sha256_file
from tests.hostile_fixture import points_table, write_hostile_pbf

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pbf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_pbf(tmp_path_factory.mktemp("robust"))


@pytest.fixture(scope="module")
def pts_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("robust-csv") / "pts.csv"
    pd.DataFrame(points_table()).drop(columns="name").to_csv(p, index=False)
    return p


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


def _complete(folder: Path) -> bool:
    """The folder holds exactly the files its run.json lists, with their SHA-256."""
    run = json.loads((folder / "run.json").read_text())
    listed = {f["path"]: f["sha256"] for f in run["files"]}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        "run.json"
    }
    return present == set(listed) and all(sha256_file(folder / k) == v for k, v in listed.items())


# --------------------------------------------------------------------------- outputs


def test_output_folder_is_replaced_whole(tmp_path: Path, pbf: Path, pts_csv: Path) -> None:
    out = tmp_path / "out"
    base = ["--osm", str(pbf), "--origins", str(pts_csv), "--sites", str(pts_csv), "--quiet"]
    assert main(["demo", "--osm", str(pbf), "--out", str(out), "--quiet"]) == 0
    assert (out / "diagnostic").is_dir()
    assert main(["access", *base, "--out", str(out)]) == 0
    assert not (out / "diagnostic").exists()  # no stale diagnostic beside a new access run
    assert _complete(out)
    assert not list(tmp_path.glob(".out.*"))  # no temporary folder left


def test_foreign_folder_is_refused(tmp_path: Path, pbf: Path, pts_csv: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own file")
    code = main(
        [
            "access",
            "--osm",
            str(pbf),
            "--origins",
            str(pts_csv),
            "--sites",
            str(pts_csv),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    _one_line_error(capsys, code, "not empty")
    assert (out / "notes.txt").read_text() == "my own file"


def test_failed_run_leaves_previous_outputs(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with OutputFolder(out, {"n": 1}) as f:
        (f.path / "a.csv").write_text("first")

    def crash() -> None:
        with OutputFolder(out, {"n": 2}) as f:
            (f.path / "a.csv").write_text("second")
            raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError):
        crash()
    assert (out / "a.csv").read_text() == "first"
    assert _complete(out)
    assert not list(tmp_path.glob(".o.msapgeo-*"))


_KILL_SCRIPT = """
import sys, time
from pathlib import Path
from msapgeo.fileio import OutputFolder
out, tag = Path(sys.argv[1]), sys.argv[2]
with OutputFolder(out, {"tag": tag}) as f:
    for i in range(40):
        (f.path / f"part{i:02d}.csv").write_text(tag * 1000)
        time.sleep(0.01)
"""


@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.15, 0.3])
def test_sigkill_leaves_previous_or_nothing(tmp_path: Path, delay_s: float) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", _KILL_SCRIPT, str(out)]
    subprocess.run([*cmd, "old"], check=True, cwd=REPO)
    assert _complete(out)
    fresh = tmp_path / "fresh"
    for target, had_previous in ((out, True), (fresh, False)):
        proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(target), "new"], cwd=REPO)
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(f".{target.name}.msapgeo-*/part*")):
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if had_previous:
            assert _complete(target)
            tag = json.loads((target / "run.json").read_text())["tag"]
            assert tag in ("old", "new")  # the old run, or the whole new one if it finished
        else:
            assert not target.exists() or _complete(target)
    # the next run cleans what the killed one left
    subprocess.run([*cmd, "again"], check=True, cwd=REPO)
    assert _complete(out)
    assert not list(tmp_path.glob(".run.msapgeo-*"))


# --------------------------------------------------------------------------- graph cache

_BUILD = """
import sys
from msapgeo.pipeline import load_graph
g = load_graph(sys.argv[1], progress=False)
print(g.n_nodes)
"""


def test_four_processes_share_one_fresh_cache(tmp_path: Path, pbf: Path) -> None:
    ok = 0
    for round_ in range(5):
        env = {**os.environ, "MSAPGEO_CACHE": str(tmp_path / f"cache{round_}")}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _BUILD, str(pbf)],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for p in procs:
            stdout, stderr = p.communicate(timeout=120)
            assert p.returncode == 0, stderr
            assert int(stdout.strip()) == 36
            ok += 1
        graphs = list((tmp_path / f"cache{round_}" / "graphs").iterdir())
        assert len(graphs) == 1, graphs
        assert graphs[0].suffix == ".npz", graphs
    assert ok == 20


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_cached_graph_is_rebuilt(
    tmp_path: Path, pbf: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    from msapgeo.pipeline import graph_cache_path, load_graph

    monkeypatch.setenv("MSAPGEO_CACHE", str(tmp_path / "cache"))
    g = load_graph(pbf, progress=False)
    from msapgeo.speeds import SpeedModel

    # the default profile (practical) is built on the practical speed table
    path = graph_cache_path(pbf, SpeedModel(practical=True), settings.network_type)
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"PK\x03\x04" + b"x" * 500, "empty": b""}[
            damage
        ]
    )
    with pytest.warns(UserWarning, match="removed and rebuilt"):
        g2 = load_graph(pbf, progress=False)

    def same(a, b) -> bool:  # type: ignore[no-untyped-def]
        return bool(
            a.replace(meta={**a.meta, "build_s": 0}).equals(
                b.replace(meta={**b.meta, "build_s": 0})
            )
        )

    assert same(g2, g)
    assert same(load_graph(pbf, progress=False), g)  # the rebuilt cache is sound


# --------------------------------------------------------------------------- one-line errors


def _access(pbf: Path, origins: Path, sites: Path, out: Path, *extra: str) -> list[str]:
    return [
        "access",
        "--osm",
        str(pbf),
        "--origins",
        str(origins),
        "--sites",
        str(sites),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def test_missing_or_folder_extract(tmp_path: Path, pts_csv: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for osm in (tmp_path / "nope.osm.pbf", tmp_path):
        code = main(_access(osm, pts_csv, pts_csv, tmp_path / "o"))
        _one_line_error(capsys, code, "--osm")


def test_empty_and_header_only_csv(tmp_path: Path, pbf: Path, pts_csv: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _one_line_error(capsys, main(_access(pbf, empty, pts_csv, tmp_path / "o")), "empty.csv")
    header = tmp_path / "header.csv"
    header.write_text("id,lon,lat\n")
    _one_line_error(capsys, main(_access(pbf, header, pts_csv, tmp_path / "o")), "no rows")


def test_id_and_fid_columns_are_written(tmp_path: Path, pbf: Path, pts_csv: Path) -> None:
    df = pd.read_csv(pts_csv)
    odd = tmp_path / "odd.csv"
    df.assign(ID=["X"] * len(df), fid=range(100, 100 + len(df))).to_csv(odd, index=False)
    out = tmp_path / "o"
    assert main(_access(pbf, odd, pts_csv, out)) == 0
    layer = gpd.read_file(out / "access.gpkg", layer="origins")
    assert {"ID_source", "fid_source"} <= set(layer.columns)
    assert _complete(out)


@pytest.mark.parametrize("value", ["2027-13-45", "tomorrow"])
def test_bad_winter_date(tmp_path: Path, value: str, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["scenario", "--winter", value, "--out", str(tmp_path / "o")])
    _one_line_error(capsys, code, "--winter", "YYYY-MM-DD")


def test_missing_close_polygon(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        ["scenario", "--close-polygon", str(tmp_path / "x.geojson"), "--out", str(tmp_path)]
    )
    _one_line_error(capsys, code, "--close-polygon")


def test_out_is_a_file(tmp_path: Path, pbf: Path, pts_csv: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "file.txt"
    f.write_text("x")
    _one_line_error(capsys, main(_access(pbf, pts_csv, pts_csv, f)), "is a file")


@pytest.mark.parametrize(
    "args",
    [
        ["optimise", "--threshold", "0"],
        ["optimise", "--threshold", "-5"],
        ["optimise", "--threshold", "nan"],
        ["optimise", "--k", "0"],
        ["demo", "--tolerance-m", "-5"],
        ["demo", "--offnetwork-kmh", "0"],
    ],
)
def test_numbers_are_validated(tmp_path: Path, args: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    code = main([*args, "--out", str(tmp_path / "o")])
    _one_line_error(capsys, code, args[1])


@pytest.mark.parametrize("dep", ["99", "975", "20", "ZZ"])
def test_unknown_departement(tmp_path: Path, dep: str, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["diagnose", dep, "--out", str(tmp_path / "o")])
    _one_line_error(capsys, code, "département")


def test_sigint_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import msapgeo.cli as cli

    def interrupted(args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_demo", interrupted)
    assert main(["demo", "--out", str(tmp_path / "o")]) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_sigint_on_a_real_process(tmp_path: Path, pbf: Path, pts_csv: Path) -> None:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "msapgeo"),
            *_access(pbf, pts_csv, pts_csv, tmp_path / "o"),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # inside the imports or the run
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # finished before the signal: nothing to check
        return
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_polygon_inputs_are_noted(tmp_path: Path, pbf: Path, pts_csv: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pts = pd.DataFrame(points_table())
    polys = gpd.GeoDataFrame(
        pts[["id"]],
        geometry=[
            shapely.Point(x, y).buffer(0.0005) for x, y in zip(pts.lon, pts.lat, strict=True)
        ],
        crs="EPSG:4326",
    )
    f = tmp_path / "polys.geojson"
    polys.to_file(f)
    out = tmp_path / "o"
    assert main(_access(pbf, f, pts_csv, out)) == 0
    assert "replaced by a point inside each shape" in capsys.readouterr().out
    layer = gpd.read_file(out / "access.gpkg", layer="origins")
    assert (layer["point_source"] == "representative point of a Polygon").all()


def test_multi_layer_geopackage_needs_a_layer(
    tmp_path: Path, pbf: Path, pts_csv: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    pts = pd.DataFrame(points_table())
    g = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts.lon, pts.lat), crs="EPSG:4326")
    f = tmp_path / "two.gpkg"
    g.to_file(f, layer="a")
    g.iloc[:3].to_file(f, layer="b")
    _one_line_error(capsys, main(_access(pbf, f, pts_csv, tmp_path / "o")), "--origins-layer")
    out = tmp_path / "o2"
    assert main([*_access(pbf, f, pts_csv, out), "--origins-layer", "b"]) == 0
    assert len(gpd.read_file(out / "access.gpkg", layer="origins")) == 3


def test_cp1252_csv_is_read(tmp_path: Path, pbf: Path, pts_csv: Path) -> None:
    df = pd.DataFrame(points_table()).assign(name="Saint-Étienne-en-Dévoluy")
    f = tmp_path / "excel.csv"
    df.to_csv(f, index=False, sep=";", encoding="cp1252")
    out = tmp_path / "o"
    assert main(_access(pbf, f, pts_csv, out)) == 0
    layer = gpd.read_file(out / "access.gpkg", layer="origins")
    assert (layer["name"] == "Saint-Étienne-en-Dévoluy").all()


def test_od_matrix_raises_like_nearest_site(pbf: Path) -> None:
    from msapgeo.network import graph_from_osm
    from msapgeo.routing import nearest_site, od_matrix

    g = graph_from_osm(pbf, progress=False)
    pts = pd.DataFrame(points_table())
    origins = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts.lon, pts.lat), crs=4326)
    far = gpd.GeoDataFrame({"id": ["far"]}, geometry=[shapely.Point(1.9, 42.9)], crs=4326)
    for fn in (nearest_site, od_matrix):
        with pytest.raises(InputError, match="no site could be placed"):
            fn(g, origins, far)


def test_graph_out_folder(tmp_path: Path, pbf: Path) -> None:
    folder = tmp_path / "graphs"
    folder.mkdir()
    assert main(["graph", "--osm", str(pbf), "--out", str(folder), "--quiet"]) == 0
    assert (folder / "hostile.npz").is_file()
    assert not (tmp_path / "graphs.npz").exists()


def test_cli_leaves_settings_unchanged(tmp_path: Path, pbf: Path, pts_csv: Path) -> None:
    before = (settings.snap_tolerance_m, settings.offnetwork_speed_kmh, settings.progress)
    args = _access(pbf, pts_csv, pts_csv, tmp_path / "o", "--tolerance-m", "900")
    assert main([*args, "--offnetwork-kmh", "9"]) == 0
    assert (settings.snap_tolerance_m, settings.offnetwork_speed_kmh, settings.progress) == before


# --------------------------------------------------------------------------- large inputs


def test_map_of_100000_origins_is_light(tmp_path: Path) -> None:
    from msapgeo.maps import access_map, save_offline

    rng = np.random.default_rng(1)
    n = 100_000
    lon = rng.uniform(5.5, 7.0, n)
    lat = rng.uniform(44.2, 45.1, n)
    origins = gpd.GeoDataFrame(
        {"id": [f"o{i}" for i in range(n)], "time_min": rng.gamma(3, 6, n)},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    origins.loc[origins.index[:50], "time_min"] = np.nan
    sites = gpd.GeoDataFrame(
        {"site_id": ["s1", "s2"], "name": ["A", "B"]},
        geometry=gpd.points_from_xy([6.0, 6.5], [44.5, 44.8]),
        crs="EPSG:4326",
    )
    t0 = time.perf_counter()
    path = save_offline(access_map(origins, sites), tmp_path / "big.html")
    elapsed = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    assert elapsed < 20, elapsed
    assert size_mb < 15, size_mb
    assert "points regroupés" in path.read_text()


def test_graph_cache_key_follows_the_build_rules(
    pbf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import msapgeo.graphcache as graphcache

    before = graphcache.graph_cache_path(pbf, None, "drive")
    monkeypatch.setattr(graphcache, "BUILD_VERSION", graphcache.BUILD_VERSION + 1)
    assert graphcache.graph_cache_path(pbf, None, "drive") != before


def test_settings_refuse_wrong_values_and_override_restores() -> None:
    with pytest.raises(TypeError, match="snap_tolerance_m"):
        settings.snap_tolerance_m = "2000"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="positive"):
        settings.offnetwork_speed_kmh = 0
    with pytest.raises(ValueError, match="profile"):
        settings.profile = "fast"
    with pytest.raises(AttributeError, match="no setting"):
        settings.snap_tolerence_m = 5  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="increasing"):
        settings.thresholds_min = (30.0, 20.0)
    before = settings.snap_tolerance_m
    with settings.override(snap_tolerance_m=2_000, profile="legal"):
        assert settings.snap_tolerance_m == 2_000.0
        assert settings.profile == "legal"
    assert settings.snap_tolerance_m == before
    assert settings.profile == "practical"
