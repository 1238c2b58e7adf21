"""Départements on Dask: a 2-worker LocalCluster equals the single runs; a broken input
is reported while the other département completes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msapgeo.batch import DepartementTask, run_batch, run_departement
from msapgeo.cli import main
from tests.synthetic_network import write_synthetic_osm


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("batch")
    return {d: write_synthetic_osm(folder, d) for d in ("05", "04")}


def _times(communes: pd.DataFrame) -> pd.Series:
    return communes.set_index("insee_com")["time_min"].sort_index()


def test_batch_on_a_local_cluster_equals_the_single_runs(extracts: dict[str, Path]) -> None:
    tasks = [DepartementTask(d, str(p)) for d, p in extracts.items()]
    single = {t.dep: run_departement(t) for t in tasks}
    res = run_batch(tasks, n_workers=2)
    assert res.failures.empty
    assert sorted(res.summary["insee_dep"]) == ["04", "05"]
    for dep, one in single.items():
        got = res.communes[res.communes["insee_dep_run"] == dep]
        a, b = _times(got), _times(one["communes"])
        assert list(a.index) == list(b.index)
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert len(res.communes) == 162 + len(single["04"]["communes"])


def test_a_broken_departement_does_not_stop_the_others(
    extracts: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"this is not an OSM file")
    tasks = [DepartementTask("05", str(extracts["05"])), DepartementTask("04", str(broken))]
    res = run_batch(tasks, n_workers=2, retries=1)
    assert res.failures["insee_dep"].tolist() == ["04"]
    assert "broken.osm.pbf" in res.failures["error"].iloc[0]
    assert set(res.communes["insee_dep_run"]) == {"05"}


def test_cli_batch_writes_the_national_outputs(extracts: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "national"
    args = ["batch", "05", "04", "--osm", *(f"{d}={p}" for d, p in extracts.items())]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    assert (out / "national.gpkg").is_file()
    summary = pd.read_excel(out / "national.xlsx", sheet_name="synthèse")
    assert len(summary) == 2
