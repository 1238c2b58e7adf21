"""Hostile names and a small OSM extract (written with pyosmium) that carries them.

The extract is a 6 × 6 grid of roads near Andorra la Vella (inside the SRTM tile the demo
uses), with populated ``place=*`` nodes, town halls and post offices whose ``name`` tags
are the hostile names.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

#: Names that try template injection, script injection, markup, formulas and odd text.
HOSTILE: tuple[str, ...] = (
    "X{{ 7*7 }}Y",
    "{% for x in range(3) %}Z{% endfor %}",
    "{{ cycler.__init__.__globals__.os.getpid() }}",
    "${document.title='pwned-literal'}",
    "</script><script>document.title='pwned-script'</script>",
    '"><img src=x onerror="document.title=\'pwned-img\'">',
    "`${document.title='pwned-backtick'}` back`tick",
    'O\'Brien "quoted" & <b>bold</b>',
    "line1\nline2\rline3",
    "zero\u200bwidth \u202eright-to-left\u202c",
    '=HYPERLINK("http://example.invalid","clic")',
    "+33 4 92 00 00 00",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTab first",
)

#: The names tagged ``Hnn `` so a test can find each one with the map's search.
TAGGED: tuple[str, ...] = tuple(f"H{i:02d} {n}" for i, n in enumerate(HOSTILE))
FORMULA_NAMES: tuple[str, ...] = tuple(n for n in HOSTILE if n[:1] in "=+-@\t\r")

LON0, LAT0, STEP = 1.520, 42.500, 0.002
GRID = 6


def _node_id(i: int, j: int) -> int:
    return 1 + i * GRID + j


def osm_xml() -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
    for i in range(GRID):
        for j in range(GRID):
            lon, lat = LON0 + j * STEP, LAT0 + i * STEP
            lines.append(f'<node id="{_node_id(i, j)}" version="1" lat="{lat}" lon="{lon}"/>')
    nid = 1000
    for k, name in enumerate(TAGGED):
        lon = LON0 + (k % 5) * 0.0021 + 0.0003
        lat = LAT0 + (k // 5) * 0.0021 + 0.0004
        kind = ("place", "village") if k % 3 else ("place", "hamlet")
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}">')
        lines.append(f'<tag k="{kind[0]}" v="{kind[1]}"/><tag k="name" v={quoteattr(name)}/>')
        lines.append("</node>")
        nid += 1
        amenity = "townhall" if k % 2 else "post_office"
        lines.append(f'<node id="{nid}" version="1" lat="{lat + 0.0002}" lon="{lon + 0.0002}">')
        lines.append(f'<tag k="amenity" v="{amenity}"/><tag k="name" v={quoteattr(name)}/>')
        lines.append("</node>")
        nid += 1
    wid = 1
    for i in range(GRID):
        refs = [_node_id(i, j) for j in range(GRID)]
        lines.append(f'<way id="{wid}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        name = TAGGED[wid % len(TAGGED)]
        lines.append(f'<tag k="highway" v="tertiary"/><tag k="name" v={quoteattr(name)}/></way>')
        wid += 1
    for j in range(GRID):
        refs = [_node_id(i, j) for i in range(GRID)]
        lines.append(f'<way id="{wid}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        lines.append('<tag k="highway" v="residential"/></way>')
        wid += 1
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_hostile_pbf(folder: Path) -> Path:
    """Write the extract as ``hostile.osm.pbf`` with pyosmium."""
    import osmium

    src = folder / "hostile-src.osm"
    src.write_text(osm_xml(), encoding="utf-8")
    path = folder / "hostile.osm.pbf"
    with osmium.SimpleWriter(str(path)) as w:
        for obj in osmium.FileProcessor(str(src)):
            w.add(obj)
    return path


def points_table() -> list[dict[str, object]]:
    """Origins with hostile names, on the grid."""
    rows = []
    for k, name in enumerate(TAGGED):
        rows.append(
            {
                "id": f"o{k}",
                "name": name,
                "lon": LON0 + (k % 5) * 0.0021 + 0.0003,
                "lat": LAT0 + (k // 5) * 0.0021 + 0.0004,
            }
        )
    return rows
