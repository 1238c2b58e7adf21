"""Outputs in French by default, in English as an option (settings.language / --lang)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import openpyxl
import pytest

import msapgeo as mg
from msapgeo.i18n import EN, t

PACKAGE = Path(mg.__file__).resolve().parent


def _texts_given_to_t() -> set[str]:
    """Every literal text passed to ``t``/``t_`` in the package (the translation keys)."""
    keys: set[str] = set()
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("t", "t_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                keys.add(node.args[0].value)
    return keys


def test_every_text_has_its_english() -> None:
    keys = _texts_given_to_t()
    assert len(keys) > 100  # the outputs' texts go through t
    missing = sorted(k for k in keys if k not in EN)
    assert not missing, missing
    for k in keys:  # the same fields in both languages
        assert set(re.findall(r"{(\w+)}", k)) == set(re.findall(r"{(\w+)}", EN[k])), k


def test_t_and_numbers_follow_the_setting() -> None:
    from msapgeo.fr import fr_number

    assert t("Temps") == "Temps"
    assert fr_number(24678.5, 1, "km") == "24\u202f678,5\u00a0km"
    with mg.settings.override(language="en"):
        assert t("Temps") == "Time"
        assert t("commune à plus de {t} min", t="30") == "commune beyond 30 min"
        assert fr_number(24678.5, 1, "km") == "24,678.5\u00a0km"
    with pytest.raises(ValueError, match="language"):
        mg.settings.language = "de"


_FRENCH = re.compile(
    r"\b(temps|à moins de|au-delà|habitants|commune la|communes exclues|site le plus proche|"
    r"moyen pondéré|synthèse|priorités|Méthode|Chiffres clés|Rechercher|Aucun)\b",
    re.IGNORECASE,
)


def test_english_outputs_on_the_test_region(mirror: Path, tmp_path: Path) -> None:
    """The Andorra region's diagnostic written in English: workbook sheets and headers,
    report headings and sentences, map legend and search, exclusion reasons."""
    mg.settings.progress = False
    with mg.settings.override(language="en"):
        region = mg.load_region("andorra")
        diag = region.diagnostic(people=False)
        mg.write_diagnostic(diag, tmp_path / "en")
    out = tmp_path / "en"
    wb = openpyxl.load_workbook(out / "diagnostic.xlsx")
    assert "summary" in wb.sheetnames
    assert "worklist" in wb.sheetnames
    for ws in wb.worksheets:
        headers = [str(c.value) for c in next(ws.iter_rows(max_row=1))]
        assert not any(_FRENCH.search(h) for h in headers), (ws.title, headers)
    communes = [str(c.value) for c in next(wb["communes"].iter_rows(max_row=1))]
    assert "time (min)" in communes
    assert "share within 20 min (%)" in [
        str(c.value) for c in next(wb["summary"].iter_rows(max_row=1))
    ]
    report = (out / "report.html").read_text()
    assert '<html lang="en">' in report
    for heading in re.findall(r"<h[12]>(.*?)</h[12]>", report):
        assert not _FRENCH.search(heading), heading
    assert "Access time and the 30-minute promise" in report
    assert "The State has committed" in report
    page = (out / "map.html").read_text()
    assert "Search a commune, a site" in page
    assert "Access time to the nearest France services" in page
    assert "Rechercher" not in page
    excl = diag.exclusions["reason"].astype(str)
    assert excl.str.contains("too far from the road network").any()
    # and French again by default
    assert mg.settings.language == "fr"


def test_cli_lang_en_writes_english_and_restores_french(mirror: Path, tmp_path: Path) -> None:
    from msapgeo.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--region", "andorra", "--lang", "en", "--out", str(out), "--quiet"]) == 0
    assert mg.settings.language == "fr"  # the command leaves the settings as it found them
    head = (out / "access.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "," in head  # machine CSV by default in English: comma-separated, decimal point
    assert ";" not in head
    report = (out / "diagnostic" / "report.html").read_text()
    assert "Key figures" in report
    assert "Chiffres clés" not in report
