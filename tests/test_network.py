"""Network build: drivable filter, one-way rules, simplification, speeds, formats, save/load."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import osmium
import pytest

from msapgeo.errors import InputError, OSMReadError
from msapgeo.graph import RoutingGraph
from msapgeo.network import (
    EXTRA_EXCLUDED_HIGHWAY,
    KEEP_TAGS,
    graph_from_osm,
    is_drivable,
    read_ways,
)
from tests.osm_fixture import osm_xml, write_fixture


@pytest.fixture(scope="module")
def fixture_graph(tmp_path_factory: pytest.TempPathFactory) -> RoutingGraph:
    return graph_from_osm(write_fixture(tmp_path_factory.mktemp("osm")), builtup=False)


def _edge_set(g: RoutingGraph) -> set[tuple[int, int, int]]:
    e = g.edges
    return {
        (int(g.node_osmid[u]), int(g.node_osmid[v]), int(g.way_id[w]))
        for u, v, w in zip(e["u"], e["v"], e["way"], strict=True)
    }


def test_drivable_filter_and_oneway_rules(fixture_graph: RoutingGraph) -> None:
    g = fixture_graph
    assert sorted(set(g.way_id.tolist())) == [10, 11, 12, 13, 14, 15, 16]
    assert _edge_set(g) == {
        (1, 3, 10), (3, 1, 10), (3, 4, 10), (4, 3, 10),  # two-way, n2 simplified away
        (3, 5, 11),  # oneway=yes
        (5, 6, 12),  # oneway=-1 on [6, 5]
        (4, 8, 13), (8, 4, 13),  # reversible: two-way, n7 simplified away
        (9, 11, 14), (11, 9, 14),  # roundabout: forward only, around the ring
        (1, 9, 15), (9, 1, 15),
        (11, 6, 16), (6, 11, 16),
    }  # fmt: skip
    assert sorted(g.node_osmid.tolist()) == [1, 3, 4, 5, 6, 8, 9, 11]
    labels = dict(zip(g.way_id.tolist(), g.way_oneway.tolist(), strict=True))
    assert labels[12] == "-1"
    assert labels[13] == "reversible"
    assert labels[14] == "implied"
    assert g.meta["rejected_ways"] == {
        "access": 1, "area": 1, "highway": 4, "motor_vehicle": 1
    }  # fmt: skip


def test_drive_service_keeps_service_roads(tmp_path: Path) -> None:
    g = graph_from_osm(write_fixture(tmp_path), network_type="drive_service", builtup=False)
    assert 26 in set(g.way_id.tolist())
    assert 23 not in set(g.way_id.tolist())  # parking aisle


def test_simplification_keeps_geometry_lengths_and_speeds(fixture_graph: RoutingGraph) -> None:
    gdf = fixture_graph.edges_gdf()
    e13 = gdf[(gdf.u == 1) & (gdf.v == 3)].iloc[0]
    assert len(e13.geometry.coords) == 3  # n1, n2, n3
    # 0.002 degree of longitude at 44.5 N
    assert e13.length_m == pytest.approx(2 * 0.001 * 111_195 * np.cos(np.radians(44.5)), rel=1e-3)
    assert e13.speed_kmh == pytest.approx(90)
    assert e13.speed_source == "tagged"
    back = gdf[(gdf.u == 3) & (gdf.v == 1)].iloc[0]
    assert list(back.geometry.coords) == list(reversed(e13.geometry.coords))
    ring = gdf[gdf.osm_way_id == 14]
    assert set(ring.speed_source) == {"roundabout"}
    assert np.allclose(ring.speed_kmh, 30)
    res = gdf[gdf.osm_way_id == 11].iloc[0]
    assert (res.speed_kmh, res.speed_source) == (pytest.approx(50), "default_class")


def test_with_nodes_splits_exactly(fixture_graph: RoutingGraph) -> None:
    g2 = fixture_graph.with_nodes([2, 7])
    assert g2.n_nodes == fixture_graph.n_nodes + 2
    t = fixture_graph.edges_gdf().set_index(["u", "v"])["time_s"]
    t2 = g2.edges_gdf().set_index(["u", "v"])["time_s"]
    assert t2[(1, 2)] + t2[(2, 3)] == pytest.approx(t[(1, 3)], rel=1e-12)
    assert t2[(8, 7)] + t2[(7, 4)] == pytest.approx(t[(8, 4)], rel=1e-12)
    assert fixture_graph.with_nodes([3]) is fixture_graph


@pytest.mark.parametrize("suffix", [".osm.gz", ".osm.bz2", ".osm.pbf"])
def test_every_format_gives_the_same_graph(
    suffix: str, tmp_path: Path, fixture_graph: RoutingGraph
) -> None:
    g = graph_from_osm(write_fixture(tmp_path, suffix), builtup=False)
    assert _edge_set(g) == _edge_set(fixture_graph)
    assert np.allclose(np.sort(g.edges["time_s"]), np.sort(fixture_graph.edges["time_s"]))


def test_bad_osm_files_give_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(OSMReadError, match=r"empty\.osm\.pbf is empty"):
        graph_from_osm(empty)
    corrupt = tmp_path / "corrupt.osm.pbf"
    corrupt.write_bytes(b"\x00\x00\x00\x0dnot a pbf file at all" * 10)
    with pytest.raises(OSMReadError, match=r"corrupt\.osm\.pbf could not be read"):
        graph_from_osm(corrupt)
    no_roads = tmp_path / "footpaths.osm"
    no_roads.write_text(osm_xml([(1, [1, 2], {"highway": "footway"})]))
    with pytest.raises(OSMReadError, match="no drivable road"):
        graph_from_osm(no_roads)
    with pytest.raises(OSMReadError, match="does not exist"):
        graph_from_osm(tmp_path / "missing.osm.pbf")
    odd = tmp_path / "roads.txt"
    odd.write_text("x")
    with pytest.raises(OSMReadError, match="unknown format"):
        graph_from_osm(odd)


def _osmnx_filter_passes(flt: str, tags: dict[str, str]) -> bool:
    """Evaluate an osmnx Overpass way filter string on tags, independently of msapgeo."""
    for key, neg, rx in re.findall(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]', flt):
        value = tags.get(key)
        if not neg:
            if value is None:
                return False
        elif value is not None and re.search(rx, value):
            return False
    return True


@pytest.mark.parametrize("network_type", ["drive", "drive_service"])
def test_filter_is_osmnx_filter_on_every_andorra_highway(
    andorra_pbf: Path, network_type: str
) -> None:
    from osmnx import _overpass

    flt = _overpass._get_network_filter(network_type)
    n = 0
    for w in osmium.FileProcessor(str(andorra_pbf), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        tags = {k: str(w.tags[k]) for k in KEEP_TAGS if k in w.tags}
        ours, _ = is_drivable(tags, network_type)
        theirs = _osmnx_filter_passes(flt, tags)
        if tags["highway"] in EXTRA_EXCLUDED_HIGHWAY:
            assert not ours
        else:
            assert ours == theirs, tags
        n += 1
    assert n == 7763  # highway ways in the extract (PROVENANCE.md)


def test_andorra_graph(andorra_graph: RoutingGraph) -> None:
    g = andorra_graph
    assert g.n_ways > 2000
    assert g.lscc.mean() > 0.95
    src = set(g.edges_gdf()["speed_source"])
    assert {"tagged", "default_urban", "default_rural", "default_class", "roundabout"} <= src
    assert 0.2 < g.meta["builtup_segments_share"] < 0.8
    # the Envalira tunnel (CG-2a) is drivable both ways
    tunnel = g.edges_gdf().query('name == "Túnel d\'Envalira"')
    assert len(tunnel) >= 2
    assert set(tunnel["ref"]) == {"CG-2a"}


def test_save_load_round_trip_is_exact_and_fast(andorra_pbf: Path, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    g = graph_from_osm(andorra_pbf)
    build_s = time.perf_counter() - t0
    path = g.save(tmp_path / "andorra")
    assert path.suffix == ".npz"
    t0 = time.perf_counter()
    h = RoutingGraph.load(path)
    load_s = time.perf_counter() - t0
    assert h.equals(g)
    assert np.array_equal(h.csr.toarray(), g.csr.toarray())
    assert load_s * 5 < build_s, (load_s, build_s)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(2))
    with pytest.raises(InputError, match="not a msapgeo graph"):
        RoutingGraph.load(bad)


def test_read_ways_reports_missing_nodes(tmp_path: Path) -> None:
    p = tmp_path / "clipped.osm"
    p.write_text(osm_xml([(1, [1, 2, 99, 3, 4], {"highway": "primary"})]))
    raw = read_ways(p)
    assert raw.missing_nodes == 1
    assert raw.way_id == [1, 1]  # split around the missing node


def test_graph_from_overpass_json_matches_the_file_reader(fixture_graph: RoutingGraph) -> None:
    """The online path (osmnx's Overpass client returns such JSON) builds the same graph."""
    from msapgeo.network import graph_from_overpass_json
    from tests.osm_fixture import NODES, WAYS

    response = {
        "elements": [
            {"type": "node", "id": i, "lon": lon, "lat": lat} for i, (lon, lat) in NODES.items()
        ]
        + [{"type": "way", "id": w, "nodes": refs, "tags": tags} for w, refs, tags in WAYS]
    }
    g = graph_from_overpass_json([response])
    assert _edge_set(g) == _edge_set(fixture_graph)
    assert np.allclose(np.sort(g.edges["time_s"]), np.sort(fixture_graph.edges["time_s"]))
    with pytest.raises(OSMReadError, match="no drivable road"):
        graph_from_overpass_json([{"elements": []}])


def _same_raw(a: object, b: object) -> None:
    for k in ("way_id", "tags", "names", "rejected", "missing_nodes", "controls", "restrictions"):
        assert getattr(a, k) == getattr(b, k), k
    for k in ("ptr", "osmid", "lon", "lat"):
        assert list(getattr(a, k)) == list(getattr(b, k)), k


def test_lean_read_equals_the_one_pass_read_on_an_unsorted_clipped_file(tmp_path: Path) -> None:
    """The lean read (road nodes' locations only) gives the same ways, vertices, controls
    and missing-node splits as the one-pass read, on a file whose nodes are not sorted
    by id, with a node missing and nodes that no road uses (a building)."""
    p = tmp_path / "unsorted.osm.pbf"
    with osmium.SimpleWriter(str(p)) as w:
        for nid in (9, 4, 1, 7, 3, 2, 50, 51, 52, 8):  # not sorted; 50-52: a building
            tags = {"highway": "traffic_signals"} if nid == 3 else {}
            if nid == 8:
                tags = {"highway": "stop"}  # on no drivable road: not a control
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(6 + nid / 1000, 44.5), tags=tags))
        ways = [
            (1, [1, 2, 3, 4], {"highway": "primary", "name": "Route A"}),
            (2, [3, 4, 99, 7, 9], {"highway": "tertiary"}),  # node 99 missing: split
            (3, [50, 51, 52, 50], {"building": "yes"}),
            (4, [7, 8], {"highway": "footway"}),
            (5, [2, 7], {"highway": "residential", "name": "Rue B"}),
        ]
        for wid, refs, tags in ways:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    one = read_ways(p, two_pass=False)
    lean = read_ways(p, two_pass=True)
    _same_raw(one, lean)
    assert lean.way_id == [1, 2, 2, 5]
    assert lean.missing_nodes == 1
    assert lean.controls == {"traffic_signals": [3]}
    assert list(lean.lon)[:4] == [6.001, 6.002, 6.003, 6.004]


def test_lean_build_equals_the_one_pass_build_on_chamonix(mirror: Path) -> None:
    """A real extract built through the lean read (as a France-size file would be) has
    bitwise the same segment times, built-up areas included."""
    from msapgeo import datasets, settings
    from msapgeo.network import graph_from_osm

    p = datasets.fetch("osm_chamonix_2022")
    one = graph_from_osm(p)
    with settings.override(lean_read_min_mb=1e-6):
        lean = graph_from_osm(p)
    assert not one.meta["lean_read"]
    assert lean.meta["lean_read"]
    for k in ("vx_osmid", "vx_lon", "vx_lat", "seg_time_fwd_s", "seg_time_bwd_s", "way_id"):
        assert np.array_equal(getattr(one, k), getattr(lean, k)), k
    assert lean.meta["builtup_segments_share"] == one.meta["builtup_segments_share"] > 0.1


def test_way_texts_are_variable_width_and_round_trip_exactly(tmp_path: Path) -> None:
    """Way names and tags are held at their own length (not 4 bytes × the longest one for
    every way) and come back from save/load unchanged, accents, quotes and an empty
    name included."""
    long_name = "Route départementale « du col » " + "x" * 400
    p = tmp_path / "names.osm.pbf"
    with osmium.SimpleWriter(str(p)) as w:
        for nid in (1, 2, 3, 4, 7):
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(6 + nid / 1000, 44.5)))
        for wid, refs, tags in [
            (1, [1, 2, 3], {"highway": "primary", "name": long_name}),
            (2, [3, 4], {"highway": "residential", "name": 'Rue de l\'Église "B"'}),
            (3, [4, 7], {"highway": "residential"}),
        ]:
            w.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    g = graph_from_osm(p, builtup=False)
    assert list(g.way_name) == [long_name, 'Rue de l\'Église "B"', ""]
    fixed = np.asarray(g.way_tags.tolist(), dtype=str)
    assert g.way_tags.nbytes < fixed.nbytes / 10
    h = RoutingGraph.load(g.save(tmp_path / "g.npz"))
    assert h.equals(g)
    assert list(h.way_name) == list(g.way_name)
    assert (h.way_highway == "residential").sum() == 2
