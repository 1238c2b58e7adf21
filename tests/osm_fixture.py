"""A small hand-written OSM network covering the drivable filter and one-way rules.

Layout (lon, lat); every way is 0.001° apart.

    n1 ---- n2 ---- n3 ---- n4      way 10 primary, two-way, n2 interstitial
                    |
                    n5              way 11 residential n3 -> n5 (oneway=yes)
                    |
                    n6              way 12 residential n6 -> n5 (oneway=-1: drive n5 -> n6)
    n7 ---- n8                      way 13 reversible n4 -> n7 -> n8 ... joined at n4
    ring n9 n10 n11 n9              way 14 roundabout, joined at n9 (way 15 to n1) and
                                    n11 (way 16 to n6)
    excluded: 20 private, 21 area=yes, 22 construction, 23 parking_aisle,
              24 motor_vehicle=no, 25 busway, 26 service (kept by drive_service)
"""

from __future__ import annotations

from pathlib import Path

NODES = {
    1: (6.000, 44.500),
    2: (6.001, 44.500),
    3: (6.002, 44.500),
    4: (6.003, 44.500),
    5: (6.002, 44.499),
    6: (6.002, 44.498),
    7: (6.004, 44.500),
    8: (6.005, 44.500),
    9: (5.999, 44.501),
    10: (5.998, 44.502),
    11: (5.999, 44.503),
    30: (6.010, 44.510),
    31: (6.011, 44.510),
}

WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (10, [1, 2, 3, 4], {"highway": "primary", "maxspeed": "90", "name": "Route A"}),
    (11, [3, 5], {"highway": "residential", "oneway": "yes"}),
    (12, [6, 5], {"highway": "residential", "oneway": "-1"}),
    (13, [4, 7, 8], {"highway": "tertiary", "oneway": "reversible"}),
    (14, [9, 10, 11, 9], {"highway": "primary", "junction": "roundabout"}),
    (15, [1, 9], {"highway": "primary"}),
    (16, [11, 6], {"highway": "unclassified"}),
    (20, [30, 31], {"highway": "primary", "access": "private"}),
    (21, [30, 31], {"highway": "primary", "area": "yes"}),
    (22, [30, 31], {"highway": "construction"}),
    (23, [30, 31], {"highway": "service", "service": "parking_aisle"}),
    (24, [30, 31], {"highway": "primary", "motor_vehicle": "no"}),
    (25, [30, 31], {"highway": "busway"}),
    (26, [6, 30], {"highway": "service"}),
]


def osm_xml(ways: list[tuple[int, list[int], dict[str, str]]] | None = None) -> str:
    """The fixture as OSM XML text."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="msapgeo-tests">',
    ]
    for nid, (lon, lat) in NODES.items():
        lines.append(f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in ways if ways is not None else WAYS:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_fixture(folder: Path, suffix: str = ".osm") -> Path:
    """Write the fixture in one of the supported formats (.osm, .osm.gz, .osm.bz2, .osm.pbf)."""
    import bz2
    import gzip

    import osmium

    text = osm_xml()
    path = folder / f"fixture{suffix}"
    if suffix == ".osm":
        path.write_text(text)
    elif suffix == ".osm.gz":
        path.write_bytes(gzip.compress(text.encode()))
    elif suffix == ".osm.bz2":
        path.write_bytes(bz2.compress(text.encode()))
    elif suffix == ".osm.pbf":
        src = folder / "fixture-src.osm"
        src.write_text(text)
        with osmium.SimpleWriter(str(path)) as w:
            for obj in osmium.FileProcessor(str(src)):
                w.add(obj)
    else:  # pragma: no cover
        raise ValueError(suffix)
    return path
