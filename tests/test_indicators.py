"""Indicators and the diagnostic on real Hautes-Alpes inputs and a SYNTHETIC network.

The communes, populations, density grid, EPCI and France services rows are real (mirror);
the travel times come from tests/synthetic_network.py, named as synthetic everywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msapgeo import datasets
from msapgeo.diagnostic import Diagnostic, run_diagnostic, select_sites
from msapgeo.indicators import (
    aggregate,
    commune_indicators,
    gap_worklist,
    gaussian_decay,
    load_mountain_list,
    mountain_from_codes,
    two_step_fca,
)
from msapgeo.network import graph_from_osm
from msapgeo.pipeline import departement_inputs
from msapgeo.routing import UNREACHABLE, od_matrix
from tests.synthetic_network import NAME, write_synthetic_osm


@pytest.fixture(scope="module")
def synthetic_osm(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    return write_synthetic_osm(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def diag(synthetic_osm: Path) -> Diagnostic:
    g = graph_from_osm(synthetic_osm, builtup=False)
    assert g.meta["source_file"] == NAME
    origins, sites = departement_inputs("05")
    return run_diagnostic(g, origins, sites, density=datasets.load_density_grid())


def test_origins_are_the_162_communes_and_sites_include_neighbours(diag: Diagnostic) -> None:
    c = diag.communes
    assert len(c) == 162
    assert c["insee_com"].str.startswith("05").all()  # a commune across the border is no origin
    assert set(diag.sites["insee_dep"]) == {"04", "05", "26", "38", "73"}
    assert c["population"].sum() == 140_976  # INSEE PL 2021
    assert c["epci_nom"].notna().all()
    assert c["dens"].value_counts().to_dict() == {6: 98, 7: 43, 5: 16, 2: 2, 4: 2, 3: 1}
    assert (c["mountain"] == "unknown").all()
    assert any("l'indicateur montagne est « unknown »" in n for n in diag.notes)


def test_cross_border_site_can_be_nearest(diag: Diagnostic) -> None:
    c = diag.communes
    site_dep = c["site_id"].map(diag.sites.set_index("site_id")["insee_dep"])
    across = c[site_dep != "05"]
    assert len(across) > 0
    # hand check on one: its nearest site really is the minimum over all sites
    g = diag.access.graph
    o = diag.access.origins
    m = od_matrix(g, o, diag.access.sites, site_id="site_id", distances=False)
    i = int(np.flatnonzero((site_dep != "05").to_numpy())[0])
    j = int(np.nanargmin(m.time_min[i]))
    assert m.site_ids[j] == c["site_id"].iloc[i]
    assert m.time_min[i, j] == pytest.approx(c["time_min"].iloc[i])


def test_buses_are_reported_apart(diag: Diagnostic) -> None:
    s = diag.sites
    bus = s[s["role"] == "itinerant"]
    assert len(bus) > 0
    assert bus["exclusion"].str.startswith("service itinérant (bus)").all()
    assert not diag.communes["site_id"].isin(bus["site_id"]).any()
    ex = diag.exclusions
    assert set(bus["site_id"]) <= set(ex.loc[ex["kind"] == "site", "id"])
    with_buses = select_sites(s.drop(columns=["exclusion"]), include_buses=True)
    assert with_buses.loc[with_buses["role"] == "itinerant", "exclusion"].isna().all()
    no_ant = select_sites(s.drop(columns=["exclusion"]), include_antennas=False)
    assert no_ant.loc[no_ant["role"] == "antenna", "exclusion"].notna().all()


def test_commune_exactly_at_a_threshold_is_within() -> None:
    access = pd.DataFrame(
        {
            "insee_com": ["05061", "05023", "05001", "05003"],
            "population": [40_000, 11_000, 400, np.nan],
            "time_min": [30.0, 30.0001, np.nan, 45.0],
            "dist_km": [20.0, 21.0, np.nan, 40.0],
            "site_id": ["fs3250", "fs613", None, "fs825"],
            "time2_min": [35.0, 40.0, np.nan, 50.0],
        }
    )
    sites = pd.DataFrame({"site_id": ["fs3250", "fs613", "fs825"], "name": ["Gap", "B", "Q"]})
    c = commune_indicators(access, sites)
    assert c["gap_30min"].tolist() == [False, True, True, True]
    assert c["gap_20min"].tolist() == [True, True, True, True]
    s = aggregate(c, None, share_thresholds=(30.0,)).iloc[0]
    assert s["share_within_30min_pct"] == pytest.approx(100 * 40_000 / 51_400)
    assert s["communes_population_unknown"] == 1
    assert s["gap_30min_communes"] == 3
    assert s["gap_30min_population"] == 11_400
    w = gap_worklist(c, 30.0)
    assert w["insee_com"].tolist() == ["05001", "05023", "05003"]  # unreachable first
    assert w["priority_pop_min"].iloc[1] == pytest.approx(11_000 * 0.0001)


def test_population_weighted_figures_by_hand() -> None:
    c = pd.DataFrame(
        {
            "population": [100.0, 300.0],
            "time_min": [10.0, 30.0],
            "density_class": ["rural", "urban"],
        }
    )
    s = aggregate(c, None, share_thresholds=(20.0,)).set_index("split_value")
    assert s.loc["all", "mean_time_min_popw"] == pytest.approx(25.0)
    assert s.loc["all", "median_time_min_popw"] == 30.0
    assert s.loc["rural", "share_within_20min_pct"] == 100.0
    assert s.loc["urban", "share_within_20min_pct"] == 0.0


def test_two_step_fca_by_hand() -> None:
    # two communes, one site of 30 h at 0 min from both: each gets 30 h / 2000 inh.
    t = np.array([[0.0], [0.0]])
    a = two_step_fca(t, np.array([1000.0, 1000.0]), np.array([30.0]))
    assert a == pytest.approx([15.0, 15.0])
    assert gaussian_decay(np.array([0.0, 30.0, 31.0, np.nan])).tolist() == [1.0, 0.0, 0.0, 0.0]
    # a commune beyond the catchment gets 0; without any time, NaN
    t2 = np.array([[0.0], [40.0], [np.nan]])
    a2 = two_step_fca(t2, np.array([1000.0, 1000.0, 5.0]), np.array([30.0]))
    assert a2[0] == pytest.approx(30.0)
    assert a2[1] == 0.0
    assert np.isnan(a2[2])


def test_diagnostic_tables(diag: Diagnostic) -> None:
    dep = diag.departement
    assert set(dep["split"]) == {"all", "density_class", "mountain"}
    rural = dep[(dep["split"] == "density_class") & (dep["split_value"] == "rural")].iloc[0]
    assert rural["communes"] == 157  # levels 5-7 in 05: 16 + 98 + 43
    epci = diag.epci[diag.epci["split"] == "all"]
    assert epci["communes"].sum() == 162
    assert epci["population"].sum() == 140_976
    assert diag.communes["access_2sfca_h_per_1000"].notna().sum() > 150


def test_mountain_lists(tmp_path: Path) -> None:
    m = mountain_from_codes(["05061", "05023"], source="test list")
    c = commune_indicators(
        pd.DataFrame(
            {"insee_com": ["05061", "05132"], "time_min": [1.0, 2.0], "population": [1, 1]}
        ),
        pd.DataFrame({"site_id": []}),
        mountain=m,
    )
    assert c["mountain"].tolist() == ["yes", "no"]
    # ANCT-like layout: title rows above a CODGEO header, a zone column
    f = tmp_path / "zonages-massifs.xlsx"
    rows = [
        ["Zonages montagne", "", ""],
        ["", "", ""],
        ["CODGEO", "LIBGEO", "ZONE MONTAGNE"],
        ["05061", "Gap", "Zone de montagne"],
        ["26362", "Valence", ""],
    ]
    pd.DataFrame(rows).to_excel(f, header=False, index=False)
    ml = load_mountain_list(f)
    assert ml["insee_com"].tolist() == ["05061"]
    assert ml["mountain_source"].iloc[0] == "zonages-massifs.xlsx"


def test_an_excluded_commune_is_never_a_gap() -> None:
    import geopandas as gpd

    from msapgeo.indicators import commune_indicators, gap_worklist, summarise

    access = pd.DataFrame(
        {
            "insee_com": ["1", "2", "3"],
            "population": [100.0, 50.0, 10.0],
            "time_min": [12.0, np.nan, np.nan],
            "dist_km": [10.0, np.nan, np.nan],
            "site_id": ["s", None, None],
            "time2_min": [np.nan, np.nan, np.nan],
            "exclusion": pd.array(
                [
                    pd.NA,
                    "trop loin du réseau routier (1\u202f622 m > 1\u202f500 m)",
                    UNREACHABLE,
                ],
                dtype="string",
            ),
        }
    )
    sites = gpd.GeoDataFrame({"site_id": ["s"], "name": ["S"]}, geometry=[None], crs=4326)
    c = commune_indicators(access, sites, thresholds=(20.0, 30.0))
    assert c["excluded"].tolist() == [False, True, False]
    assert c["gap_30min"].tolist() == [False, False, True]  # unreachable is a gap
    row = summarise(c, share_thresholds=(20.0,), gap_thresholds=(30.0,))
    assert row["gap_30min_communes"] == 1.0
    assert row["excluded_communes"] == 1.0
    assert row["population_excluded"] == 50.0
    assert row["share_within_20min_pct"] == pytest.approx(100 * 100 / 110)
    assert gap_worklist(c, 30.0)["insee_com"].tolist() == ["3"]
