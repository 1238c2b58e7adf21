"""The notebooks run top to bottom on the offline test region and write their outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(name: str, tmp_path: Path, overrides: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "a notebook has exactly one cell tagged 'parameters'"
    idx = nb.cells.index(params[0])
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(overrides))
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return nb


def test_diagnostic_notebook(tmp_path: Path, mirror: Path) -> None:
    nb = _run("01_diagnostic.ipynb", tmp_path, f"OUT = {str(tmp_path / 'out')!r}")
    out = tmp_path / "out"
    for name in ("diagnostic.gpkg", "diagnostic.xlsx", "map.html", "report.html"):
        assert (out / name).is_file(), name
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "Passy" in text  # the town hall outside its commune, replaced and said so
    # the map shows itself offline: Leaflet inlined in the iframe, no CDN
    html = "".join(
        o.get("data", {}).get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "srcdoc=" in html
    assert "Leaflet 1.9.4" in html
    assert "cdn.jsdelivr" not in html
    assert "<script src=&quot;http" not in html
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_new_sites_notebook(tmp_path: Path, mirror: Path) -> None:
    _run("02_nouveaux_sites.ipynb", tmp_path, f"OUT = {str(tmp_path / 'out')!r}")
    import pandas as pd

    res = pd.read_csv(tmp_path / "out" / "optimise.csv")
    # the plain sentence and the map of the best site
    assert {"maximal_covering", "p_median", "set_covering"} <= set(res["model"])
    assert (tmp_path / "out" / "map.html").is_file()


def test_winter_notebook(tmp_path: Path, mirror: Path) -> None:
    _run("03_scenario_hiver.ipynb", tmp_path, f"OUT = {str(tmp_path / 'out')!r}")
    import pandas as pd

    communes = pd.read_csv(tmp_path / "out" / "scenario_communes.csv")
    lost = communes[communes["loses_access"].astype(str) == "True"]
    assert lost["name"].tolist() == ["Vallorcine"]
    assert (tmp_path / "out" / "map.html").is_file()


@pytest.mark.parametrize(
    "name", ["01_diagnostic.ipynb", "02_nouveaux_sites.ipynb", "03_scenario_hiver.ipynb"]
)
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
