"""OSM extracts: clip an extract to a polygon, assemble several into one.

A département extract is clipped to the département's boundary, but its inhabitants'
fastest trips, and the neighbours' sites, cross the border. :func:`assemble_extracts`
merges the département's extract and its neighbours' (by OSM id: an object in two files
is written once) and keeps what lies within a buffer around the département, so that the
graph built from the result routes cross-border trips as the whole network would.

Both functions keep *complete ways*, as osmium's ``complete_ways`` strategy does: a way
with at least one node inside the polygon is kept whole, with all its nodes; nodes inside
the polygon are kept (places, town halls, traffic signals); turn-restriction relations are
kept when their ways are.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import osmium
import shapely

from msapgeo.errors import OSMReadError
from msapgeo.fileio import atomic_path


def _keep_sets(
    paths: list[Path], polygon: shapely.Geometry | None
) -> tuple[set[int], set[int], set[int]]:
    """Node, way and relation ids to keep (complete ways inside the polygon)."""
    if polygon is not None:
        shapely.prepare(polygon)
    nodes: set[int] = set()
    ways: set[int] = set()
    rels: set[int] = set()
    for p in paths:
        fp = osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for obj in fp:
            if isinstance(obj, osmium.osm.Node):
                loc = obj.location
                if loc.valid() and (
                    polygon is None or shapely.contains_xy(polygon, loc.lon, loc.lat)
                ):
                    nodes.add(obj.id)
            elif isinstance(obj, osmium.osm.Way):
                refs = [n.ref for n in obj.nodes]
                if polygon is None:
                    inside = True
                else:
                    xy = np.array(
                        [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
                    )
                    inside = bool(len(xy)) and bool(
                        shapely.contains_xy(polygon, xy[:, 0], xy[:, 1]).any()
                    )
                if inside:
                    ways.add(obj.id)
                    nodes.update(refs)
    for p in paths:
        for r in osmium.FileProcessor(str(p), osmium.osm.RELATION):
            if not isinstance(r, osmium.osm.Relation):
                continue
            member_ways = [m.ref for m in r.members if m.type == "w"]
            if member_ways and all(w in ways for w in member_ways):
                rels.add(r.id)
    return nodes, ways, rels


class _Copy:
    """Handler writing every object it receives."""

    def __init__(self, writer: osmium.SimpleWriter) -> None:
        self.writer = writer

    def node(self, n: osmium.osm.Node) -> None:
        self.writer.add_node(n)

    def way(self, w: osmium.osm.Way) -> None:
        self.writer.add_way(w)

    def relation(self, r: osmium.osm.Relation) -> None:
        self.writer.add_relation(r)


def assemble_extracts(
    paths: Iterable[str | Path], out: str | Path, *, polygon: shapely.Geometry | None = None
) -> Path:
    """Merge OSM extracts by id and keep what lies in a polygon (complete ways).

    Parameters
    ----------
    paths
        OSM files (``.osm.pbf``, ``.osm``…): a département's extract and its neighbours'.
    out
        Target file (``.osm.pbf``), written atomically.
    polygon
        Area to keep (WGS84), typically the département buffered by
        :data:`msapgeo.settings.assembly_buffer_km`; ``None`` keeps everything.

    Returns
    -------
    pathlib.Path
        ``out``. Objects are written by type (nodes, ways, relations), each once.

    Raises
    ------
    OSMReadError
        A file is missing or unreadable.
    """
    files = [Path(p) for p in paths]
    for p in files:
        if not p.is_file():
            raise OSMReadError(f"OSM file {p} does not exist")
    out = Path(out)
    try:
        nodes, ways, rels = _keep_sets(files, polygon)
        with atomic_path(out, suffix=".osm.pbf") as tmp:
            tmp.unlink()
            parts = []
            for i, p in enumerate(files):
                # each input is sorted: its filtered copy is sorted too
                part = tmp.with_name(f"{tmp.name}.{i}.osm.pbf")
                parts.append(part)
                with osmium.SimpleWriter(str(part)) as w:
                    for obj in osmium.FileProcessor(str(p)):
                        if isinstance(obj, osmium.osm.Node):
                            keep = obj.id in nodes
                        elif isinstance(obj, osmium.osm.Way):
                            keep = obj.id in ways
                        elif isinstance(obj, osmium.osm.Relation):
                            keep = obj.id in rels
                        else:
                            keep = False
                        if keep:
                            w.add(obj)
            # merge the sorted parts: sorted output, each object once
            merger = osmium.MergeInputReader()
            for part in parts:
                merger.add_file(str(part))
            with osmium.SimpleWriter(str(tmp)) as writer:
                merger.apply(_Copy(writer), simplify=True)
            for part in parts:
                part.unlink()
    except RuntimeError as exc:
        raise OSMReadError(f"OSM files {[str(p) for p in files]} could not be read: {exc}") from exc
    return out


def clip_extract(path: str | Path, out: str | Path, polygon: shapely.Geometry) -> Path:
    """Clip one extract to a polygon, as a département extract is cut (complete ways)."""
    return assemble_extracts([path], out, polygon=polygon)
