"""Every inhabitant: population points per commune, fallbacks, Filosofi loader, indicators."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from msapgeo import settings
from msapgeo.errors import InputError
from msapgeo.places import origins_from_communes
from msapgeo.population import (
    PLACE_WEIGHTS,
    load_filosofi,
    people_indicators,
    population_points,
)
from msapgeo.regions import Region, load_region
from msapgeo.routing import nearest_site


def _communes() -> gpd.GeoDataFrame:
    a = shapely.box(6.00, 45.00, 6.02, 45.02)
    b = shapely.box(6.02, 45.00, 6.04, 45.02)
    c = shapely.box(6.04, 45.00, 6.06, 45.02)
    g = gpd.GeoDataFrame(
        {
            "insee_com": ["74001", "74002", "74003"],
            "nom": ["A", "B", "C"],
            "mairie_lon": [6.01, 6.03, 6.05],
            "mairie_lat": [45.01, 45.01, 45.01],
        },
        geometry=[a, b, c],
        crs=settings.default_crs,
    )
    return origins_from_communes(g).assign(population=[1000.0, 333.0, 77.0])


def test_points_carry_the_insee_population_and_fall_back() -> None:
    o = _communes()
    rng = np.random.default_rng(0)
    n = 300
    bld = gpd.GeoDataFrame(
        {"area_m2": rng.uniform(50, 400, n)},
        geometry=gpd.points_from_xy(rng.uniform(6.0, 6.02, n), rng.uniform(45.0, 45.02, n)),
        crs=settings.default_crs,
    )
    places = gpd.GeoDataFrame(
        {"place": ["village", "hamlet", "hamlet"], "name": ["v", "h1", "h2"]},
        geometry=[
            shapely.Point(6.03, 45.015),
            shapely.Point(6.025, 45.005),
            shapely.Point(6.5, 45.5),
        ],
        crs=settings.default_crs,
    )
    pts = population_points(o, buildings=bld, places=places)
    sums = pts.groupby("insee_com")["population"].sum()
    assert sums["74001"] == 1000.0  # exactly, not approximately
    assert sums["74002"] == 333.0
    assert sums["74003"] == 77.0
    method = pts.groupby("insee_com")["origin_method"].first()
    assert method.to_dict() == {"74001": "buildings", "74002": "places", "74003": "town hall"}
    # the village weighs 5 hamlets
    b = pts[pts["insee_com"] == "74002"].sort_values("population")
    w = PLACE_WEIGHTS["village"] / (PLACE_WEIGHTS["village"] + PLACE_WEIGHTS["hamlet"])
    assert b["population"].iloc[-1] == pytest.approx(333.0 * w)
    # 200 m squares: a 1.6 km × 2.2 km commune holds at most ~ 8 × 12 of them
    a = pts[pts["insee_com"] == "74001"]
    assert 20 < len(a) <= 130
    assert a["n_buildings"].sum() == n
    with pytest.raises(InputError, match="population"):
        population_points(o.drop(columns="population"))


@pytest.fixture(scope="module")
def region(mirror: Path) -> Region:
    return load_region("pays-du-mont-blanc")


def test_a_building_far_up_the_valley_raises_the_weighted_time(region: Region) -> None:
    g = region.graph()
    o = region.origins[region.origins["insee_com"] == "74056"]  # Chamonix
    sites = region.sites[region.sites["site_id"] == "fs829"]
    pts = population_points(o, buildings=_buildings_of(region, o), places=region.features.places)
    base = people_indicators(nearest_site(g, pts, sites, second=False))
    # a large building at Le Tour, 12 km up the valley from the France services
    far = gpd.GeoDataFrame(
        {"area_m2": [20_000.0]}, geometry=[shapely.Point(6.9431, 45.9977)], crs=4326
    )
    more = population_points(
        o,
        buildings=pd.concat([_buildings_of(region, o), far], ignore_index=True),
        places=region.features.places,
    )
    after = people_indicators(nearest_site(g, more, sites, second=False))
    assert after["mean_time_min"].iloc[0] > base["mean_time_min"].iloc[0] + 0.1
    assert after["p90_time_min"].iloc[0] >= base["p90_time_min"].iloc[0]
    assert after["population"].iloc[0] == base["population"].iloc[0] == 8642.0


def _buildings_of(region: Region, o: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from msapgeo.network import read_buildings

    b = read_buildings(region.osm, progress=False)
    poly = gpd.GeoSeries.from_wkt(o["commune_geometry"], crs=4326).iloc[0]
    return b[b.within(poly)].reset_index(drop=True)


def test_weighted_indicators_by_hand() -> None:
    pts = pd.DataFrame(
        {
            "insee_com": ["1", "1", "1", "1", "2"],
            "population": [100.0, 50.0, 30.0, 20.0, 10.0],
            "time_min": [5.0, 25.0, 35.0, np.nan, 12.0],
            "origin_method": "buildings",
        }
    )
    th = pd.DataFrame({"insee_com": ["1", "2"], "time_min": [4.0, 12.0]})
    t = people_indicators(pts, th, thresholds=(20.0, 30.0)).set_index("insee_com")
    mean = (100 * 5 + 50 * 25 + 30 * 35) / 180
    assert t.loc["1", "mean_time_min"] == pytest.approx(mean)
    assert t.loc["1", "population"] == 200.0
    assert t.loc["1", "population_routed"] == 180.0
    assert t.loc["1", "population_beyond_20min"] == 80.0
    assert t.loc["1", "population_beyond_30min"] == 30.0
    # weighted p90: 90 % of 180 = 162 inhabitants are reached by 35 min (100+50 = 150 < 162)
    assert t.loc["1", "p90_time_min"] == 35.0
    assert t.loc["1", "difference_min"] == pytest.approx(mean - 4.0)
    assert t.loc["2", "difference_min"] == 0.0


def test_filosofi_loader(tmp_path: Path) -> None:
    f = tmp_path / "carreaux.csv"
    f.write_text(
        "Idcar_200m,Idcar_1km,Ind,Men,lcog_geo\n"
        "CRS3035RES200mN2518400E4046200,CRS3035RES1000mN2518000E4046000,12.5,5,74056\n"
        "CRS3035RES200mN2518600E4046200,CRS3035RES1000mN2518000E4046000,3,1,7405674143\n"
        "CRS3035RES200mN2000000E4000000,CRS3035RES1000mN2000000E4000000,9,4,05061\n"
    )
    pts = load_filosofi(f, communes=["74056"])
    assert pts["population"].tolist() == [12.5, 3.0]
    assert set(pts["origin_method"]) == {"Filosofi 200 m"}
    p = pts.to_crs("EPSG:3035").geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((4046300.0, 2518500.0))  # the square's centre
    bad = tmp_path / "bad.csv"
    bad.write_text("Idcar_200m,Ind,lcog_geo\nnonsense,1,74056\n")
    with pytest.raises(InputError, match="row 2"):
        load_filosofi(bad)
