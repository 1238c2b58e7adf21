"""CLI: the demo end to end, the generic access run, bad inputs and département errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from msapgeo.cli import main


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--region", "andorra", "--out", str(out), "--quiet"]) == 0
    return out


def test_demo_writes_every_output(demo_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("access.gpkg", "access.csv", "map.html", "exclusions.csv", "run.json"):
        assert (demo_out / name).is_file(), name
    layers = {name for name, _ in pyogrio.list_layers(demo_out / "access.gpkg")}
    assert {"origins", "sites", "edges", "exclusions"} <= layers
    origins = gpd.read_file(demo_out / "access.gpkg", layer="origins")
    assert len(origins) > 50
    # a finite time for every origin placed on the largest component
    placed = origins["exclusion"].isna()
    assert placed.sum() >= 0.9 * len(origins)
    assert np.isfinite(origins.loc[placed, "time_min"]).all()
    assert (origins.loc[placed, "time_min"] < 60).all()
    # every origin is either timed or excluded with a reason
    assert (origins["time_min"].notna() | origins["exclusion"].notna()).all()
    excl = pd.read_csv(demo_out / "exclusions.csv", sep=";")
    assert len(excl) == (~placed).sum()
    edges = gpd.read_file(demo_out / "access.gpkg", layer="edges")
    assert {"osm_way_id", "speed_kmh", "speed_source", "time_s"} <= set(edges.columns)
    html = (demo_out / "map.html").read_text()
    assert "msapgeo-legend" in html
    assert "Origines (classe de temps)" in html
    assert "cdn.jsdelivr" not in html  # Leaflet inlined: the map works offline


def test_demo_writes_the_diagnostic(demo_out: Path) -> None:
    d = demo_out / "diagnostic"
    for name in ("diagnostic.gpkg", "diagnostic.xlsx", "map.html", "report.html"):
        assert (d / name).is_file(), name
    communes = gpd.read_file(d / "diagnostic.gpkg", layer="communes")
    # parishes (admin_level=7) stand in for EPCI; no density table: flags 'unknown';
    # no official mountain list: estimated from the DEM and labelled so
    assert communes["epci_nom"].nunique() == 7
    assert (communes["density_class"] == "unknown").all()
    assert set(communes["mountain_source"]) == {"estimated (DEM)"}
    assert communes["population"].notna().sum() == 4  # places with a population tag
    report = (d / "report.html").read_text()
    assert "70 des 74 communes n&#x27;ont pas de population connue" in report or (
        "70 des 74 communes n&#39;ont pas de population connue" in report
    )
    ex = pd.read_excel(d / "diagnostic.xlsx", sheet_name="exclusions")
    excluded = communes[communes["exclusion"].notna()]
    assert set(excluded["insee_com"]) <= set(ex["identifiant"])


def test_access_from_files(tmp_path: Path, demo_out: Path, andorra_pbf: Path) -> None:
    origins = gpd.read_file(demo_out / "access.gpkg", layer="origins").head(10)
    o = tmp_path / "o.csv"
    pd.DataFrame(
        {"code": origins["id"], "lon": origins.geometry.x, "lat": origins.geometry.y}
    ).to_csv(o, index=False)
    s = tmp_path / "s.geojson"
    gpd.read_file(demo_out / "access.gpkg", layer="sites")[["site_id", "geometry"]].to_file(s)
    out = tmp_path / "out"
    rc = main(
        [
            "access",
            "--osm",
            str(andorra_pbf),
            "--origins",
            str(o),
            "--sites",
            str(s),
            "--out",
            str(out),
            "--quiet",
            "--origin-id",
            "code",
            "--site-id",
            "site_id",
            "--csv-format",
            "machine",
        ]
    )
    assert rc == 0
    res = pd.read_csv(out / "access.csv")
    demo = origins.set_index("id")["time_min"]
    got = res.set_index("code")["time_min"]
    assert np.allclose(got.loc[demo.index].to_numpy(), demo.to_numpy(), equal_nan=True)


def test_access_bad_inputs(
    tmp_path: Path, andorra_pbf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("id,lon,lat\na,1.52,42.51\n")
    nocoord = tmp_path / "nocoord.csv"
    nocoord.write_text("id,name\na,A\n")
    faraway = tmp_path / "faraway.csv"
    faraway.write_text("id,lon,lat\nparis,2.35,48.85\n")
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    base = ["access", "--out", str(tmp_path / "o"), "--quiet"]

    assert (
        main([*base, "--osm", str(andorra_pbf), "--origins", str(nocoord), "--sites", str(good)])
        == 2
    )
    assert "nocoord.csv: no coordinate columns" in capsys.readouterr().err
    assert (
        main([*base, "--osm", str(andorra_pbf), "--origins", str(faraway), "--sites", str(good)])
        == 2
    )
    assert "no origin lies within the area" in capsys.readouterr().err
    assert main([*base, "--osm", str(empty), "--origins", str(good), "--sites", str(good)]) == 2
    assert "empty.osm.pbf is empty" in capsys.readouterr().err
    # an origin outside the network among good ones is excluded and reported
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("id,lon,lat\na,1.52,42.51\nparis,2.35,48.85\n")
    out = tmp_path / "mixed_out"
    assert (
        main(
            [
                "access",
                "--out",
                str(out),
                "--quiet",
                "--osm",
                str(andorra_pbf),
                "--origins",
                str(mixed),
                "--sites",
                str(good),
            ]
        )
        == 0
    )
    excl = pd.read_csv(out / "exclusions.csv", sep=";")
    assert excl["id"].tolist() == ["paris"]
    assert excl["reason"].iloc[0].startswith("trop loin du réseau routier")


def test_diagnose_without_extract_names_the_file(
    tmp_path: Path,
    mirror: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from msapgeo import datasets

    # offline: the canonical URL points to the discard port
    real = datasets.osm_source

    def offline(dep: str) -> datasets.Source:
        s = real(dep)
        return datasets.Source(
            name=s.name,
            relpath=s.relpath,
            urls=("http://127.0.0.1:9/x.pbf",),
            how_to_get=s.how_to_get,
        )

    monkeypatch.setattr(datasets, "osm_source", offline)
    assert main(["diagnose", "05", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "osm_roads/hautes_alpes-latest.osm.pbf" in err
    assert "--osm FILE" in err


def test_diagnose_with_an_extract_that_misses_communes(
    tmp_path: Path, andorra_pbf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["diagnose", "05", "--osm", str(andorra_pbf), "--out", str(tmp_path), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "does not cover 162 of the 162 communes" in err
    assert "05061 Gap" in err


@pytest.mark.parametrize("command", ["evaluate", "optimise", "scenario"])
def test_help_examples_run_on_the_test_region(tmp_path: Path, mirror: Path, command: str) -> None:
    """The examples under each command's --help run as written on the offline region."""
    import shlex

    from msapgeo.cli import EXAMPLES

    lines = [x.strip() for x in EXAMPLES[command].splitlines() if x.strip().startswith("msapgeo")]
    assert lines
    for i, line in enumerate(lines):
        args = shlex.split(line)[1:]
        out = args.index("--out")
        args[out + 1] = str(tmp_path / f"{command}{i}")
        assert main([*args, "--quiet"]) == 0, line
