"""Hostile text: names from a CSV, a GeoPackage and an OSM extract never run as code.

Every output is checked: map.html and the diagnostic map (the page's data is literal,
Chromium shows the literal name in the popup, ``document.title`` is unchanged, no element
was injected), report.html, the workbook (text cells are strings, formulas neutralised),
the CSV files and the GeoPackage.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from msapgeo.cli import main
from msapgeo.escape import cell_text, html_text, script_json
from msapgeo.maps import MAP_CSS, MAP_JS
from tests.chromium import dump_dom
from tests.hostile_fixture import FORMULA_NAMES, TAGGED, points_table, write_hostile_pbf

#: What the names would turn into if they were evaluated as templates.
CANARIES = ("X49Y", "ZZZ")


@given(st.text())
def test_script_json_is_inert_and_exact(text: str) -> None:
    out = script_json({"k": [text, 1.5, None]})
    for bad in ("<", ">", "&", "'", "`", "$", "\u2028", "\u2029"):
        assert bad not in out
    for seq in ("{{", "{%", "{#"):
        assert seq not in out
    assert json.loads(out) == {"k": [text, 1.5, None]}


@given(st.text())
def test_html_text_is_inert_and_exact(text: str) -> None:
    out = html_text(text)
    for bad in ("<", ">", '"', "'", "{", "}", "$", "`"):
        assert bad not in out
    assert html.unescape(out) == text


def test_cell_text_neutralises_formulas() -> None:
    assert cell_text("=1+1") == "'=1+1"
    assert cell_text("@SUM(A1)") == "'@SUM(A1)"
    assert cell_text("\tx") == "'\tx"
    assert cell_text("Gap") == "Gap"
    assert cell_text(-3.5) == -3.5  # numbers are not text


def test_page_code_has_no_template_syntax() -> None:
    for code in (MAP_JS, MAP_CSS):
        for seq in ("{{", "{%", "{#", "innerHTML"):
            assert seq not in code


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    pbf = write_hostile_pbf(folder)
    pts = pd.DataFrame(points_table())
    csv = folder / "origins.csv"
    pts.to_csv(csv, index=False, quoting=1)
    sites_csv = folder / "sites.csv"
    pts.assign(id=[f"s{i}" for i in range(len(pts))], lon=pts["lon"] + 0.0002).to_csv(
        sites_csv, index=False, quoting=1
    )
    gpkg = folder / "origins.gpkg"
    gpd.GeoDataFrame(
        pts, geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs="EPSG:4326"
    ).to_file(gpkg, layer="origins")
    out = {}
    cases: dict[str, list[str]] = {
        "osm": ["demo", "--osm", str(pbf)],
        "csv": ["access", "--osm", str(pbf), "--origins", str(csv), "--sites", str(sites_csv)],
        "gpkg": ["access", "--osm", str(pbf), "--origins", str(gpkg), "--sites", str(sites_csv)],
    }
    for key, args in cases.items():
        out[key] = folder / f"out-{key}"
        assert main([*args, "--out", str(out[key]), "--quiet", "--no-cache"]) == 0, key
    return out


def _text_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.suffix in (".html", ".csv", ".json")]


@pytest.mark.parametrize("kind", ["osm", "csv", "gpkg"])
def test_no_canary_in_any_output(runs: dict[str, Path], kind: str) -> None:
    files = _text_files(runs[kind])
    assert len(files) >= 4
    for f in files:
        text = f.read_text(encoding="utf-8-sig")
        # embedded images are base64, whose alphabet can spell any canary by chance
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
        for c in CANARIES:
            assert c not in text, (f, c)
    for f in runs[kind].rglob("*.xlsx"):
        wb = openpyxl.load_workbook(f)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert not any(c in str(cell.value) for c in CANARIES)


def _payload_strings(page: str) -> list[str]:
    """Every string the page's code receives as layer data."""
    dec = json.JSONDecoder()
    found: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, str):
            found.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for m in re.finditer(r"msapgeo\.layer\([a-z_0-9]+, ", page):
        obj, _ = dec.raw_decode(page, m.end())
        walk(obj)
    return found


@pytest.mark.parametrize("kind", ["osm", "csv", "gpkg"])
def test_map_data_is_literal(runs: dict[str, Path], kind: str) -> None:
    strings = set(_payload_strings((runs[kind] / "map.html").read_text()))
    for name in TAGGED:
        if "\r" in name:  # CSV readers turn a lone CR into a line end
            continue
        assert name in strings, name


def _dom(url: str, tmp: Path) -> str:
    return dump_dom(url, tmp, budget_ms=5000)


def _title(dom: str) -> str:
    m = re.search(r"<title>(.*?)</title>", dom, re.S)
    return html.unescape(m.group(1)) if m else ""


@pytest.mark.parametrize("page", ["map.html", "diagnostic/map.html"])
@pytest.mark.parametrize("index", [0, 4, 5, 6])
def test_chromium_shows_the_literal_name(
    runs: dict[str, Path], tmp_path: Path, page: str, index: int
) -> None:
    name = TAGGED[index]
    path = runs["osm"] / page
    dom = _dom(path.as_uri() + "#q=" + quote(f"h{index:02d} "), tmp_path)
    assert "pwned" not in _title(dom)
    assert _title(dom).startswith("Temps")
    m = re.search(r'class="msapgeo-popup-title">(.*?)</div>', dom, re.S)
    assert m is not None, "the search did not open the popup"
    assert html.unescape(m.group(1)) == name
    assert '<img src="x"' not in dom
    assert "<img src=x" not in dom
    assert "<b>bold</b>" not in dom


def test_report_is_inert_in_chromium(runs: dict[str, Path], tmp_path: Path) -> None:
    dom = _dom((runs["osm"] / "diagnostic" / "report.html").as_uri(), tmp_path)
    assert "pwned" not in _title(dom)
    assert dom.count("<img") == 3  # the two charts and the map, nothing injected
    assert "<b>bold</b>" not in dom
    assert html.escape("X{{ 7*7 }}Y", quote=False) in dom


def test_workbook_cells_are_text(runs: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(runs["osm"] / "diagnostic" / "diagnostic.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    seen.add(cell.value)
    for name in FORMULA_NAMES:
        tagged = next(t for t in TAGGED if t.endswith(name))
        assert tagged in seen or "'" + tagged in seen
    # names that start with a formula character are neutralised with an apostrophe
    assert "'=1" not in seen


def test_csv_cells_are_neutralised(runs: dict[str, Path]) -> None:
    pts = pd.DataFrame(points_table())
    raw = (runs["csv"] / "access.csv").read_text(encoding="utf-8-sig")
    assert raw.split("\n", 1)[0].count(";") > 5  # French layout
    df = pd.read_csv(runs["csv"] / "access.csv", sep=";", decimal=",", dtype={"name": str})
    names = set(df["name"])
    for name in pts["name"]:
        if "\r" in name:
            continue
        assert name in names
    # a leading formula character is prefixed in any CSV written from data
    tab = pd.DataFrame({"name": ["=HYPERLINK(1)", "-2+3", "ok"]})
    from msapgeo.report import write_csv

    out = runs["csv"].parent / "t.csv"
    write_csv(tab, out)
    assert pd.read_csv(out, sep=";")["name"].tolist() == ["'=HYPERLINK(1)", "'-2+3", "ok"]


def test_geopackage_keeps_names_literal(runs: dict[str, Path]) -> None:
    origins = gpd.read_file(runs["gpkg"] / "access.gpkg", layer="origins")
    assert set(TAGGED) - {t for t in TAGGED if "\r" in t} <= set(origins["name"])
    osm = gpd.read_file(runs["osm"] / "access.gpkg", layer="origins")
    assert set(TAGGED) <= set(osm["name"])
