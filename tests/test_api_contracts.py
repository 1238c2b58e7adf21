"""Small public pieces of the API, each used by a planner or an output: the nodes as a
GeoDataFrame, the speed model's round trip through JSON, the labelled matrix frame."""

from __future__ import annotations

import json

import numpy as np
import pytest

import msapgeo as mg
from msapgeo.speeds import SpeedModel


def test_nodes_gdf_flags_the_largest_component(andorra_graph: mg.RoutingGraph) -> None:
    nodes = andorra_graph.nodes_gdf()
    assert len(nodes) == andorra_graph.n_nodes
    assert nodes.crs.to_epsg() == 4326
    assert nodes["osmid"].is_unique
    assert 0.9 < nodes["in_lscc"].mean() < 1.0  # most nodes, not all (islands exist)


def test_speed_model_round_trips_through_json() -> None:
    m = SpeedModel(practical=True, departmental_kmh=90.0, link_kmh={"motorway_link": 60.0})
    back = SpeedModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back == m
    assert back.departmental_kmh == 90.0


def test_od_matrix_frame_is_labelled(andorra_graph: mg.RoutingGraph) -> None:
    import geopandas as gpd

    pts = gpd.GeoDataFrame(
        {"point_id": ["a", "b", "c"], "site_id": ["s1", "s2", "s3"]},
        geometry=gpd.points_from_xy([1.521, 1.534, 1.60], [42.507, 42.51, 42.55]),
        crs="EPSG:4326",
    )
    m = mg.od_matrix(andorra_graph, pts, pts.iloc[:2], defaults=True)
    df = m.to_frame()
    assert list(df.columns) == [
        "origin_id",
        "site_id",
        "time_min",
        "dist_km",
        "default_speed_km",
        "reachable",
    ]
    assert len(df) == 3 * 2
    assert df["origin_id"].tolist() == ["a", "a", "b", "b", "c", "c"]  # origins' own ids
    assert df["site_id"].tolist() == ["s1", "s2"] * 3
    wide = df.pivot(index="origin_id", columns="site_id", values="time_min")
    assert np.allclose(wide.to_numpy(), m.time_min, equal_nan=True)
    assert (df["default_speed_km"] <= df["dist_km"] + 1e-9).all()
    assert df.loc[(df["origin_id"] == "a") & (df["site_id"] == "s1"), "time_min"].iloc[
        0
    ] == pytest.approx(0.0, abs=0.5)


def test_wrong_inputs_are_input_errors(andorra_graph: mg.RoutingGraph) -> None:
    """What a planner gets wrong in a notebook is named in one InputError, never a KeyError."""
    import geopandas as gpd

    from msapgeo.maps import before_after_map
    from msapgeo.planning import evaluate, sites_from_communes

    pts = gpd.GeoDataFrame(
        {"code": ["x"], "population": [10]},
        geometry=gpd.points_from_xy([1.521], [42.507]),
        crs="EPSG:4326",
    )
    with pytest.raises(mg.InputError, match="no 'insee_com' column"):
        sites_from_communes(pts, ["x"])
    with pytest.raises(mg.InputError, match="no 'time_min' column"):
        before_after_map(pts, pts, pts.assign(site_id="a"), pts.assign(site_id="a"))
    with pytest.raises(mg.InputError, match="no 'site_id' column"):
        evaluate(andorra_graph, pts, pts.rename(columns={"code": "id"}))
