"""The compact routing graph: OSM ways as vertex arrays, derived nodes, edges and CSR.

State is real here, so this module holds a class: :class:`RoutingGraph` keeps

* per **vertex** (every OSM node of every drivable way, in way order): OSM id,
  longitude, latitude, whether it is a graph node (``vx_junction``);
* per **segment** (vertex *i* → *i+1* of the same way, stored at *i*): length (m),
  travel times forward and backward (s) and their speed sources;
* per **way**: OSM id, tags that matter (highway, name, ref, oneway…), and whether it
  may be driven forward and backward.

Graph nodes are the junction vertices (way ends, OSM nodes shared by two or more
ways, and any vertex promoted with :meth:`RoutingGraph.with_nodes`); edges are the
pieces of ways between two consecutive junctions, so every edge belongs to exactly
one way and keeps its full geometry. Degree-2 interstitial vertices are thus removed
from the topology but kept in the geometry. Nodes, edges and the CSR matrices
(``scipy.sparse``, travel time in seconds) are derived and cached.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from msapgeo import settings
from msapgeo.arrays import unique_sorted
from msapgeo.errors import InputError
from msapgeo.fileio import atomic_path
from msapgeo.speeds import DEFAULT_SOURCE_CODES, SPEED_SOURCES
from msapgeo.vertexindex import VertexIndex, to_metric

FORMAT_VERSION = 2
#: Prefix of the derived arrays a prepared save stores (:meth:`RoutingGraph.save`).
_DERIVED = "derived__"
#: Smallest edge weight (s): csgraph ignores explicit zeros in some paths.
MIN_WEIGHT_S = 1e-3

_VERTEX_ARRAYS = ("vx_osmid", "vx_lon", "vx_lat", "vx_junction")
_SEGMENT_ARRAYS = ("seg_len_m", "seg_time_fwd_s", "seg_time_bwd_s", "seg_src_fwd", "seg_src_bwd")
_WAY_ARRAYS = (
    "way_id",
    "way_ptr",
    "way_fwd",
    "way_bwd",
    "way_highway",
    "way_name",
    "way_ref",
    "way_oneway",
    "way_maxspeed",
    "way_tags",
)

#: Arrays whose replacement leaves the topology as it is (vertices, pieces, drivable
#: directions): :meth:`RoutingGraph.replace` then shares :data:`_TOPOLOGY_CACHES`.
_TOPOLOGY_NEUTRAL = frozenset(
    {
        "seg_time_fwd_s",
        "seg_time_bwd_s",
        "seg_src_fwd",
        "seg_src_bwd",
        "way_highway",
        "way_name",
        "way_ref",
        "way_maxspeed",
        "way_tags",
        "meta",
    }
)
#: Cached attributes computed from the topology only (components ignore the weights).
_TOPOLOGY_CACHES = (
    "vx_way",
    "node_osmid",
    "_node_first_vertex",
    "junction_vx",
    "scc_labels",
    "lscc",
    "vx_in_lscc",
    "_vertex_indexes",
)

#: Per-way text columns, held as variable-width strings (:class:`numpy.dtypes.StringDType`):
#: a fixed-width unicode array takes 4 bytes × the longest value for every way (about
#: 1.2 KB a way for the tags of a national extract), these take the text's own length.
_STRING_ARRAYS = ("way_highway", "way_name", "way_ref", "way_oneway", "way_maxspeed", "way_tags")
STRING_DTYPE = np.dtypes.StringDType()


def _pack_strings(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and end offsets of a string array (saved without pickle)."""
    enc = [str(x).encode("utf-8") for x in a.tolist()]
    ends = np.cumsum([len(b) for b in enc], dtype=np.int64)
    return np.frombuffer(b"".join(enc), dtype=np.uint8), ends


def _unpack_strings(buf: np.ndarray, ends: np.ndarray) -> np.ndarray:
    raw = buf.tobytes()
    starts = np.concatenate([[0], ends[:-1]]).tolist()
    return np.array(
        [raw[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist(), strict=True)],
        dtype=STRING_DTYPE,
    )


@dataclass(eq=False)
class RoutingGraph:
    """A drivable directed road graph with travel times, ready for csgraph.

    Use :func:`msapgeo.network.graph_from_osm` to build one and :meth:`load` to read one
    saved with :meth:`save`.
    """

    vx_osmid: np.ndarray
    vx_lon: np.ndarray
    vx_lat: np.ndarray
    vx_junction: np.ndarray
    seg_len_m: np.ndarray
    seg_time_fwd_s: np.ndarray
    seg_time_bwd_s: np.ndarray
    seg_src_fwd: np.ndarray
    seg_src_bwd: np.ndarray
    way_id: np.ndarray
    way_ptr: np.ndarray
    way_fwd: np.ndarray
    way_bwd: np.ndarray
    way_highway: np.ndarray
    way_name: np.ndarray
    way_ref: np.ndarray
    way_oneway: np.ndarray
    way_maxspeed: np.ndarray
    way_tags: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k in _STRING_ARRAYS:
            a = getattr(self, k)
            if a.dtype != STRING_DTYPE:
                setattr(self, k, np.asarray(a, dtype=STRING_DTYPE))

    # ------------------------------------------------------------------ sizes
    @property
    def n_ways(self) -> int:
        """Number of ways."""
        return len(self.way_id)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.node_osmid)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edges["u"])

    def __repr__(self) -> str:
        return (
            f"<RoutingGraph {self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.n_ways:,} ways, profile={self.meta.get('profile', 'legal')!r}>"
        )

    # ------------------------------------------------------------------ derived
    @cached_property
    def vx_way(self) -> np.ndarray:
        """Way index of every vertex."""
        counts = np.diff(self.way_ptr)
        return np.repeat(np.arange(self.n_ways, dtype=np.int64), counts)

    @cached_property
    def node_osmid(self) -> np.ndarray:
        """Sorted OSM ids of the graph nodes."""
        return unique_sorted(self.vx_osmid[self.vx_junction])

    @cached_property
    def _node_first_vertex(self) -> np.ndarray:
        jv = np.flatnonzero(self.vx_junction)
        ids = self.vx_osmid[jv]
        order = np.argsort(ids, kind="stable")
        first = np.unique(ids[order], return_index=True)[1]
        return jv[order[first]]

    @property
    def node_lon(self) -> np.ndarray:
        """Longitude of each node (degrees)."""
        return np.asarray(self.vx_lon[self._node_first_vertex])

    @property
    def node_lat(self) -> np.ndarray:
        """Latitude of each node (degrees)."""
        return np.asarray(self.vx_lat[self._node_first_vertex])

    def node_index(self, osmids: np.ndarray | list[int]) -> np.ndarray:
        """Graph node index of OSM node ids (``-1`` where the id is not a node)."""
        ids = np.asarray(osmids, dtype=np.int64)
        pos = np.searchsorted(self.node_osmid, ids)
        pos = np.clip(pos, 0, max(self.n_nodes - 1, 0))
        ok = (self.n_nodes > 0) & (self.node_osmid[pos] == ids)
        return np.where(ok, pos, -1)

    @cached_property
    def edges(self) -> dict[str, np.ndarray]:
        """Directed edge arrays.

        Keys: ``u``, ``v`` (node indices), ``way`` (way index), ``first_vx``,
        ``last_vx`` (vertex range, inclusive), ``reversed`` (travels against the way's
        node order), ``length_m``, ``time_s``, ``speed_kmh`` (length / time), ``source``
        (speed-source code covering most of the edge's length), ``default_m`` (length
        whose speed is a default of the road's class, not a tag:
        :data:`DEFAULT_SOURCE_CODES`).
        """
        jv = np.flatnonzero(self.vx_junction)
        way_of = self.vx_way[jv]
        same = way_of[:-1] == way_of[1:]
        a, b = jv[:-1][same], jv[1:][same]
        piece_way = way_of[:-1][same]
        # sums over each edge's own segments, in order: the same way gives bitwise the
        # same edge whatever else the extract holds (no differences of global cumsums)
        # the pieces cover every segment but the (empty) one at each way's last vertex, in
        # order: each vertex's piece is a running count of piece starts, the last vertex
        # of a way goes to a spare bucket, and the sums run over the arrays as they are
        n_p = len(a)
        last = self.way_ptr[1:] - 1
        piece = np.zeros(len(self.vx_osmid), np.int64)
        piece[a] = 1
        np.cumsum(piece, out=piece)
        piece -= 1
        piece[last] = n_p
        seg_len = self.seg_len_m
        length, t_fwd, t_bwd, def_fwd, def_bwd = (
            np.bincount(piece, weights=v, minlength=n_p + 1)[:n_p]
            for v in (
                seg_len,
                self.seg_time_fwd_s,
                self.seg_time_bwd_s,
                seg_len * _at_default_speed(self.seg_src_fwd),
                seg_len * _at_default_speed(self.seg_src_bwd),
            )
        )
        src_fwd = _majority_source(self.seg_src_fwd, seg_len, a, b)
        src_bwd = _majority_source(self.seg_src_bwd, seg_len, a, b)
        del piece
        nu = self.node_index(self.vx_osmid[a])
        nv = self.node_index(self.vx_osmid[b])
        fwd = self.way_fwd[piece_way]
        bwd = self.way_bwd[piece_way]
        parts = {
            "u": (nu[fwd], nv[bwd]),
            "v": (nv[fwd], nu[bwd]),
            "way": (piece_way[fwd], piece_way[bwd]),
            "first_vx": (a[fwd], a[bwd]),
            "last_vx": (b[fwd], b[bwd]),
            "reversed": (np.zeros(fwd.sum(), bool), np.ones(bwd.sum(), bool)),
            "length_m": (length[fwd], length[bwd]),
            "time_s": (t_fwd[fwd], t_bwd[bwd]),
            "source": (src_fwd[fwd], src_bwd[bwd]),
            "default_m": (def_fwd[fwd], def_bwd[bwd]),
        }
        out = {k: np.concatenate(v) for k, v in parts.items()}
        with np.errstate(divide="ignore", invalid="ignore"):
            out["speed_kmh"] = np.where(
                out["time_s"] > 0, out["length_m"] / out["time_s"] * 3.6, np.nan
            )
        return out

    def _csr(self, reverse: bool) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        e = self.edges
        u, v = e["u"], e["v"]
        w, length = np.maximum(e["time_s"], MIN_WEIGHT_S), e["length_m"]
        default = e["default_m"]
        keep = u != v
        u, v, w, length, default = u[keep], v[keep], w[keep], length[keep], default[keep]
        if reverse:
            u, v = v, u
        # a CSR sums duplicate entries: keep the fastest of parallel edges only,
        # and build the canonical arrays directly (sorted rows and columns): one sort of
        # the (row, column) keys, then the few groups of parallel edges by time (the
        # same entries as sorting everything by row, column and time)
        n = self.n_nodes
        key = u.astype(np.int64) * np.int64(n) + v
        order = np.argsort(key, kind="stable")
        key = key[order]
        dup = key[1:] == key[:-1]
        if dup.any():
            group = np.concatenate([[0], np.cumsum(~dup)])
            order = order[np.lexsort((w[order], group))]
            first = np.ones(len(order), bool)
            first[1:] = ~dup
            order = order[first]
        u, v, w, length, default = u[order], v[order], w[order], length[order], default[order]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))])
        m = sparse.csr_matrix((w, v.astype(np.int32), indptr), shape=(n, n))
        m.has_sorted_indices = True
        return m, length, default

    @cached_property
    def _csr_fwd(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        return self._csr(reverse=False)

    @cached_property
    def _csr_rev(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        return self._csr(reverse=True)

    @property
    def csr(self) -> sparse.csr_matrix:
        """Forward graph: ``csr[u, v]`` = fastest travel time u → v (s)."""
        return self._csr_fwd[0]

    @property
    def csr_reverse(self) -> sparse.csr_matrix:
        """Reversed graph (``csr_reverse[v, u]`` = time u → v), to route *towards* sites."""
        return self._csr_rev[0]

    @property
    def csr_reverse_length(self) -> np.ndarray:
        """Length (m) of each entry of :attr:`csr_reverse`, aligned with its ``data``."""
        return self._csr_rev[1]

    @property
    def csr_reverse_default(self) -> np.ndarray:
        """Length (m) at default speeds of each entry of :attr:`csr_reverse`."""
        return self._csr_rev[2]

    @cached_property
    def scc_labels(self) -> np.ndarray:
        """Strongly connected component label of every node."""
        if self.n_nodes == 0:
            return np.zeros(0, np.int64)
        # the reversed graph has the same components; routing needs it built anyway
        rev = self.csr_reverse
        labels = csgraph.connected_components(rev, directed=True, connection="strong")[1]
        return np.asarray(labels)

    @cached_property
    def lscc(self) -> np.ndarray:
        """Boolean mask of the nodes of the largest strongly connected component."""
        if self.n_nodes == 0:
            return np.zeros(0, bool)
        labels = self.scc_labels
        return np.asarray(labels == np.bincount(labels).argmax())

    def _vx_in(self, node_ok: np.ndarray) -> np.ndarray:
        """Vertices on a drivable piece whose two ends are both in ``node_ok`` and in one SCC."""
        jv = self.junction_vx
        nodes = self.node_index(self.vx_osmid[jv])
        ok_j = node_ok[nodes]
        lab = self.scc_labels[nodes]
        way_j = np.searchsorted(self.way_ptr, jv, side="right") - 1
        drivable = (self.way_fwd | self.way_bwd)[way_j[:-1]]
        # piece p runs from junction vertex jv[p] to jv[p + 1] (the same way): decided
        # once per piece, then spread over its vertices
        piece_ok = (
            ok_j[:-1] & ok_j[1:] & (way_j[:-1] == way_j[1:]) & drivable & (lab[:-1] == lab[1:])
        )
        run = np.diff(np.append(jv, len(self.vx_osmid)))
        out = np.repeat(np.append(piece_ok, False), run)
        out[jv] = ok_j
        return np.asarray(out)

    @cached_property
    def vx_in_lscc(self) -> np.ndarray:
        """Vertices lying on a piece of way whose both ends are in the largest SCC."""
        return self._vx_in(self.lscc)

    def vx_in_scc(self, min_nodes: int) -> np.ndarray:
        """Vertices lying on a piece of way inside any SCC of ``min_nodes`` nodes or more."""
        sizes = np.bincount(self.scc_labels) if self.n_nodes else np.zeros(0, np.int64)
        return self._vx_in(sizes[self.scc_labels] >= min_nodes)

    @cached_property
    def junction_vx(self) -> np.ndarray:
        """Indices of the vertices that are graph nodes, in vertex order."""
        return np.flatnonzero(self.vx_junction)

    @cached_property
    def _vertex_indexes(self) -> dict[str, tuple[np.ndarray, VertexIndex | None]]:
        return {}

    def vertex_index(self, components: str = "largest") -> tuple[np.ndarray, VertexIndex | None]:
        """The vertices a point may snap to and their spatial index, built once per graph.

        Parameters
        ----------
        components
            ``"largest"``: the vertices on the largest strongly connected component;
            ``"all"``: on any component of :data:`msapgeo.settings.min_component_nodes`
            nodes or more.

        Returns
        -------
        tuple
            Vertex indices (into the ``vx_*`` arrays) and their
            :class:`~msapgeo.vertexindex.VertexIndex` in
            :data:`msapgeo.settings.metric_crs` (``None`` when there is no such vertex).

        Notes
        -----
        The index depends on the vertices and the drivable directions only: a graph
        whose speeds are replaced (:meth:`replace`, a speed profile) keeps it, and a graph
        saved ``prepared`` stores it. On a graph met for the first time the vertices are
        projected in a second thread while this one finds the components (edges, CSR,
        strongly connected components): pyproj and numpy release the GIL, so on two cores
        the projection costs nothing more (22 M vertices: about 3 s each).
        """
        if components not in ("largest", "all"):
            raise InputError(f"components={components!r}: choose 'largest' or 'all'")
        key = f"{components}:{settings.metric_crs}:{settings.min_component_nodes}"
        if key not in self._vertex_indexes:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as pool:
                projected = pool.submit(to_metric, self.vx_lon, self.vx_lat)
                if components == "largest":
                    mask = np.asarray(self.vx_in_lscc)
                else:
                    mask = self.vx_in_scc(settings.min_component_nodes)
                xy = projected.result()
            vx = np.flatnonzero(mask)
            self._vertex_indexes[key] = (vx, VertexIndex(xy[vx]) if len(vx) else None)
        return self._vertex_indexes[key]

    def piece_sums(self, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        """Sums over the segments ``a[i] .. b[i] - 1`` of each piece (vertex indices of one
        way, ``a <= b``), each summed on its own from left to right as edges are.

        Returns
        -------
        dict
            ``length_m``; ``time_fwd_s`` and ``time_bwd_s`` (driving the piece along or
            against the way's order); ``default_fwd_m`` and ``default_bwd_m`` (of the
            length, the metres at a class default speed in each direction).
        """
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        seg = _ranges(a, b)
        piece = np.repeat(np.arange(len(a)), b - a)
        seg_len = self.seg_len_m[seg]
        values = {
            "length_m": seg_len,
            "time_fwd_s": self.seg_time_fwd_s[seg],
            "time_bwd_s": self.seg_time_bwd_s[seg],
            "default_fwd_m": seg_len * _at_default_speed(self.seg_src_fwd[seg]),
            "default_bwd_m": seg_len * _at_default_speed(self.seg_src_bwd[seg]),
        }
        return {k: np.bincount(piece, weights=v, minlength=len(a)) for k, v in values.items()}

    def edges_through(self, vx: np.ndarray) -> dict[str, np.ndarray]:
        """The directed edges passing through vertices that are not graph nodes, cut there.

        A point snapped in the middle of an edge is routed as a *virtual node* on that
        edge: it is reached by the trips that drive the edge's first part and leaves by
        its second part, so the graph needs no split and no rebuild per query.

        Parameters
        ----------
        vx
            Vertex indices (not junctions).

        Returns
        -------
        dict
            One row per (vertex, directed edge through it): ``point`` (position in
            ``vx``), ``edge`` (index into :attr:`edges`), ``before_s``/``after_s`` (time
            from the edge's tail to the vertex and on to its head), ``before_m``/
            ``after_m`` (lengths) and ``before_default_m``/``after_default_m`` (of which
            at a default speed).
        """
        vx = np.asarray(vx, np.int64)
        jv = self.junction_vx
        k = np.searchsorted(jv, vx) - 1
        ia, ib = jv[k], jv[k + 1]  # the way's junctions on either side (way ends are nodes)
        first = self.edges["first_vx"]
        n_fwd = int(np.count_nonzero(~self.edges["reversed"]))
        s_a, s_b = self.piece_sums(ia, vx), self.piece_sums(vx, ib)
        parts: dict[str, list[np.ndarray]] = {}
        for lo, hi, rev in ((0, n_fwd, False), (n_fwd, len(first), True)):
            # edges are made in vertex order, forward ones first: each part is sorted
            pos = lo + np.searchsorted(first[lo:hi], ia)
            has = pos < hi
            has[has] = first[pos[has]] == ia[has]
            fore, aft = (s_b, s_a) if rev else (s_a, s_b)
            t, d = ("time_bwd_s", "default_bwd_m") if rev else ("time_fwd_s", "default_fwd_m")
            cols = {
                "point": np.flatnonzero(has),
                "edge": pos[has],
                "before_s": fore[t][has],
                "after_s": aft[t][has],
                "before_m": fore["length_m"][has],
                "after_m": aft["length_m"][has],
                "before_default_m": fore[d][has],
                "after_default_m": aft[d][has],
            }
            for key, val in cols.items():
                parts.setdefault(key, []).append(val)
        return {key: np.concatenate(val) for key, val in parts.items()}

    # ------------------------------------------------------------------ operations
    def with_nodes(self, osmids: np.ndarray | list[int]) -> RoutingGraph:
        """Return a graph where the given OSM vertices are graph nodes too.

        Splitting keeps every time, length and geometry exactly: an edge through a
        promoted vertex becomes two edges whose times add up to the original.

        Parameters
        ----------
        osmids
            OSM node ids of vertices of this graph.

        Returns
        -------
        RoutingGraph
            ``self`` when they already are nodes, else a graph sharing the arrays. That
            graph is kept: a later call whose vertices it already holds as nodes gets it
            back, with its CSR and its turn-expanded graph already built, and a call that
            needs more nodes grows it (the union). Promoting a vertex changes no time, so
            every query on it gives the times of this graph.
        """
        ids = unique_sorted(np.asarray(osmids, dtype=np.int64))
        if len(ids) == 0:
            return self

        def holds(g: RoutingGraph) -> bool:
            # all wanted ids already nodes of g: a lookup among its nodes, not a pass
            # over every vertex (a repeated query on a national graph)
            nodes = g.node_osmid
            pos = np.minimum(np.searchsorted(nodes, ids), max(len(nodes) - 1, 0))
            return bool(len(nodes)) and bool((nodes[pos] == ids).all())

        if holds(self):
            return self
        kept: RoutingGraph | None = self.__dict__.get("_with_nodes")
        if kept is not None and holds(kept):
            return kept
        wanted = np.isin(self.vx_osmid, ids)  # the kept graph shares the vertex arrays
        if not (wanted & ~self.vx_junction).any():
            return self
        base: RoutingGraph = self.__dict__.get("_with_nodes", self)
        new = wanted & ~base.vx_junction
        if not new.any():
            return base
        grown = self.replace(vx_junction=base.vx_junction | new)
        self.__dict__["_with_nodes"] = grown
        return grown

    def replace(self, **arrays: Any) -> RoutingGraph:
        """Return a new graph with some arrays (or ``meta``) replaced.

        What depends on times (edges, CSR, turn graph) is not shared; what depends on the
        vertices and drivable directions only (components, the snapping index) is, when
        only speeds, their sources, way texts or ``meta`` are replaced
        (:data:`_TOPOLOGY_NEUTRAL`).
        """
        fields = {k: getattr(self, k) for k in (*_VERTEX_ARRAYS, *_SEGMENT_ARRAYS, *_WAY_ARRAYS)}
        fields["meta"] = dict(self.meta)
        fields.update(arrays)
        out = RoutingGraph(**fields)
        if arrays and set(arrays) <= _TOPOLOGY_NEUTRAL:
            for k in _TOPOLOGY_CACHES:
                if k in self.__dict__:
                    out.__dict__[k] = self.__dict__[k]
        return out

    def without_ways(self, way_mask: np.ndarray, *, reason: str = "") -> RoutingGraph:
        """Return a graph where the masked ways cannot be driven (closures).

        Parameters
        ----------
        way_mask
            Boolean array over ways; ``True`` closes the way in both directions.
        reason
            Recorded in ``meta["closures"]``.
        """
        mask = np.asarray(way_mask, bool)
        meta = dict(self.meta)
        meta.setdefault("closures", [])
        meta["closures"] = [*meta["closures"], {"reason": reason, "n_ways": int(mask.sum())}]
        return self.replace(way_fwd=self.way_fwd & ~mask, way_bwd=self.way_bwd & ~mask, meta=meta)

    # ------------------------------------------------------------------ outputs
    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Directed edges as a GeoDataFrame (EPSG:4326), one row per edge.

        Columns: ``u``, ``v`` (OSM node ids), ``osm_way_id``, ``highway``, ``name``,
        ``ref``, ``oneway``, ``maxspeed`` (raw tag), ``length_m``, ``speed_kmh``,
        ``time_s``, ``speed_source``, ``in_lscc``, ``geometry``.
        """
        e = self.edges
        first, last, rev = e["first_vx"], e["last_vx"], e["reversed"]
        counts = last - first + 1
        starts = np.where(rev, last, first)
        step = np.where(rev, -1, 1)
        offs = _ranges(np.zeros(len(counts), np.int64), counts)
        idx = np.repeat(starts, counts) + np.repeat(step, counts) * offs
        coords = np.column_stack([self.vx_lon[idx], self.vx_lat[idx]])
        geoms = shapely.linestrings(coords, indices=np.repeat(np.arange(len(counts)), counts))
        way = e["way"]
        in_l = self.lscc[e["u"]] & self.lscc[e["v"]] if self.n_nodes else np.zeros(0, bool)
        return gpd.GeoDataFrame(
            {
                "u": self.node_osmid[e["u"]],
                "v": self.node_osmid[e["v"]],
                "osm_way_id": self.way_id[way],
                "highway": self.way_highway[way],
                "name": self.way_name[way],
                "ref": self.way_ref[way],
                "oneway": self.way_oneway[way],
                "maxspeed": self.way_maxspeed[way],
                "length_m": e["length_m"],
                "speed_kmh": e["speed_kmh"],
                "time_s": e["time_s"],
                "speed_source": np.asarray(SPEED_SOURCES)[e["source"]],
                "in_lscc": in_l,
            },
            geometry=geoms,
            crs=settings.default_crs,
        )

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Graph nodes as points (EPSG:4326) with ``osmid`` and ``in_lscc``."""
        return gpd.GeoDataFrame(
            {"osmid": self.node_osmid, "in_lscc": self.lscc},
            geometry=gpd.points_from_xy(self.node_lon, self.node_lat),
            crs=settings.default_crs,
        )

    # ------------------------------------------------------------------ networkx / osmnx
    def to_networkx(self) -> Any:
        """The graph as a networkx ``MultiDiGraph`` in osmnx's layout.

        Nodes carry ``x``, ``y`` (WGS84); edges ``osmid`` (way id), ``highway``, ``name``,
        ``ref``, ``length`` (m), ``travel_time`` (s), ``speed_kph`` and a ``geometry``
        LineString; ``graph["crs"]`` is EPSG:4326, so osmnx's functions apply.
        """
        import networkx as nx

        e = self.edges
        G = nx.MultiDiGraph(crs=settings.default_crs, name=self.meta.get("source_file", ""))
        ids = self.node_osmid
        G.add_nodes_from(
            (int(i), {"x": float(x), "y": float(y)})
            for i, x, y in zip(ids, self.node_lon, self.node_lat, strict=True)
        )
        for k in range(len(e["u"])):
            a, b = int(e["first_vx"][k]), int(e["last_vx"][k])
            vx = np.arange(a, b + 1)
            if e["reversed"][k]:
                vx = vx[::-1]
            w = int(e["way"][k])
            G.add_edge(
                int(ids[e["u"][k]]),
                int(ids[e["v"][k]]),
                osmid=int(self.way_id[w]),
                highway=str(self.way_highway[w]),
                name=str(self.way_name[w]),
                ref=str(self.way_ref[w]),
                length=float(e["length_m"][k]),
                travel_time=float(e["time_s"][k]),
                speed_kph=float(e["speed_kmh"][k]),
                geometry=shapely.linestrings(self.vx_lon[vx], self.vx_lat[vx]),
            )
        return G

    @classmethod
    def from_osmnx(cls, G: Any, *, keep_travel_time: bool = True) -> RoutingGraph:
        """Build a routing graph from a planner's osmnx graph (``MultiDiGraph``).

        Parameters
        ----------
        G
            An osmnx graph (projected or not): nodes with ``x``/``y``, edges with
            ``length`` and, optionally, ``geometry``, ``highway``, ``maxspeed``,
            ``travel_time``.
        keep_travel_time
            Use the edges' ``travel_time`` when present (e.g. from
            ``ox.add_edge_travel_times``); otherwise, and when ``False``, times come from
            msapgeo's French speed model (:func:`msapgeo.speeds.way_speeds`, rural
            defaults: osmnx graphs carry no built-up areas).

        Returns
        -------
        RoutingGraph
            One two-vertex-or-more way per osmnx edge, open in the edge's direction.
        """
        import pyproj

        from msapgeo.speeds import SOURCE_CODE, way_speeds

        crs = G.graph.get("crs", settings.default_crs)
        tr = pyproj.Transformer.from_crs(crs, settings.default_crs, always_xy=True)
        node_xy = {n: tr.transform(d["x"], d["y"]) for n, d in G.nodes(data=True)}
        vx_id: list[int] = []
        lon: list[float] = []
        lat: list[float] = []
        ptr = [0]
        seg_len: list[float] = []
        seg_t: list[float] = []
        src: list[int] = []
        way_id, hw, names, refs, maxs = [], [], [], [], []
        synthetic = -1
        for k, (u, v, d) in enumerate(G.edges(data=True)):
            geom = d.get("geometry")
            pts = list(geom.coords) if geom is not None else [node_xy[u], node_xy[v]]
            if geom is not None and crs != settings.default_crs:
                pts = [tr.transform(x, y) for x, y in pts]
            ids = [int(u)]
            for _ in pts[1:-1]:
                ids.append(synthetic)
                synthetic -= 1
            ids.append(int(v))
            xs = np.array([p[0] for p in pts])
            ys = np.array([p[1] for p in pts])
            piece = haversine_m(xs[:-1], ys[:-1], xs[1:], ys[1:])
            total = float(d.get("length", piece.sum())) or float(piece.sum())
            scale = total / piece.sum() if piece.sum() > 0 else 0.0
            piece = piece * scale
            tags = {
                t: (d[t][0] if isinstance(d.get(t), list) else str(d[t]))
                for t in ("highway", "maxspeed", "ref", "name", "junction", "lanes")
                if d.get(t) is not None
            }
            if keep_travel_time and d.get("travel_time") is not None and total > 0:
                kmh = total / float(d["travel_time"]) * 3.6
                source = SOURCE_CODE["tagged"]
            else:
                ds = way_speeds(tags, "forward", True)
                kmh, source = ds.rural_kmh, SOURCE_CODE[ds.rural_source]
            vx_id += ids
            lon += list(xs)
            lat += list(ys)
            seg_len += [*piece.tolist(), 0.0]
            seg_t += [*(piece / (kmh / 3.6)).tolist(), 0.0]
            src += [source] * len(ids)
            ptr.append(len(vx_id))
            osm = d.get("osmid", k)
            way_id.append(int(osm[0] if isinstance(osm, list) else osm))
            hw.append(tags.get("highway", ""))
            names.append(tags.get("name", ""))
            refs.append(tags.get("ref", ""))
            maxs.append(tags.get("maxspeed", ""))
        n_ways = len(way_id)
        vid = np.asarray(vx_id, np.int64)
        junction = vid >= 0
        return cls(
            vx_osmid=vid,
            vx_lon=np.asarray(lon, float),
            vx_lat=np.asarray(lat, float),
            vx_junction=junction,
            seg_len_m=np.asarray(seg_len, float),
            seg_time_fwd_s=np.asarray(seg_t, float),
            seg_time_bwd_s=np.asarray(seg_t, float),
            seg_src_fwd=np.asarray(src, np.uint8),
            seg_src_bwd=np.asarray(src, np.uint8),
            way_id=np.asarray(way_id, np.int64),
            way_ptr=np.asarray(ptr, np.int64),
            way_fwd=np.ones(n_ways, bool),
            way_bwd=np.zeros(n_ways, bool),
            way_highway=np.asarray(hw, dtype=str),
            way_name=np.asarray(names, dtype=str),
            way_ref=np.asarray(refs, dtype=str),
            way_oneway=np.asarray(["yes"] * n_ways, dtype=str),
            way_maxspeed=np.asarray(maxs, dtype=str),
            way_tags=np.asarray(["{}"] * n_ways, dtype=str),
            meta={
                "profile": "legal",
                "speed_table": "legal",
                "source_file": str(G.graph.get("name", "osmnx graph")),
                "from_osmnx": {"travel_time_kept": bool(keep_travel_time)},
            },
        )

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | Path, *, prepared: bool = False) -> Path:
        """Save the graph as an uncompressed ``.npz`` (no pickle; exact round trip).

        Parameters
        ----------
        path
            Target file; ``.npz`` is appended when missing.
        prepared
            Also store what routing and snapping derive from the graph: the edges, the
            reversed CSR, the strongly connected components and the snapping index of
            the largest component (:meth:`vertex_index`), computed now if they were not.
            :meth:`load` with ``trusted=True`` reads them back instead of recomputing
            them (a national graph: ~8 s of edges, CSR, components, projection and
            trees). The file is larger: about 55 bytes more per road vertex (22 M
            vertices: 1.48 → 2.68 GB), mostly the trees' projected points.
        """
        p = Path(path)
        if p.suffix != ".npz":
            p = p.with_suffix(p.suffix + ".npz")
        p.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: getattr(self, k) for k in (*_VERTEX_ARRAYS, *_SEGMENT_ARRAYS, *_WAY_ARRAYS)}
        for k in _STRING_ARRAYS:
            arrays[f"{k}__utf8"], arrays[f"{k}__ends"] = _pack_strings(arrays.pop(k))
        meta = json.dumps({"format_version": FORMAT_VERSION, **self.meta}, sort_keys=True)
        if prepared:
            derived, derived_meta = self._derived_arrays()
            arrays.update(derived)
            arrays["__derived__"] = np.array(json.dumps(derived_meta, sort_keys=True))
        # a unique temporary name per writer, moved into place when complete: two
        # processes building the same graph never share a file, a killed one leaves none
        with atomic_path(p, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, __meta__=np.array(meta), **arrays)
        return p

    def _derived_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        out = {f"{_DERIVED}edges__{k}": v for k, v in self.edges.items()}
        m, length, default = self._csr_rev
        out.update(
            {
                f"{_DERIVED}csr_rev__indptr": m.indptr,
                f"{_DERIVED}csr_rev__indices": m.indices,
                f"{_DERIVED}csr_rev__data": m.data,
                f"{_DERIVED}csr_rev__length": length,
                f"{_DERIVED}csr_rev__default": default,
                f"{_DERIVED}scc_labels": self.scc_labels,
            }
        )
        self.vertex_index("largest")
        indexes = []
        for slot, (key, (vx, index)) in enumerate(self._vertex_indexes.items()):
            if index is None:
                continue
            arrays, imeta = index.to_arrays()
            out[f"{_DERIVED}vi{slot}__vx"] = vx
            out.update({f"{_DERIVED}vi{slot}__{k}": v for k, v in arrays.items()})
            indexes.append({"key": key, "slot": slot, **imeta})
        return out, {"edges": sorted(self.edges), "vertex_indexes": indexes}

    @classmethod
    def load(cls, path: str | Path, *, trusted: bool = False) -> RoutingGraph:
        """Load a graph written by :meth:`save`.

        Parameters
        ----------
        path
            The ``.npz`` file.
        trusted
            Read back what a ``prepared`` save stored (edges, CSR, components, snapping
            index) after checking that the arrays fit the graph; only for files msapgeo
            wrote itself (its graph cache): the snapping index is scipy's KD-tree state,
            which scipy does not check. Otherwise they are ignored and recomputed when
            needed.

        Raises
        ------
        InputError
            The file is not a msapgeo graph or has another format version.
        """
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: graph file not found")
        try:
            with np.load(p, allow_pickle=False) as z:
                names = [
                    k for k in z.files if trusted or not k.startswith(("__derived__", _DERIVED))
                ]
                data = {k: z[k] for k in names}
            meta = json.loads(str(data.pop("__meta__")))
            derived_meta = (
                json.loads(str(data.pop("__derived__"))) if "__derived__" in data else None
            )
        except KeyError as exc:
            raise InputError(f"{p}: not a msapgeo graph file (no __meta__ entry)") from exc
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise InputError(f"{p}: not a msapgeo graph file or truncated ({exc})") from exc
        version = meta.pop("format_version", None)
        if version != FORMAT_VERSION:
            raise InputError(f"{p}: graph format {version}, this msapgeo reads {FORMAT_VERSION}")
        for k in _STRING_ARRAYS:
            if f"{k}__utf8" in data and f"{k}__ends" in data:
                data[k] = _unpack_strings(data.pop(f"{k}__utf8"), data.pop(f"{k}__ends"))
        derived = {k[len(_DERIVED) :]: data.pop(k) for k in list(data) if k.startswith(_DERIVED)}
        missing = [k for k in (*_VERTEX_ARRAYS, *_SEGMENT_ARRAYS, *_WAY_ARRAYS) if k not in data]
        if missing:
            raise InputError(f"{p}: missing arrays {missing}")
        g = cls(**data, meta=meta)
        if derived_meta is not None:
            g._restore(derived, derived_meta)
        return g

    def _restore(self, d: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Adopt the derived arrays of a prepared file where they fit this graph (each
        part on its own; a part that does not fit is recomputed when needed)."""

        def within(a: np.ndarray, n: int) -> bool:
            return a.dtype.kind in "iu" and (
                len(a) == 0 or (int(a.min()) >= 0 and int(a.max()) < n)
            )

        n, n_vx = self.n_nodes, len(self.vx_osmid)
        names = meta.get("edges", [])
        if names and all(f"edges__{k}" in d for k in names):
            e = {k: d[f"edges__{k}"] for k in names}
            if (
                len({len(v) for v in e.values()}) == 1
                and {"u", "v", "first_vx", "last_vx", "way"} <= set(e)
                and within(e["u"], n)
                and within(e["v"], n)
                and within(e["first_vx"], n_vx)
                and within(e["last_vx"], n_vx)
                and within(e["way"], self.n_ways)
            ):
                self.__dict__["edges"] = e
        keys = [f"csr_rev__{k}" for k in ("indptr", "indices", "data", "length", "default")]
        if all(k in d for k in keys):
            ptr, idx, w, length, default = (d[k] for k in keys)
            nnz = len(idx)
            if (
                len(ptr) == n + 1
                and ptr[0] == 0
                and ptr[-1] == nnz
                and bool(np.all(np.diff(ptr) >= 0))
                and within(idx, n)
                and len(w) == len(length) == len(default) == nnz
            ):
                m = sparse.csr_matrix((w, idx, ptr), shape=(n, n))
                m.has_sorted_indices = True
                self.__dict__["_csr_rev"] = (m, length, default)
        scc = d.get("scc_labels")
        if scc is not None and len(scc) == n and within(scc, max(n, 1)):
            self.__dict__["scc_labels"] = scc
        for entry in meta.get("vertex_indexes", []):
            slot = int(entry["slot"])
            prefix = f"vi{slot}__"
            part = {k[len(prefix) :]: v for k, v in d.items() if k.startswith(prefix)}
            vx = part.pop("vx", None)
            if vx is None or not within(vx, n_vx):
                continue
            index = VertexIndex.from_arrays(part, entry)
            if index is not None and sum(len(t.indices) for t in index.trees) == len(vx):
                self._vertex_indexes[str(entry["key"])] = (vx, index)

    def equals(self, other: RoutingGraph) -> bool:
        """Exact equality of every array and of the metadata."""
        names = (*_VERTEX_ARRAYS, *_SEGMENT_ARRAYS, *_WAY_ARRAYS)
        same = all(
            getattr(self, k).dtype == getattr(other, k).dtype
            and np.array_equal(getattr(self, k), getattr(other, k))
            for k in names
        )
        return same and json.dumps(self.meta, sort_keys=True) == json.dumps(
            other.meta, sort_keys=True
        )


def haversine_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distance (m) between points given in degrees (mean Earth radius)."""
    r = 6_371_008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


def _at_default_speed(src: np.ndarray) -> np.ndarray:
    """Whether each speed-source code is a class default (:data:`DEFAULT_SOURCE_CODES`):
    a comparison per default code, not a table indexed by every segment's code (a uint8
    index is widened to 64 bits for each of millions of segments)."""
    out = np.zeros(len(src), bool)
    for c in DEFAULT_SOURCE_CODES:
        out |= src == c
    return out


def _majority_source(
    codes: np.ndarray, seg_len: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Speed-source code covering most of each piece's length (piece ``p`` = segments
    ``a[p] .. b[p] - 1``). Most pieces have one
    code throughout: theirs is read at their first segment; the others are weighed by
    one count over piece × code cells, summed in segment order."""
    n_p = len(a)
    out = codes[a].astype(np.uint8) if n_p else np.zeros(0, np.uint8)
    if n_p == 0:
        return out
    # code changes inside each piece, from a running count of changes along the vertices
    changes = np.zeros(len(codes), np.int64)
    np.cumsum(codes[1:] != codes[:-1], out=changes[1:])
    mixed = np.flatnonzero(changes[b - 1] != changes[a])
    if len(mixed):
        n_codes = len(SPEED_SOURCES)
        seg = _ranges(a[mixed], b[mixed])
        local = np.repeat(np.arange(len(mixed)), b[mixed] - a[mixed])
        cell = local * n_codes + codes[seg].astype(np.int64)
        weight = np.bincount(cell, weights=seg_len[seg] + 1e-9, minlength=len(mixed) * n_codes)
        out[mixed] = weight.reshape(len(mixed), n_codes).argmax(axis=1)
    return out


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(start, stop)`` for each pair, vectorised."""
    lengths = (stops - starts).astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    base = np.repeat(starts.astype(np.int64) - (ends - lengths), lengths)
    return base + np.arange(total, dtype=np.int64)
