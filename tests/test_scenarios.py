"""Scenarios: closures by id, name, ref or polygon, winter closures from tags, reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.network import graph_from_osm
from msapgeo.pipeline import demo_places
from msapgeo.scenarios import close_roads, compare, parse_date_ranges, winter_closures
from tests.osm_fixture import NODES, osm_xml

TUNNEL, PASS = "Túnel d'Envalira", "Port d'Envalira"


@pytest.fixture(scope="module")
def places(andorra_features) -> tuple:  # type: ignore[no-untyped-def]
    origins, sites = demo_places(andorra_features)
    return origins, sites


def _by_name(df: pd.DataFrame, name: str) -> pd.Series:
    return df.set_index("name").loc[name]


def test_closing_the_envalira_crossing(andorra_graph: RoutingGraph, places: tuple) -> None:
    origins, sites = places
    sc = close_roads(andorra_graph, names=[TUNNEL, PASS])
    assert set(sc.closed["name"]) == {TUNNEL, PASS}
    assert len(sc.graph.edges["u"]) < len(andorra_graph.edges["u"])
    before, after, communes, summary = compare(andorra_graph, sc, origins, sites)
    gr_b, gr_a = _by_name(before, "Grau Roig"), _by_name(after, "Grau Roig")
    # Grau Roig went over the pass to Pas de la Casa; now it drives down to Canillo
    assert gr_b["site_id"] == "townhall/relation/10837845"
    assert gr_a["site_id"] != gr_b["site_id"]
    assert gr_a["time_min"] > gr_b["time_min"] + 5
    # Pas de la Casa, cut off from the rest of Andorra, keeps its own town hall
    pc_b, pc_a = _by_name(before, "Pas de la Casa"), _by_name(after, "Pas de la Casa")
    assert pc_a["site_id"] == pc_b["site_id"] == "townhall/relation/10837845"
    assert pc_a["time_min"] == pytest.approx(pc_b["time_min"], abs=0.05)
    assert "Grau Roig" in set(communes["name"])
    assert (summary["communes"] >= 0).all()


def test_closing_only_the_tunnel_sends_traffic_over_the_pass(
    andorra_graph: RoutingGraph, places: tuple
) -> None:
    origins, sites = places
    sc = close_roads(andorra_graph, refs=["CG-2a"])
    before, after, _, _ = compare(andorra_graph, sc, origins, sites)
    b, a = _by_name(before, "Grau Roig"), _by_name(after, "Grau Roig")
    assert a["time_min"] > b["time_min"]  # the pass road is slower than the tunnel
    assert a["site_id"] == b["site_id"]


def test_closure_by_way_id_and_polygon(andorra_graph: RoutingGraph) -> None:
    wid = int(andorra_graph.way_id[andorra_graph.way_name == TUNNEL][0])
    sc = close_roads(andorra_graph, way_ids=[wid])
    assert sc.closed["osm_way_id"].tolist() == [wid]
    box = shapely.box(1.72, 42.53, 1.75, 42.55)
    sp = close_roads(andorra_graph, polygon=box)
    assert len(sp.closed) > 0
    with pytest.raises(InputError, match="no drivable way with name 'Route des Crêtes'"):
        close_roads(andorra_graph, names=["Route des Crêtes"])
    with pytest.raises(InputError, match="polygon"):
        close_roads(andorra_graph, polygon=shapely.box(2.3, 48.8, 2.4, 48.9))


def test_parse_date_ranges() -> None:
    assert parse_date_ranges("Nov-May") == [((11, 1), (5, 31))]
    assert parse_date_ranges("Nov 15-May 15") == [((11, 15), (5, 15))]
    assert parse_date_ranges("Dec 01-Mar 31, Jul-Aug") == [((12, 1), (3, 31)), ((7, 1), (8, 31))]
    assert parse_date_ranges("winter") == [((12, 1), (3, 31))]
    assert parse_date_ranges("snow") is None


def test_winter_closures_from_tags(tmp_path: Path) -> None:
    ways = [
        (1, [1, 2], {"highway": "secondary", "name": "col", "seasonal": "summer"}),
        (2, [2, 3], {"highway": "secondary", "name": "ice", "winter_road": "yes"}),
        (3, [3, 4], {"highway": "secondary", "name": "unplowed", "snowplowing": "no"}),
        (
            4,
            [4, 7],
            {
                "highway": "secondary",
                "name": "cond",
                "motor_vehicle:conditional": "no @ (Nov 15-May 15)",
            },
        ),
        (5, [7, 8], {"highway": "secondary", "name": "snow", "access:conditional": "no @ (snow)"}),
        (6, [1, 9], {"highway": "secondary", "name": "open"}),
    ]
    assert set(NODES) >= {1, 2, 3, 4, 7, 8, 9}
    f = tmp_path / "winter.osm"
    f.write_text(osm_xml(ways))
    g = graph_from_osm(f, builtup=False)
    jan = winter_closures(g, "2027-01-15")
    assert set(jan.closed["name"]) == {"col", "unplowed", "cond"}
    assert jan.not_evaluated["value"].tolist() == ["no @ (snow)"]
    jul = winter_closures(g, dt.date(2027, 7, 15))
    assert set(jul.closed["name"]) == {"ice"}
    nov = winter_closures(g, "2026-11-20")
    assert set(nov.closed["name"]) == {"cond", "ice"}
    closed_ways = set(jan.closed["osm_way_id"])
    e = jan.graph.edges
    assert not np.isin(jan.graph.way_id[e["way"]], list(closed_ways)).any()


def test_cli_scenario(tmp_path: Path, mirror: Path) -> None:
    from msapgeo.cli import main

    out = tmp_path / "sc"
    assert main(["scenario", "--close-name", TUNNEL, PASS, "--out", str(out), "--quiet"]) == 0
    closed = pd.read_csv(out / "closed_ways.csv", sep=";", decimal=",")
    assert set(closed["name"]) == {TUNNEL, PASS}
    communes = pd.read_csv(out / "scenario_communes.csv", sep=";", decimal=",")
    assert "Grau Roig" in set(communes["name"])
    assert (out / "map.html").is_file()
    assert (
        main(["scenario", "--winter", "2027-01-15", "--out", str(tmp_path / "w"), "--quiet"]) == 0
    )
