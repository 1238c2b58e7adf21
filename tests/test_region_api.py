"""The planner's workflow on a Region: access, diagnostic, evaluate, optimise, scenario,
isochrones, each a thin method over the module functions."""

from __future__ import annotations

from pathlib import Path

import pytest

import msapgeo as mg


@pytest.fixture(scope="module")
def region(mirror: Path) -> mg.Region:
    return mg.load_region("pays-du-mont-blanc")


def test_region_workflow(region: mg.Region) -> None:
    acc = region.access()
    assert acc.origins["time_min"].notna().all()
    assert region.graph() is region.graph()  # built once per region and profile
    ev = region.evaluate(add=["74085"])
    row = ev.communes.set_index("insee_com").loc["74085"]
    assert row["time_after_min"] < 1.0 < row["time_before_min"]
    assert "gagnent en moyenne" in ev.plain_summary()
    plans = region.optimise(k=1, threshold_min=20.0)
    assert {"maximal_covering", "p_median", "set_covering"} <= set(plans.table["model"])
    best = plans.comparison("maximal_covering", k=1)  # a Comparison, like evaluate's
    assert isinstance(best, mg.Comparison)
    chosen = plans.table.set_index("model").loc["maximal_covering", "chosen"]
    assert set(best.sites_after["site_id"]) - set(best.sites_before["site_id"]) == {chosen}
    assert (best.communes["delta_min"].dropna() <= 1e-9).all()  # a new site never slows
    assert "gagnent en moyenne" in best.plain_summary()
    _, _, communes, _ = region.scenario()
    assert communes.loc[communes["loses_access"], "name"].tolist() == ["Vallorcine"]
    iso = region.isochrones()
    assert iso["to_min"].tolist() == [10.0, 20.0, 30.0]


def test_region_diagnostic_counts_people(region: mg.Region) -> None:
    diag = region.diagnostic()
    assert diag.people is not None
    assert diag.people["population"].sum() == pytest.approx(region.origins["population"].sum())
    assert diag.isochrones is not None


def test_unknown_region() -> None:
    with pytest.raises(mg.InputError, match="region"):
        mg.load_region("atlantis")


def test_one_comparison_type_with_one_sign(region: mg.Region, tmp_path: Path) -> None:
    from msapgeo.comparison import Comparison

    winter = region.scenario()
    opening = region.evaluate(add=["74085"])
    assert isinstance(winter, Comparison)
    assert isinstance(opening, Comparison)
    # delta = after − before: a closure never makes a trip shorter, a new site never longer
    assert (winter.communes["delta_min"].dropna() >= -1e-9).all()
    assert (opening.communes["delta_min"].dropna() <= 1e-9).all()
    assert (
        list(winter.summary.columns)
        == list(opening.summary.columns)
        == [
            "key",
            "indicator",
            "population",
            "minutes",
            "communes",
        ]
    )
    assert "perdent tout accès" in winter.plain_summary()
    assert "gagnent en moyenne" in opening.plain_summary()
    xlsx = opening.to_excel(tmp_path / "eval.xlsx")
    import pandas as pd

    assert "population (hab.)" in pd.read_excel(xlsx, sheet_name="communes").columns
    mg.save_offline(winter.map(), tmp_path / "winter.html")
    assert (tmp_path / "winter.html").stat().st_size > 10_000


def test_a_departement_as_a_region(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> None:
    """``load_region(dep=…)`` on Hautes-Alpes: the real communes and France services of 05
    and its neighbours, on the SYNTHETIC test network (not real roads)."""
    from tests.synthetic_network import write_synthetic_osm

    osm = write_synthetic_osm(tmp_path_factory.mktemp("synthetic05"))
    region = mg.load_region(dep="5", osm=osm, profile="legal")
    assert region.label == "Hautes-Alpes (05)"
    assert len(region.origins) == 162
    assert region.origins["insee_com"].str.len().eq(5).all()
    assert {"05", "04", "26", "38", "73"} <= set(region.sites["insee_dep"])
    assert any("voisins" in n for n in region.notes)  # only the given extract is routed
    acc = region.access()
    assert acc.meta["profile"] == "legal"
    assert acc.origins["time_min"].notna().all()
    ev = region.evaluate(add=["05061"])  # a site at Gap's town hall
    assert (ev.communes["delta_min"].dropna() <= 1e-9).all()
    with pytest.raises(mg.InputError, match="not both"):
        mg.load_region("andorra", dep="05")
    with pytest.raises(mg.InputError, match="not a French département"):
        mg.load_region(dep="99")
