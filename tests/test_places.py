"""Places: town-hall origins, input files, snapping and its reported exclusions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from msapgeo import datasets, settings
from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.places import origins_from_communes, read_points, snap


def test_origins_are_town_halls_with_fallback(mirror: Path) -> None:
    communes = datasets.load_communes("04")  # one commune of 04 has no town-hall point
    o = origins_from_communes(communes)
    assert len(o) == len(communes) == 198
    assert (o["point_source"] == "representative_point").sum() == 1
    fallback = o[o["point_source"] == "representative_point"].iloc[0]
    poly = communes.set_index("insee_com").loc[fallback["insee_com"], "geometry"]
    assert poly.contains(fallback.geometry)
    assert o.geometry.geom_type.eq("Point").all()


def test_snap_measures_the_offnetwork_leg(andorra_graph: RoutingGraph) -> None:
    g = andorra_graph
    i = int(np.flatnonzero(g.vx_in_lscc)[100])
    lon, lat = g.vx_lon[i], g.vx_lat[i]
    pts = gpd.GeoDataFrame(
        {"id": ["on", "near", "far", "none"]},
        geometry=gpd.points_from_xy([lon, lon, lon + 0.5, np.nan], [lat, lat + 0.001, lat, np.nan]),
        crs="EPSG:4326",
    )
    pts.loc[3, "geometry"] = None
    s = snap(g, pts)
    assert s.loc[0, "snap_m"] == pytest.approx(0, abs=1e-6)
    assert s.loc[0, "node_osmid"] == g.vx_osmid[i]
    assert 0 < s.loc[1, "snap_m"] <= 112
    assert s.loc[1, "snap_time_s"] == pytest.approx(
        s.loc[1, "snap_m"] / (settings.offnetwork_speed_kmh / 3.6)
    )
    assert s.loc[2, "node_osmid"] == -1
    assert s.loc[2, "exclusion"].startswith("trop loin du réseau routier")
    assert s.loc[3, "exclusion"] == "pas de coordonnées"
    # every snapped vertex lies in the largest strongly connected component
    assert g.vx_in_lscc[np.isin(g.vx_osmid, s["node_osmid"][s["node_osmid"] >= 0])].all()


def test_snap_tolerance_is_a_parameter(andorra_graph: RoutingGraph) -> None:
    g = andorra_graph
    i = int(np.flatnonzero(g.vx_in_lscc)[0])
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([g.vx_lon[i] + 0.01], [g.vx_lat[i]]), crs="EPSG:4326"
    )
    assert snap(g, pts, tolerance_m=1)["exclusion"].iloc[0].startswith("trop loin")
    assert snap(g, pts, tolerance_m=5_000)["exclusion"].isna().iloc[0]


def test_read_points_csv(tmp_path: Path) -> None:
    f = tmp_path / "sites.csv"
    f.write_text("id;name;lon;lat\na;A;1,52;42,50\nb;B;;\nc;C;1.6;42.55\n")
    pts = read_points(f)
    assert list(pts["id"]) == ["a", "b", "c"]
    assert pts.geometry.iloc[0].x == pytest.approx(1.52)
    assert (
        pts["exclusion"].iloc[1]
        == "pas de coordonnées utilisables dans sites.csv, ligne 3 (lon, lat)"
    )
    assert pts["exclusion"].isna().sum() == 2


def test_read_points_errors(tmp_path: Path) -> None:
    f = tmp_path / "nocoords.csv"
    f.write_text("id,name\n1,A\n")
    with pytest.raises(InputError, match=r"nocoords\.csv: no coordinate columns"):
        read_points(f)
    dup = tmp_path / "dup.csv"
    dup.write_text("id,lon,lat\n1,1,42\n1,1,42\n")
    with pytest.raises(InputError, match="unique"):
        read_points(dup)
    with pytest.raises(InputError, match="file not found"):
        read_points(tmp_path / "missing.csv")


def test_read_points_geojson(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"code": ["x", "y"]},
        geometry=gpd.points_from_xy([1.5, 1.6], [42.5, 42.55]),
        crs="EPSG:4326",
    ).to_crs(2154)
    f = tmp_path / "pts.geojson"
    gdf.to_file(f)
    pts = read_points(f)
    assert list(pts["id"]) == ["x", "y"]
    assert pts.crs.to_epsg() == 4326
    assert pts.geometry.iloc[0].x == pytest.approx(1.5)


def test_two_half_trees_snap_like_one(
    andorra_graph: RoutingGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large graphs index their vertices in two trees built at once: the same vertex and
    distance as one tree, for random points and for points on vertices."""
    from msapgeo import vertexindex

    rng = np.random.default_rng(3)
    g = andorra_graph
    lon0, lon1 = np.quantile(g.vx_lon, [0, 1])
    lat0, lat1 = np.quantile(g.vx_lat, [0, 1])
    on = rng.choice(len(g.vx_lon), 500)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            np.concatenate([rng.uniform(lon0, lon1, 3000), g.vx_lon[on]]),
            np.concatenate([rng.uniform(lat0, lat1, 3000), g.vx_lat[on]]),
        ),
        crs="EPSG:4326",
    )
    one = snap(g.replace(), pts)
    monkeypatch.setattr(vertexindex, "PARALLEL_MIN_POINTS", 1000)
    fresh = g.replace()
    two = snap(fresh, pts)
    _, index = fresh.vertex_index("largest")
    assert index is not None
    assert len(index.trees) == 2
    np.testing.assert_array_equal(one["node_osmid"], two["node_osmid"])
    np.testing.assert_allclose(one["snap_m"], two["snap_m"], rtol=0, atol=1e-6)
