"""`msapgeo diagnose` end to end on real inputs and a SYNTHETIC network; Chromium renders."""

from __future__ import annotations

import html
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest

from msapgeo.cli import main
from tests.chromium import dump_dom, screenshot
from tests.synthetic_network import NAME, write_synthetic_osm


@pytest.fixture(scope="module")
def diag_out(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    folder = tmp_path_factory.mktemp("diag05")
    osm = write_synthetic_osm(folder)
    out = folder / "out"
    assert main(["diagnose", "05", "--osm", str(osm), "--out", str(out), "--quiet"]) == 0
    return out


def test_diagnose_writes_the_four_outputs(diag_out: Path) -> None:
    d = diag_out / "diagnostic"
    for name in (
        "diagnostic.gpkg",
        "diagnostic.xlsx",
        "map.html",
        "report.html",
        "population_by_time_class.png",
        "cumulative_population_by_minutes.png",
    ):
        assert (d / name).is_file(), name
    layers = {n for n, _ in pyogrio.list_layers(d / "diagnostic.gpkg")}
    assert {"communes", "sites", "epci"} <= layers
    communes = gpd.read_file(d / "diagnostic.gpkg", layer="communes")
    assert len(communes) == 162
    assert communes.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    epci = gpd.read_file(d / "diagnostic.gpkg", layer="epci")
    assert epci.geometry.notna().all()


def test_excel_is_formatted(diag_out: Path) -> None:
    wb = openpyxl.load_workbook(diag_out / "diagnostic" / "diagnostic.xlsx")
    assert {"communes", "epci", "synthèse", "exclusions", "priorités"} <= set(wb.sheetnames)
    ws = wb["communes"]
    assert ws.freeze_panes == "B2"
    assert ws["A1"].font.bold
    header = [c.value for c in ws[1]]
    # French headers with their units
    assert {"temps (min)", "distance (km)", "population (hab.)", "au-delà de 30 min"} <= set(header)
    epci = pd.read_excel(diag_out / "diagnostic" / "diagnostic.xlsx", sheet_name="epci")
    assert epci["EPCI"].is_unique  # one wide row per EPCI
    ex = pd.read_excel(diag_out / "diagnostic" / "diagnostic.xlsx", sheet_name="exclusions")
    assert (ex["nature"] == "site").sum() > 0  # buses of 05 and neighbours, with their reason
    assert ex["motif"].notna().all()


def test_report_names_the_synthetic_network(diag_out: Path) -> None:
    html = (diag_out / "diagnostic" / "report.html").read_text()
    assert NAME in html
    assert "data:image/png;base64," in html
    assert "https://cdn" not in html
    assert "grille_densite_7_niveaux_2024.xlsx" in html  # provenance


def _render(page: Path, tmp: Path) -> tuple[str, np.ndarray]:
    dom = dump_dom(page.as_uri(), tmp)
    shot = screenshot(page.as_uri(), tmp)
    import matplotlib.image as mpimg

    return dom, mpimg.imread(shot)


def test_map_renders_offline_in_chromium(diag_out: Path, tmp_path: Path) -> None:
    dom, img = _render(diag_out / "diagnostic" / "map.html", tmp_path)
    # 162 commune polygons + the sites as Leaflet vector layers, legend and layer control
    assert dom.count("leaflet-interactive") >= 162
    assert dom.count("msapgeo-site") >= 20
    assert "msapgeo-legend" in dom
    assert "leaflet-control-layers" in dom
    # one metric scale (a French map shows no miles)
    lines = re.findall(r'class="leaflet-control-scale-line"[^>]*>([^<]*)<', dom)
    assert len(lines) == 1
    assert re.fullmatch(r"\s*\d+ k?m\s*", lines[0])
    assert img.std() > 0.05  # not blank
    assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 20


def test_report_renders_in_chromium(diag_out: Path, tmp_path: Path) -> None:
    dom, img = _render(diag_out / "diagnostic" / "report.html", tmp_path)
    assert dom.count("<img") == 3  # two charts and the static map
    assert "Chiffres clés" in dom
    assert img.std() > 0.05


def test_geopackage_for_qgis(diag_out: Path, tmp_path: Path) -> None:
    import sqlite3

    gpkg = diag_out / "diagnostic" / "diagnostic.gpkg"
    with sqlite3.connect(gpkg) as con:
        styles = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles"))
    assert {"communes", "sites", "isochrones"} <= set(styles)
    assert 'attr="time_min"' in styles["communes"]
    assert "moins de 10 min" in styles["communes"]
    epci = gpd.read_file(gpkg, layer="epci")
    assert epci["epci_nom"].is_unique  # one polygon per EPCI
    assert epci.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    iso = gpd.read_file(gpkg, layer="isochrones")
    assert iso["to_min"].tolist() == [10.0, 20.0, 30.0]
    assert iso["area_km2"].sum() > 0
    # Lambert-93 on request
    from msapgeo import settings
    from msapgeo.report import write_gpkg

    with settings.override(output_crs="EPSG:2154"):
        out = write_gpkg({"epci": epci}, tmp_path / "l93.gpkg")
    assert gpd.read_file(out, layer="epci").crs.to_epsg() == 2154


_A4_PROBE = """<!DOCTYPE html><html><body>
<iframe id="f" src="report.html" style="width:703px;height:1000px;border:0"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument, worst = 0, n = 0;
  d.querySelectorAll("table, img, .cards").forEach(function (t) {
    n += 1; worst = Math.max(worst, t.scrollWidth, t.getBoundingClientRect().width);
  });
  document.getElementById("out").textContent =
    JSON.stringify({page: d.documentElement.clientWidth, widest: worst, n: n});
});
</script></body></html>"""


def test_report_prints_on_a4_without_overflow(diag_out: Path, tmp_path: Path) -> None:
    """A4 (210 mm less the 12 mm margins = 186 mm ≈ 703 CSS px): no table, chart or card is
    wider than the page; the PDF printed by Chromium is A4."""
    import json
    import re
    import shutil
    import subprocess

    from tests.chromium import chromium_args

    report = diag_out / "diagnostic" / "report.html"
    shutil.copy(report, tmp_path / "report.html")
    (tmp_path / "probe.html").write_text(_A4_PROBE)
    args = [*chromium_args(tmp_path), "--allow-file-access-from-files"]
    dom = subprocess.run(
        [*args, "--dump-dom", (tmp_path / "probe.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    m = re.search(r'<pre id="out">([^<]*)</pre>', dom)
    assert m is not None
    probe = json.loads(m.group(1))
    assert probe["n"] >= 8  # tables, images and cards were measured
    assert probe["widest"] <= probe["page"] + 1, probe
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [*args, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes
    w, h = (float(x) for x in boxes[0])
    assert abs(w - 595.3) < 2  # A4 in points
    assert abs(h - 841.9) < 2


def test_popup_tells_both_sites_type_address_and_hours(diag_out: Path, tmp_path: Path) -> None:
    """Searching a commune opens its popup: code, time, the nearest and the second nearest
    France services with their type, address and weekly opening."""
    from urllib.parse import quote

    page = (diag_out / "diagnostic" / "map.html").as_uri() + "#q=" + quote("Gap")
    dom = dump_dom(page, tmp_path)
    m = re.search(r'class="msapgeo-popup-title">(.*?)</div>(.*?)leaflet-popup-tip', dom, re.S)
    assert m is not None, "the search did not open the popup"
    assert m.group(1).startswith("Gap")
    body = html.unescape(m.group(2))
    for label in ("Code commune", "Site le plus proche", "Adresse", "Ouverture", "2e site"):
        assert label in body, label
    assert "Adresse (2e site)" in body
    assert re.search(r"\d+(,\d)?\s?h par semaine", body)
