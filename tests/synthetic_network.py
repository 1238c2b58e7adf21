"""A SYNTHETIC road network over real Hautes-Alpes places, for tests only.

Nodes are the real town halls of the Hautes-Alpes communes and the real France services
sites of 05 and its neighbours; ways are the edges of their Delaunay triangulation,
tagged ``highway=primary`` and ``maxspeed=60``. These are NOT real roads: any time
computed on this network is a test value, never a Hautes-Alpes result. The file name says
so, and so does every output built on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import Transformer
from scipy.spatial import Delaunay

NAME = "SYNTHETIC-not-real-roads-hautes-alpes.osm"


def write_synthetic_osm(folder: Path, dep: str = "05") -> Path:
    """Write the synthetic network (of Hautes-Alpes, or of ``dep``) as OSM XML."""
    from msapgeo import datasets
    from msapgeo.pipeline import departement_inputs

    origins, sites = departement_inputs(dep)
    pts = np.vstack(
        [
            np.column_stack([origins.geometry.x, origins.geometry.y]),
            np.column_stack([sites["lon"], sites["lat"]]),
        ]
    )
    pts = np.unique(np.round(pts, 6), axis=0)
    tr = Transformer.from_crs(4326, 2154, always_xy=True)
    x, y = tr.transform(pts[:, 0], pts[:, 1])
    tri = Delaunay(np.column_stack([x, y]))
    edges = set()
    for a, b, c in tri.simplices:
        for u, v in ((a, b), (b, c), (a, c)):
            edges.add((min(u, v), max(u, v)))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="msapgeo tests: SYNTHETIC">',
    ]
    for i, (lon, lat) in enumerate(pts):
        lines.append(f'  <node id="{i + 1}" version="1" lat="{lat:.6f}" lon="{lon:.6f}"/>')
    for k, (u, v) in enumerate(sorted(edges)):
        lines.append(
            f'  <way id="{k + 1}" version="1"><nd ref="{u + 1}"/><nd ref="{v + 1}"/>'
            '<tag k="highway" v="primary"/><tag k="maxspeed" v="60"/>'
            '<tag k="note" v="SYNTHETIC test edge, not a road"/></way>'
        )
    lines.append("</osm>")
    path = folder / (NAME if dep == "05" else NAME.replace("hautes-alpes", f"departement-{dep}"))
    path.write_text("\n".join(lines) + "\n")
    assert datasets.normalise_dep("05") == "05"
    return path
