"""The practical profile: speeds by class and context, built-up areas without landuse,
junction delays from the classes that meet and from control nodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from msapgeo import speeds
from msapgeo.network import graph_from_osm
from msapgeo.pipeline import load_graph
from msapgeo.profiles import apply_profile, junction_delays
from msapgeo.speeds import SOURCE_CODE, SpeedModel, junction_delay_s, way_speeds

LAT = 45.0
STEP = 0.001  # about 79 m of longitude at 45° N


def _xml() -> str:
    """A secondary road west → east (nodes 1..31), a village at its 6th node and no landuse.

    * node 21 (lon + 20 steps): a residential street joins from the north (nodes 101-103,
      a ``highway=stop`` on node 102, one step before the junction);
    * node 26: another tertiary crosses (nodes 201-205), with ``traffic_signals`` on 26.
    """
    nodes = {i: (6.0 + (i - 1) * STEP, LAT) for i in range(1, 32)}
    nodes |= {101: (6.020, LAT + 2 * STEP), 102: (6.020, LAT + STEP)}
    nodes |= {201: (6.025, LAT + 2 * STEP), 202: (6.025, LAT + STEP)}
    nodes |= {204: (6.025, LAT - STEP), 205: (6.025, LAT - 2 * STEP)}
    tags = {102: {"highway": "stop"}, 26: {"highway": "traffic_signals"}}
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="t">']
    for nid, (lon, lat) in nodes.items():
        t = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.get(nid, {}).items())
        out.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon:.6f}">{t}</node>')
    out.append(
        f'<node id="900" version="1" lat="{LAT + 0.0003}" lon="{6.005}">'
        '<tag k="place" v="village"/><tag k="name" v="Le Village"/></node>'
    )
    ways = [
        (1, list(range(1, 32)), {"highway": "secondary"}),
        (2, [101, 102, 21], {"highway": "residential"}),
        (3, [201, 202, 26, 204, 205], {"highway": "tertiary"}),
    ]
    for wid, refs, t in ways:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items())
        out.append(f'<way id="{wid}" version="1">{nd}{tg}</way>')
    out.append("</osm>")
    return "\n".join(out)


@pytest.fixture(scope="module")
def osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("practical") / "village.osm"
    p.write_text(_xml())
    return p


def _seg_kmh(g, i: int) -> float:  # type: ignore[no-untyped-def]
    return float(g.seg_len_m[i] / g.seg_time_fwd_s[i] * 3.6)


def test_village_is_built_up_without_landuse(osm: Path) -> None:
    g = graph_from_osm(osm, model=SpeedModel(practical=True), progress=False)
    # way 1 vertices 0..30: vertex 5 is at the village; the disc has a 400 m radius
    assert g.seg_src_fwd[5] == SOURCE_CODE["default_urban"]
    # secondary inside a village (sparse streets): the practical rural 60 capped by the
    # built-up limit of 50 (ONISR observes 51 km/h on small-town through roads)
    assert _seg_kmh(g, 5) == pytest.approx(50.0)
    assert g.seg_src_fwd[15] == SOURCE_CODE["default_rural"]
    assert _seg_kmh(g, 15) == pytest.approx(60.0)  # secondary outside: practical rural 60
    assert g.meta["dense_streets_segments_share"] == 0.0
    legal = graph_from_osm(osm, progress=False)
    assert _seg_kmh(legal, 5) == pytest.approx(50.0)  # the law: 50 inside
    assert _seg_kmh(legal, 15) == pytest.approx(80.0)  # and 80 outside
    # without the place discs, the village street would have been rural
    nodisc = graph_from_osm(osm, builtup=False, progress=False)
    assert _seg_kmh(nodisc, 5) == pytest.approx(80.0)


def test_bypass_with_separated_carriageways_is_not_a_village_street(tmp_path: Path) -> None:
    """A 2×2 trunk (two one-way carriageways) passing 100 m from a village node, beside the
    village's own secondary road: the disc caps the street, not the bypass; a carriageway
    whose tags say it is urban stays urban."""
    lat = LAT
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="t">']
    rows = {"street": (1, lat), "east": (100, lat - 0.0009), "west": (200, lat - 0.0010)}
    rows |= {"tagged": (300, lat + 0.0009)}
    for base, y in rows.values():
        for i in range(21):
            out.append(f'<node id="{base + i}" version="1" lat="{y}" lon="{6.0 + i * STEP:.6f}"/>')
    out.append(
        f'<node id="900" version="1" lat="{lat}" lon="6.010">'
        '<tag k="place" v="village"/><tag k="name" v="Le Village"/></node>'
    )
    ways = [
        (1, [1 + i for i in range(21)], {"highway": "secondary"}),
        (2, [100 + i for i in range(21)], {"highway": "trunk", "oneway": "yes"}),
        (3, [200 + i for i in range(20, -1, -1)], {"highway": "trunk", "oneway": "yes"}),
        (
            4,
            [300 + i for i in range(21)],
            {"highway": "trunk", "oneway": "yes", "source:maxspeed": "FR:urban"},
        ),
    ]
    for wid, refs, t in ways:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items())
        out.append(f'<way id="{wid}" version="1">{nd}{tg}</way>')
    out.append("</osm>")
    p = tmp_path / "bypass.osm"
    p.write_text("\n".join([*out, ""]))
    for model, street_kmh, bypass_kmh in (
        (SpeedModel(practical=True), 50.0, 90.0),  # practical trunk 90 (Valhalla), not 50
        (SpeedModel(), 50.0, 110.0),  # the law: 110 on separated carriageways
    ):
        g = graph_from_osm(p, model=model, progress=False)
        mid = 10  # vertex 10 of each way: 7 m to 80 m from the village node
        for wid, kmh, source in (
            (1, street_kmh, "default_urban"),
            (2, bypass_kmh, "default_rural"),
            (3, bypass_kmh, "default_rural"),
            (4, 50.0, "default_urban"),  # its tags say urban: the disc is not needed
        ):
            w = int(np.flatnonzero(g.way_id == wid)[0])
            i = int(g.way_ptr[w]) + mid
            assert _seg_kmh(g, i) == pytest.approx(kmh), (wid, model.practical)
            assert g.seg_src_fwd[i] == SOURCE_CODE[source], (wid, model.practical)
    assert not speeds.separated_carriageways({"highway": "trunk"}, oneway=False)
    assert speeds.separated_carriageways({"highway": "primary", "dual_carriageway": "yes"}, True)
    assert not speeds.separated_carriageways(
        {"highway": "primary"}, oneway=True
    )  # a one-way street
    ring = {"highway": "trunk", "junction": "roundabout"}
    assert not speeds.separated_carriageways(ring, oneway=True)


def _grid_xml(n: int, spacing_deg: float, tags: dict[str, str]) -> str:
    """An ``n`` × ``n`` lattice of streets ``spacing_deg`` apart, no place, no landuse."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="t">']
    nid = lambda i, j: 1 + i * n + j  # noqa: E731
    for i in range(n):
        for j in range(n):
            lon, lat = 6.0 + j * spacing_deg / 0.7071, LAT + i * spacing_deg
            out.append(f'<node id="{nid(i, j)}" version="1" lat="{lat:.6f}" lon="{lon:.6f}"/>')
    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    wid = 1
    for i in range(n):
        for refs in ([nid(i, j) for j in range(n)], [nid(j, i) for j in range(n)]):
            nd = "".join(f'<nd ref="{r}"/>' for r in refs)
            out.append(f'<way id="{wid}" version="1">{nd}{tg}</way>')
            wid += 1
    out.append("</osm>")
    return "\n".join(out)


def test_street_density_is_measured() -> None:
    from msapgeo.network import street_density_km_km2

    # a lattice of spacing s has 2 / s km of street per km²: 100 m → 20 km/km²
    x = np.arange(-3000.0, 3001.0, 10.0)
    lon, lat, length = [], [], []
    for k in np.arange(-3000.0, 3001.0, 100.0):
        for a, b in ((x, np.full_like(x, k)), (np.full_like(x, k), x)):
            lon.append(6.0 + a / 78_850.0)  # metres of longitude at 45° N
            lat.append(45.0 + b / 111_132.0)
            length.append(np.full(len(x), 10.0))
    d = street_density_km_km2(np.concatenate(lon), np.concatenate(lat), np.concatenate(length))
    centre = np.argmin(np.abs(np.concatenate(lon) - 6.0) + np.abs(np.concatenate(lat) - 45.0))
    assert d[centre] == pytest.approx(20.0, rel=0.1)


def test_dense_street_grid_is_urban_without_place_or_landuse(tmp_path: Path) -> None:
    """A town grid (streets 90 m apart) with no place node and no landuse: built up by its
    street density, at the practical urban speeds; a sparse grid (450 m) stays rural."""
    dense = tmp_path / "dense.osm"
    dense.write_text(_grid_xml(60, 0.0008, {"highway": "tertiary"}))
    g = graph_from_osm(dense, model=SpeedModel(practical=True), progress=False)
    centre = (g.vx_lon.mean(), g.vx_lat.mean())  # a segment in the middle of the town
    mid = int(np.argmin(np.hypot(g.vx_lon[:-1] - centre[0], g.vx_lat[:-1] - centre[1])))
    assert g.seg_src_fwd[mid] == SOURCE_CODE["default_urban"]
    assert _seg_kmh(g, mid) == pytest.approx(40.0)  # tertiary, practical urban
    assert g.meta["dense_streets_segments_share"] > 0.5
    sparse = tmp_path / "sparse.osm"
    sparse.write_text(_grid_xml(8, 0.004, {"highway": "tertiary"}))
    h = graph_from_osm(sparse, model=SpeedModel(practical=True), progress=False)
    assert h.meta["dense_streets_segments_share"] == 0.0
    assert _seg_kmh(h, 3) == pytest.approx(50.0)  # tertiary, practical rural


def test_practical_table_caps_untagged_defaults_only() -> None:
    m = SpeedModel(practical=True)
    res = way_speeds({"highway": "residential"}, "forward", False, m)
    assert (res.urban_kmh, res.rural_kmh) == (30.0, 35.0)
    sec = way_speeds({"highway": "secondary"}, "forward", False, m)
    assert (sec.urban_kmh, sec.rural_kmh) == (49.0, 60.0)
    tagged = way_speeds({"highway": "residential", "maxspeed": "50"}, "forward", False, m)
    assert tagged.urban_kmh == 50.0  # a tagged limit is kept as it is
    link = way_speeds({"highway": "primary_link"}, "forward", True, m)
    assert link.rural_kmh == pytest.approx(min(50.0, 75.0 * speeds.RAMP_FACTOR))


def test_delay_physics() -> None:
    # a full stop from 50 km/h: 13.9 m/s braking at 2 and accelerating at 1.5 m/s²
    v = 50 / 3.6
    expected = v / 2 * (1 / speeds.DECEL_MS2 + 1 / speeds.ACCEL_MS2) + speeds.STOP_WAIT_S
    assert float(junction_delay_s(50.0, "stop")) == pytest.approx(expected)
    assert float(junction_delay_s(15.0, "yield")) == 0.0  # already slower than the check
    assert float(junction_delay_s(50.0, "yield")) < float(junction_delay_s(50.0, "stop"))
    assert float(junction_delay_s(90.0, "signals")) == speeds.SIGNAL_DELAY_S


def test_junction_delays_by_class_and_control(osm: Path) -> None:
    base = graph_from_osm(osm, model=SpeedModel(practical=True), progress=False)
    kmh_f = base.seg_len_m / np.where(base.seg_time_fwd_s > 0, base.seg_time_fwd_s, 1) * 3.6
    kmh_b = base.seg_len_m / np.where(base.seg_time_bwd_s > 0, base.seg_time_bwd_s, 1) * 3.6
    d_f, d_b, report = junction_delays(base, kmh_f, kmh_b)
    assert apply_profile(base, "practical").meta["turns"] is True
    # way 1 (vertices 0..30): the major road through the junction with the residential
    # street (vertex 20) loses nothing there
    assert d_f[19] == pytest.approx(0.0)
    assert d_b[20] == pytest.approx(0.0)
    # the crossing tertiary at vertex 25 has traffic signals: every approach waits
    assert d_f[24] == pytest.approx(speeds.SIGNAL_DELAY_S)
    assert d_b[25] == pytest.approx(speeds.SIGNAL_DELAY_S)
    # residential way 2 (vertices 31..33): the stop on node 102 counts towards the
    # junction (forward), not away from it
    v_in = base.seg_len_m[32] / base.seg_time_fwd_s[32] * 3.6
    assert d_f[32] == pytest.approx(float(junction_delay_s(v_in, "stop")))
    assert d_b[31] == pytest.approx(0.0)
    assert d_b[32] == pytest.approx(0.0)
    # no delay on plain road vertices
    assert np.all(d_f[:19] == 0)
    assert report["control_nodes"] == {
        "stop": 1,
        "traffic_signals": 1,
    }


def test_profiles_order_times(osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSAPGEO_CACHE", str(tmp_path))
    legal = load_graph(osm, profile="legal", progress=False)
    practical = load_graph(osm, profile="practical", progress=False)
    mountain = load_graph(osm, profile="mountain", progress=False)
    assert legal.meta["profile"] == "legal"
    assert practical.meta["profile"] == "practical"
    t = [x.edges["time_s"].sum() for x in (legal, practical, mountain)]
    assert t[0] < t[1] <= t[2]  # the law is an upper bound of speeds
    assert practical.meta["turns"]
    assert mountain.meta["turns"]
    assert "turns" not in legal.meta


def test_insee_metric_profile(osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """INSEE Métric off-peak: a straight single carriageway at < 500 hab/km² runs at 65,
    at 500-4,000 at 40 (here: built-up segments stand for it without commune densities)."""
    from msapgeo.profiles import insee_speeds

    monkeypatch.setenv("MSAPGEO_CACHE", str(tmp_path))
    g = load_graph(osm, profile="insee", progress=False)
    assert g.meta["profile"] == "insee"
    base = load_graph(osm, profile="legal", progress=False)
    v, cls, report = insee_speeds(base)
    e = base.edges
    rural = (cls == 0) & (base.way_highway[e["way"]] == "tertiary")
    assert np.allclose(v[rural], 65.0, atol=0.5)  # straight: sinuosity 1
    urban = (cls == 1) & (base.way_highway[e["way"]] == "tertiary")
    assert np.allclose(v[urban], 40.0, atol=0.5)
    assert "built-up" in report["density"]
    # with a commune density above 4,000 hab/km², the class is the densest
    import geopandas as gpd
    import shapely

    dense = gpd.GeoDataFrame(
        {"density_hab_km2": [5_000.0]}, geometry=[shapely.box(5.9, 44.9, 6.1, 45.1)], crs=4326
    )
    v2, cls2, _ = insee_speeds(base, density=dense)
    assert (cls2 == 2).all()
    assert np.allclose(v2[base.way_highway[e["way"]] == "tertiary"], 20.0, atol=0.5)


def _two_ways_xml() -> str:
    """An untagged tertiary (nodes 1-3) continued by a tertiary tagged 50 (nodes 3-5)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="t">']
    for i in range(1, 6):
        out.append(f'<node id="{i}" version="1" lat="{LAT}" lon="{6.0 + (i - 1) * STEP:.6f}"/>')
    out.append(
        '<way id="1" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
        '<tag k="highway" v="tertiary"/></way>'
    )
    out.append(
        '<way id="2" version="1"><nd ref="3"/><nd ref="4"/><nd ref="5"/>'
        '<tag k="highway" v="tertiary"/><tag k="maxspeed" v="50"/></way>'
    )
    out.append("</osm>")
    return "\n".join(out)


@pytest.mark.parametrize("profile", ["practical", "legal"])
def test_routes_tell_their_km_at_default_speeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    import geopandas as gpd

    from msapgeo.routing import nearest_site, route_default_share

    monkeypatch.setenv("MSAPGEO_CACHE", str(tmp_path))
    osm = tmp_path / "two.osm"
    osm.write_text(_two_ways_xml())
    g = load_graph(osm, profile=profile, progress=False)
    pts = gpd.GeoDataFrame(
        {"id": ["west", "east"]},
        geometry=gpd.points_from_xy([6.0, 6.0 + 4 * STEP], [LAT, LAT]),
        crs="EPSG:4326",
    )
    west, east = pts.iloc[[0]], pts.iloc[[1]].assign(site_id="east")
    res = nearest_site(g, west, east)
    untagged_km = float(g.seg_len_m[:2].sum()) / 1000  # way 1: two segments, no tag
    assert res["dist_km"].iloc[0] == pytest.approx(2 * untagged_km, rel=1e-3)
    assert res["default_speed_km"].iloc[0] == pytest.approx(untagged_km, rel=1e-6)
    assert route_default_share(res) == pytest.approx(0.5, rel=1e-3)
    # the other way round: a site on the untagged way, reached over the tagged one
    back = nearest_site(g, east.drop(columns="site_id"), west.assign(site_id="west"))
    assert back["default_speed_km"].iloc[0] == pytest.approx(untagged_km, rel=1e-6)
