"""Mountain realism: curvature and slope on synthetic geometries, the DEM, profiles, estimates."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from msapgeo import datasets
from msapgeo.dem import DEM, Raster, estimate_mountain, read_hgt
from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.network import RawWays, build_graph
from msapgeo.profiles import (
    LATERAL_ACCEL_MS2,
    apply_profile,
    curve_speed_kmh,
    edge_measures,
    uphill_speed_kmh,
    vertex_radius_m,
)

M_PER_DEG = 111_195.0


def _graph_from_lines(lines: list[list[tuple[float, float]]], tags: dict[str, str]) -> RoutingGraph:
    raw = RawWays()
    nid = 1
    for k, line in enumerate(lines):
        raw.way_id.append(k + 1)
        raw.tags.append(dict(tags))
        for lon, lat in line:
            raw.osmid.append(nid)
            raw.lon.append(lon)
            raw.lat.append(lat)
            nid += 1
        raw.ptr.append(len(raw.osmid))
    return build_graph(raw)


def _metres_to_lonlat(
    x: np.ndarray, y: np.ndarray, lat0: float = 44.5
) -> list[tuple[float, float]]:
    lon = 6.0 + x / (M_PER_DEG * np.cos(np.radians(lat0)))
    lat = lat0 + y / M_PER_DEG
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def test_hairpin_is_driven_at_the_curve_speed() -> None:
    # straight 300 m, a half-circle hairpin of radius 20 m (vertex every ~3 m), straight 300 m
    r = 20.0
    a = np.linspace(-np.pi / 2, np.pi / 2, 21)
    xs = np.concatenate(
        [np.linspace(-300, 0, 31)[:-1], r * np.cos(a), np.linspace(0, -300, 31)[1:]]
    )
    ys = np.concatenate([np.full(30, -r), r * np.sin(a), np.full(30, r)])
    g = _graph_from_lines([_metres_to_lonlat(xs, ys)], {"highway": "secondary"})
    rad = vertex_radius_m(g)
    mid = len(xs) // 2
    assert rad[mid] == pytest.approx(r, rel=0.1)
    assert np.isinf(rad[5])  # straight part
    gm = apply_profile(g, "mountain")
    with np.errstate(invalid="ignore"):  # the way's last vertex has no segment (0 / 0)
        kmh = g.seg_len_m / gm.seg_time_fwd_s * 3.6
    expected = np.sqrt(LATERAL_ACCEL_MS2 * r) * 3.6  # ~25.5 km/h
    assert kmh[mid] == pytest.approx(expected, rel=0.1)
    assert kmh[3] == pytest.approx(80.0)  # straight rural road keeps the 2018 limit
    assert gm.seg_src_fwd[mid] == 6  # curvature
    m = edge_measures(g)
    assert m["min_radius_m"].min() == pytest.approx(r, rel=0.1)
    assert m["turning_deg_per_km"].max() > 180 / 0.7  # 180 degrees in under 700 m


def _ramp(grade: float, base: float = 300.0) -> Raster:
    # a plane rising northwards: z = base + grade * (metres north of 44.49)
    n = 121
    lat = 44.51 - np.arange(n) * (0.02 / (n - 1))
    z = base + grade * (lat - 44.49) * M_PER_DEG
    return Raster(
        np.repeat(z[:, None], n, axis=1), 5.99, 44.51, 0.02 / (n - 1), 0.02 / (n - 1), "ramp"
    )


def test_straight_climb_direction_matters() -> None:
    ys = np.linspace(0, 1000, 51)
    line = _metres_to_lonlat(np.zeros_like(ys), ys)
    g = _graph_from_lines([line], {"highway": "secondary"})
    gm = apply_profile(g, "mountain", dem=DEM([_ramp(0.12)]))
    up = g.seg_len_m[:-1].sum() / gm.seg_time_fwd_s[:-1].sum() * 3.6
    down = g.seg_len_m[:-1].sum() / gm.seg_time_bwd_s[:-1].sum() * 3.6
    assert up == pytest.approx(uphill_speed_kmh(np.array([0.12]))[0], rel=0.03)
    assert up < 80 - 5
    assert down == pytest.approx(80.0)
    assert gm.meta["profile_report"]["slope"]["segments_without_dem"] == 0
    # outside the DEM: speeds unchanged and reported
    far = _graph_from_lines([[(lon + 1.0, lat) for lon, lat in line]], {"highway": "secondary"})
    gf = apply_profile(far, "mountain", dem=DEM([_ramp(0.12)]))
    assert np.allclose(gf.seg_time_fwd_s, far.seg_time_fwd_s)
    assert gf.meta["profile_report"]["slope"]["segments_without_dem"] == 50


def test_speed_laws() -> None:
    assert curve_speed_kmh(np.array([100.0]))[0] == pytest.approx(np.sqrt(250) * 3.6)
    v = uphill_speed_kmh(np.array([0.0, 0.06, 0.12, -0.1]))
    assert np.isinf(v[0])
    assert np.isinf(v[3])
    assert v[1] > v[2] > 30


def test_srtm_tile_reads_known_elevations(mirror: Path) -> None:
    p = datasets.fetch("srtm_N42E001")
    r = read_hgt(p)
    assert r.z.shape == (1201, 1201)
    assert np.nanmin(r.z) == 349
    assert np.nanmax(r.z) == 3100
    assert np.isnan(r.z).sum() == 7652  # voids, as in PROVENANCE.md
    # independent read of one grid node: row 300, column 600
    with zipfile.ZipFile(p) as zf:
        raw = zf.read(zf.namelist()[0])
    k = 2 * (300 * 1201 + 600)
    expected = int.from_bytes(raw[k : k + 2], "big", signed=True)
    lon, lat = 1 + 600 / 1200, 43 - 300 / 1200
    assert DEM([r]).sample(np.array([lon]), np.array([lat]))[0] == pytest.approx(expected)
    # Andorra la Vella (about 1,020 m) and the Pas de la Casa (about 2,080 m)
    z = DEM([r]).sample(np.array([1.5218, 1.7333]), np.array([42.5063, 42.5425]))
    assert 950 < z[0] < 1100
    assert 2000 < z[1] < 2200
    with pytest.raises(InputError, match="named after its corner"):
        read_hgt(Path("tile.hgt"))


def test_profile_round_trips_through_save_load(andorra_graph: RoutingGraph, tmp_path: Path) -> None:
    dem = DEM.from_files([datasets.fetch("srtm_N42E001")])
    gm = apply_profile(andorra_graph, "mountain", dem=dem)
    assert gm.meta["profile"] == "mountain"
    assert gm.edges["time_s"].sum() > andorra_graph.edges["time_s"].sum()
    h = RoutingGraph.load(gm.save(tmp_path / "m.npz"))
    assert h.equals(gm)
    assert h.meta["profile"] == "mountain"
    assert set(h.edges_gdf()["speed_source"]) >= {"curvature", "slope"}
    with pytest.raises(InputError, match="already carries the 'mountain' profile"):
        apply_profile(gm, "mountain")
    assert apply_profile(andorra_graph, "legal") is andorra_graph


def test_mountain_estimate_from_the_dem() -> None:
    flat_high = Raster(np.full((50, 50), 800.0), 6.0, 44.5, 0.001, 0.001, "high")
    flat_low = Raster(np.full((50, 50), 300.0), 7.0, 44.5, 0.001, 0.001, "low")
    steep = _ramp(0.25, base=200.0)
    dem = DEM([flat_high, flat_low, steep])
    t = gpd.GeoDataFrame(
        {"insee_com": ["high", "low", "steep", "nowhere"]},
        geometry=[
            shapely.box(6.01, 44.47, 6.03, 44.49),
            shapely.box(7.01, 44.47, 7.03, 44.49),
            shapely.box(5.995, 44.492, 6.005, 44.505),
            shapely.box(0, 0, 0.01, 0.01),
        ],
        crs="EPSG:4326",
    )
    est = estimate_mountain(dem, t).set_index("insee_com")
    assert est.loc["high", "mountain"] == "yes"
    assert est.loc["low", "mountain"] == "no"
    assert est.loc["steep", "mountain"] == "yes"  # slopes of 25 % over the whole territory
    assert est.loc["nowhere", "mountain"] == "unknown"
    assert set(est["mountain_source"].str[:15]) == {"estimated (DEM)"}


def test_demo_mountain_profile(tmp_path: Path, mirror: Path) -> None:
    import pandas as pd

    from msapgeo.cli import main

    out = tmp_path / "m"
    assert (
        main(["demo", "--region", "andorra", "--out", str(out), "--profile", "mountain", "--quiet"])
        == 0
    )
    access = pd.read_csv(out / "access.csv", sep=";", decimal=",")
    assert set(access["profile"]) == {"mountain"}
    communes = gpd.read_file(out / "diagnostic" / "diagnostic.gpkg", layer="communes")
    assert set(communes["mountain_source"]) == {"estimated (DEM)"}
    assert (communes["mountain"] == "yes").mean() > 0.9  # Andorra lies above 840 m
    assert "estimée par le MNT" in (out / "diagnostic" / "report.html").read_text()
