"""Nearest site, origin × site matrices and isochrones on ``scipy.sparse.csgraph``.

Every function routes *towards* the sites on the reversed graph: one multi-source
Dijkstra from all sites gives, for every node, the travel time to its nearest site
(the trip a resident makes), never a loop over origins.

A point snapped in the middle of a street is a virtual node on the graph as it is (no
split, no rebuild per query): a site there is reached by the entries that drive its
edge, cut at the site; a trip from an origin there first drives the rest of the edge.
Off-network legs are part of the graph: each site is a virtual node joined to its
snapped vertex by an edge of ``snap_time_s``, so sites sharing a vertex or lying at
different distances from the road are ranked exactly; each origin adds its own
``snap_time_s``. Times are in minutes (``time_min``), distances in kilometres along
the fastest route, off-network legs included (``dist_km``). Unreachable pairs give NaN
and ``reachable=False``.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from msapgeo.arrays import unique_sorted, with_columns
from msapgeo.errors import InputError
from msapgeo.graph import MIN_WEIGHT_S, RoutingGraph, _ranges
from msapgeo.i18n import t as t_
from msapgeo.places import ensure_snapped, vertices_of
from msapgeo.profiles import edge_controls
from msapgeo.treepaths import tree_path_sums
from msapgeo.turns import TurnGraph, turn_graph


@dataclass
class _Problem:
    """A query: its origins and sites, and the routing matrix they make of the graph."""

    origins: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    o_rows: np.ndarray  # positions of routable origins in `origins`
    o_time_s: np.ndarray
    o_len_m: np.ndarray
    s_rows: np.ndarray  # positions of routable sites in `sites`
    site_ids: np.ndarray  # ids of routable sites
    placed: _Placed

    @property
    def graph(self) -> RoutingGraph:
        return self.placed.graph

    @property
    def o_node(self) -> np.ndarray:
        """State each routable origin starts from."""
        return self.placed.o_state

    @property
    def A(self) -> sparse.csr_matrix:  # noqa: N802
        """Reversed graph + one virtual node per routable site (+ start states)."""
        return self.placed.A

    @property
    def A_len(self) -> np.ndarray:  # noqa: N802
        """Edge lengths aligned with ``A.data``."""
        return self.placed.A_len

    @property
    def A_default(self) -> np.ndarray:  # noqa: N802
        """Of which metres at default speeds (not tagged)."""
        return self.placed.A_default

    @property
    def n(self) -> int:
        """States of the routing graph (nodes, or turn-expanded states)."""
        return self.placed.n

    @property
    def node_state(self) -> np.ndarray:
        """State where a trip from each node of ``graph`` starts."""
        return self.placed.node_state

    @property
    def virtual(self) -> np.ndarray:
        return self.n + np.arange(len(self.s_rows))


@dataclass(eq=False)
class _Placed:
    """What a query's points make of the routing graph: kept per graph for the next query
    with the same points (the split graph used to be kept the same way)."""

    graph: RoutingGraph
    o_state: np.ndarray
    A: sparse.csr_matrix
    A_len: np.ndarray
    A_default: np.ndarray
    n: int
    node_state: np.ndarray

    @cached_property
    def A_rows(self) -> np.ndarray:  # noqa: N802 (named like A)
        """Row of each entry of A, kept for the next route lengths on these points."""
        return np.repeat(np.arange(self.A.shape[0], dtype=np.int32), np.diff(self.A.indptr))


#: Queries already placed on each graph (the last :data:`_PLACED_KEEP`), by their points.
_PLACED: weakref.WeakKeyDictionary[RoutingGraph, OrderedDict[bytes, _Placed]] = (
    weakref.WeakKeyDictionary()
)
_PLACED_KEEP = 4


#: Exclusion reason of an origin from which no site can be reached by road.
UNREACHABLE = "aucun site accessible par la route depuis ce point"


def is_unreachable(reasons: pd.Series) -> pd.Series:
    """Which exclusion reasons say that no site is reachable (in either output language)."""
    from msapgeo.i18n import EN

    return reasons.astype("string").isin([UNREACHABLE, EN[UNREACHABLE]]).fillna(False)


#: Identifier columns looked for, in order, when none is named: sites and origins have
#: their own rules, so that a nearest-site result (whose ``site_id`` is each origin's
#: nearest site) keeps its own labels when routed again as origins.
SITE_ID_COLUMNS: tuple[str, ...] = ("site_id", "id", "insee_com")
ORIGIN_ID_COLUMNS: tuple[str, ...] = ("point_id", "id", "insee_com", "code")


def _ids(gdf: pd.DataFrame, col: str | None, default_prefix: str) -> np.ndarray:
    if col is not None:
        if col not in gdf.columns:
            raise InputError(f"id column {col!r} not in {list(gdf.columns)}")
        return gdf[col].astype(str).to_numpy()
    order = SITE_ID_COLUMNS if default_prefix == "site" else ORIGIN_ID_COLUMNS
    for c in order:
        if c in gdf.columns:
            return gdf[c].astype(str).to_numpy()
    return np.array([f"{default_prefix}{i}" for i in range(len(gdf))])


def _prepare(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    site_id: str | None,
    *,
    all_starts: bool = False,
    split: bool = False,
) -> _Problem:
    """Origins and sites placed on the routing graph of ``graph``, ready for csgraph.

    A point snapped at a graph node starts or ends there. A point snapped inside an edge
    is a *virtual node* on it (:meth:`RoutingGraph.edges_through`): a site there is
    reached by every entry that drives the edge, cut at the site; a trip from an origin
    there drives the rest of the edge first. The graph is neither split nor rebuilt per
    query, and the times are those of the graph (a snapped point never changes the cost
    of a junction). ``split`` instead makes the points graph nodes
    (:meth:`RoutingGraph.with_nodes`), for :func:`node_times`, whose sites must be nodes of
    the graph it returns.
    """
    origins = ensure_snapped(graph, origins)
    sites = ensure_snapped(graph, sites)
    s_ok = (sites["node_osmid"].to_numpy() >= 0) & sites["exclusion"].isna().to_numpy()
    o_ok = (origins["node_osmid"].to_numpy() >= 0) & origins["exclusion"].isna().to_numpy()
    s_rows, o_rows = np.flatnonzero(s_ok), np.flatnonzero(o_ok)
    o_ids = origins["node_osmid"].to_numpy()[o_rows].astype(np.int64)
    s_ids = sites["node_osmid"].to_numpy()[s_rows].astype(np.int64)
    s_time = sites["snap_time_s"].to_numpy(float)[s_rows]
    s_len = sites["snap_m"].to_numpy(float)[s_rows]
    pl = _place(graph, _Points(o_ids, s_ids, s_time, s_len, all_starts, split))
    return _Problem(
        origins=origins,
        sites=sites,
        o_rows=o_rows,
        o_time_s=origins["snap_time_s"].to_numpy(float)[o_rows],
        o_len_m=origins["snap_m"].to_numpy(float)[o_rows],
        s_rows=s_rows,
        site_ids=_ids(sites, site_id, "site")[s_rows],
        placed=pl,
    )


@dataclass(eq=False)
class _Points:
    """A query's routable points: vertices of the origins and sites, the sites'
    off-network legs (time, length), and the options that shape the matrix."""

    o_ids: np.ndarray
    s_ids: np.ndarray
    s_time: np.ndarray
    s_len: np.ndarray
    all_starts: bool
    split: bool

    def key(self) -> bytes:
        h = hashlib.blake2b(digest_size=20)
        flags = np.array([self.all_starts, self.split, len(self.o_ids)])
        for a in (self.o_ids, self.s_ids, self.s_time, self.s_len, flags):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.digest()


def _place(graph: RoutingGraph, pts: _Points) -> _Placed:
    """The routing matrix of a query's points on ``graph`` (kept for the next query with
    the same points, vertices, off-network legs and options)."""
    key = pts.key()
    kept = _PLACED.setdefault(graph, OrderedDict())
    if key in kept:
        kept.move_to_end(key)
        return kept[key]
    pl = _place_points(graph, pts)
    kept[key] = pl
    while len(kept) > _PLACED_KEEP:
        kept.popitem(last=False)
    return pl


def _place_points(graph: RoutingGraph, pts: _Points) -> _Placed:
    o_ids, s_ids, s_time, s_len = pts.o_ids, pts.s_ids, pts.s_time, pts.s_len
    all_starts, split = pts.all_starts, pts.split
    g = graph.with_nodes(np.concatenate([o_ids, s_ids])) if split else graph
    o_nd, s_nd = g.node_index(o_ids), g.node_index(s_ids)
    # points inside an edge: their vertex, and the directed edges through it, cut there
    mid_ids = unique_sorted(np.concatenate([o_ids[o_nd < 0], s_ids[s_nd < 0]]))
    mid_vx = vertices_of(g, mid_ids)
    if (mid_vx < 0).any() or g.vx_junction[mid_vx].any():
        raise InputError("snapped vertices are not in this graph: snap with the same graph")
    cut = g.edges_through(mid_vx)
    o_mid = np.minimum(np.searchsorted(mid_ids, o_ids), max(len(mid_ids) - 1, 0))
    s_mid = np.minimum(np.searchsorted(mid_ids, s_ids), max(len(mid_ids) - 1, 0))
    e = g.edges
    tg = _turn_graph(g) if g.meta.get("turns") else None
    if tg is not None:
        R, R_len, R_def = tg.R, tg.length, tg.default_m
        node_state = tg.start.copy()
        edge_head = tg.edge_head
        # what an entry adds at the edge's head beyond driving it (an approach control)
        head_extra = tg.edge_time_s - np.maximum(e["time_s"], MIN_WEIGHT_S)
    else:
        R, R_len, R_def = g.csr_reverse, g.csr_reverse_length, g.csr_reverse_default
        node_state = np.arange(g.n_nodes)
        edge_head, head_extra = e["v"], np.zeros(len(e["v"]))
    n, k = R.shape[0], len(s_ids)
    col0 = n + k  # start states are numbered after the sites' virtual rows
    x_row: list[np.ndarray] = []  # entries into existing rows towards the start states
    x_col: list[np.ndarray] = []
    x_w: list[np.ndarray] = []
    x_len: list[np.ndarray] = []
    starts = np.zeros(0, np.int64)
    if tg is not None:
        # a start state for each expanded node this query starts from (every node for
        # node_times)
        want = np.arange(g.n_nodes) if all_starts else o_nd[o_nd >= 0]
        starts = np.unique(want[tg.start[want] < 0])
        node_state[starts] = col0 + np.arange(len(starts))
        per = np.diff(tg.start_ptr)[starts]
        take = _ranges(tg.start_ptr[starts], tg.start_ptr[starts] + per)
        x_row.append(tg.start_head[take])
        x_col.append(np.repeat(node_state[starts], per))
        x_w.append(tg.start_time_s[take])
        x_len.append(tg.start_len[:, take])
    # an origin inside an edge: a start state that drives the rest of each edge through it
    mid_col = np.full(len(mid_ids), -1, np.int64)
    mid_o = np.unique(o_mid[o_nd < 0])
    mid_col[mid_o] = col0 + len(starts) + np.arange(len(mid_o))
    n_extra = len(starts) + len(mid_o)
    leave = np.flatnonzero(mid_col[cut["point"]] >= 0)
    le = cut["edge"][leave]
    l_col = mid_col[cut["point"][leave]]
    l_w = cut["after_s"][leave] + head_extra[le]
    l_len = np.stack([cut["after_m"][leave], cut["after_default_m"][leave]])
    head = edge_head[le]
    ok = head >= 0
    x_row.append(head[ok])
    x_col.append(l_col[ok])
    x_w.append(l_w[ok])
    x_len.append(l_len[:, ok])
    if tg is not None and not ok.all():
        # a loop way back into an expanded node has no arrival state: the trip goes on
        # as one starting at that node
        loop = np.flatnonzero(~ok)
        at = e["v"][le[loop]]
        per = np.diff(tg.start_ptr)[at]
        take = _ranges(tg.start_ptr[at], tg.start_ptr[at] + per)
        rep = np.repeat(loop, per)
        x_row.append(tg.start_head[take])
        x_col.append(l_col[rep])
        x_w.append(l_w[rep] + tg.start_time_s[take])
        x_len.append(l_len[:, rep] + tg.start_len[:, take])
    o_state = node_state[np.maximum(o_nd, 0)]
    o_state[o_nd < 0] = mid_col[o_mid[o_nd < 0]]
    site_entries = _site_entries(g, tg, s_nd, s_mid, cut, node_state, col0, mid_col, mid_vx)
    extra = (
        np.concatenate(x_row),
        np.concatenate(x_col),
        np.maximum(np.concatenate(x_w), MIN_WEIGHT_S),
        np.concatenate(x_len, axis=1),
    )
    A, A_len, A_def = _augment(R, R_len, R_def, site_entries, s_time, s_len, extra, n_extra)
    return _Placed(
        graph=g,
        o_state=o_state,
        A=A,
        A_len=A_len,
        A_default=A_def,
        n=n,
        node_state=node_state,
    )


def _site_entries(
    g: RoutingGraph,
    tg: TurnGraph | None,
    s_nd: np.ndarray,
    s_mid: np.ndarray,
    cut: dict[str, np.ndarray],
    node_state: np.ndarray,
    col0: int,
    mid_col: np.ndarray,
    mid_vx: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entries of the sites' virtual rows: ``(site, column, time_s, lengths)``, where the
    time and the two lengths (length, at default speeds) are those driven on the road
    (the off-network leg is added by :func:`_augment`)."""
    e = g.edges
    site: list[np.ndarray] = []
    col: list[np.ndarray] = []
    w: list[np.ndarray] = []
    ln: list[np.ndarray] = []

    def add(i: np.ndarray, c: np.ndarray, t: np.ndarray, lengths: np.ndarray) -> None:
        site.append(i)
        col.append(c)
        w.append(t)
        ln.append(lengths)

    # a site at a node: every state arriving there, and the node's start state when a
    # trip starts there too
    at = np.flatnonzero(s_nd >= 0)
    nd = s_nd[at]
    if tg is None:
        add(at, nd, np.zeros(len(at)), np.zeros((2, len(at))))
    else:
        counts = np.diff(tg.arrive_ptr)[nd]
        arrive = tg.arrive_states[_ranges(tg.arrive_ptr[nd], tg.arrive_ptr[nd + 1])]
        add(np.repeat(at, counts), arrive, np.zeros(len(arrive)), np.zeros((2, len(arrive))))
        own = node_state[nd]
        has_own = own >= col0
        m = int(has_own.sum())
        add(at[has_own], own[has_own], np.zeros(m), np.zeros((2, m)))
    # a site inside an edge: the entries that drive the edge, cut at the site
    inside = np.flatnonzero(s_nd < 0)
    order = np.argsort(cut["point"], kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(cut["point"], minlength=len(mid_vx)))])
    pm = s_mid[inside]
    cnt = ptr[pm + 1] - ptr[pm]
    rows = order[_ranges(ptr[pm], ptr[pm + 1])]
    i_site = np.repeat(inside, cnt)
    ce = cut["edge"][rows]
    before = cut["before_s"][rows]
    before_len = np.stack([cut["before_m"][rows], cut["before_default_m"][rows]])
    tail = e["u"][ce]
    if tg is None:
        add(i_site, tail, before, before_len)
    else:
        kk, entry = tg.entries_of(ce)
        turn_s = np.maximum(tg.R.data[entry] - tg.edge_time_s[ce[kk]], 0.0)
        add(
            i_site[kk], tg.R.indices[entry].astype(np.int64), turn_s + before[kk], before_len[:, kk]
        )
        # from a start state at the edge's tail (a trip starting at an expanded node)
        own = node_state[tail]
        has_own = own >= col0
        add(i_site[has_own], own[has_own], before[has_own], before_len[:, has_own])
        # a loop way has no entry of its own: reached from every state at its node
        loop = np.flatnonzero(tail == e["v"][ce])
        if len(loop):
            a = tail[loop]
            per = np.diff(tg.arrive_ptr)[a]
            rep = np.repeat(loop, per)
            arrive = tg.arrive_states[_ranges(tg.arrive_ptr[a], tg.arrive_ptr[a + 1])]
            add(i_site[rep], arrive, before[rep], before_len[:, rep])
    # an origin inside the same edge, before the site: straight along the edge
    o_cut = np.flatnonzero(mid_col[cut["point"]] >= 0)
    if len(o_cut) and len(rows):
        o_cut = o_cut[np.argsort(cut["edge"][o_cut], kind="stable")]
        o_edge = cut["edge"][o_cut]
        lo = np.searchsorted(o_edge, ce, side="left")
        hi = np.searchsorted(o_edge, ce, side="right")
        rep = np.repeat(np.arange(len(rows)), hi - lo)
        oc = o_cut[_ranges(lo, hi)]
        vs = mid_vx[cut["point"][rows[rep]]]
        vo = mid_vx[cut["point"][oc]]
        rev = e["reversed"][ce[rep]]
        ahead = np.where(rev, vo >= vs, vo <= vs)
        rep, oc, vs, vo, rev = rep[ahead], oc[ahead], vs[ahead], vo[ahead], rev[ahead]
        sums = g.piece_sums(np.minimum(vo, vs), np.maximum(vo, vs))
        t = np.where(rev, sums["time_bwd_s"], sums["time_fwd_s"])
        d = np.where(rev, sums["default_bwd_m"], sums["default_fwd_m"])
        add(i_site[rep], mid_col[cut["point"][oc]], t, np.stack([sums["length_m"], d]))
    return (
        np.concatenate(site),
        np.concatenate(col).astype(np.int64),
        np.concatenate(w),
        np.concatenate(ln, axis=1),
    )


#: Turn graphs already built, per routing graph (graphs are immutable once built).
_TURN_GRAPHS: weakref.WeakKeyDictionary[RoutingGraph, TurnGraph] = weakref.WeakKeyDictionary()


def _turn_graph(g: RoutingGraph) -> TurnGraph:
    """The turn-expanded graph of ``g``, built once per graph object."""
    tg = _TURN_GRAPHS.get(g)
    if tg is None:
        wait, slow, kmh, _ = edge_controls(g)
        tg = turn_graph(g, wait, slow, kmh)
        _TURN_GRAPHS[g] = tg
    return tg


def _augment(
    R: sparse.csr_matrix,
    R_len: np.ndarray,
    R_def: np.ndarray,
    site_entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    s_time: np.ndarray,
    s_len: np.ndarray,
    extra: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_extra: int,
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Reversed CSR plus one virtual row per site and ``n_extra`` start states.

    ``site_entries`` = sites, columns, road times and road lengths (two rows: length,
    default-speed length) of the sites' virtual rows; the off-network leg is added to
    each. ``extra`` = rows, columns, times and lengths of entries inserted into the
    existing rows towards the start states (columns after the virtual rows). Returns the
    matrix (canonical: one entry per pair, columns sorted within rows) and the length
    and default-speed length of its entries (the off-network leg counts at a default
    speed).
    """
    n, k = R.shape[0], len(s_time)
    size = n + k + n_extra
    e_row, e_col, e_w, e_len = extra
    # every site entry carries the same extra MIN_WEIGHT_S (csgraph needs positive
    # weights), taken off again by the callers: rankings and times stay exact.
    si, sc, sw, sl = site_entries
    sw = s_time[si] + MIN_WEIGHT_S + sw
    sl = sl + s_len[si]
    order = np.lexsort((sw, sc, si))
    si, sc, sw, sl = si[order], sc[order], sw[order], sl[:, order]
    first = np.ones(len(si), bool)  # two ways to one state: keep the fastest
    first[1:] = (si[1:] != si[:-1]) | (sc[1:] != sc[:-1])
    si, sc, sw, sl = si[first], sc[first], sw[first], sl[:, first]
    if len(e_row) == 0:
        core_ptr, core_idx, core_w, core_len, core_def = R.indptr, R.indices, R.data, R_len, R_def
    else:
        # insert the start entries at the end of their rows (their columns are the
        # largest), keeping R's entries in place relative to each other
        order = np.lexsort((e_w, e_col, e_row))
        e_row, e_col, e_w, e_len = e_row[order], e_col[order], e_w[order], e_len[:, order]
        first = np.ones(len(e_row), bool)  # parallel roads: keep the fastest entry
        first[1:] = (e_row[1:] != e_row[:-1]) | (e_col[1:] != e_col[:-1])
        e_row, e_col, e_w, e_len = e_row[first], e_col[first], e_w[first], e_len[:, first]
        add = np.bincount(e_row, minlength=n)
        old_counts = np.diff(R.indptr)
        core_ptr = np.concatenate([[0], np.cumsum(old_counts + add)])
        old_pos = np.arange(R.nnz) + np.repeat(core_ptr[:-1] - R.indptr[:-1], old_counts)
        rank = np.arange(len(e_row)) - np.repeat(np.cumsum(add) - add, add)
        new_pos = core_ptr[e_row] + old_counts[e_row] + rank
        core = []
        for old_v, new_v in (
            (R.indices, e_col),
            (R.data, e_w),
            (R_len, e_len[0]),
            (R_def, e_len[1]),
        ):
            merged = np.empty(int(core_ptr[-1]), np.result_type(old_v, new_v))
            merged[old_pos], merged[new_pos] = old_v, new_v
            core.append(merged)
        core_idx, core_w, core_len, core_def = core
    # the start states have no rows of their own (nothing leaves them on the reversed graph)
    s_ptr = np.concatenate([[0], np.cumsum(np.bincount(si, minlength=k))])
    end = core_ptr[-1] + s_ptr[1:]
    indptr = np.concatenate([core_ptr, end, np.full(n_extra, core_ptr[-1] + s_ptr[-1])])
    indices = np.concatenate([core_idx, sc])
    data = np.concatenate([core_w, sw])
    lens = np.concatenate([core_len, sl[0]])
    defs = np.concatenate([core_def, sl[1]])
    A = sparse.csr_matrix((data, indices.astype(np.int32, copy=False), indptr), shape=(size, size))
    return A, lens, defs


def _path_lengths(
    P: _Problem, pred: np.ndarray, targets: np.ndarray, *values: np.ndarray
) -> list[np.ndarray]:
    """Length (m) of the tree path from its root (a virtual site) to each target node.

    :func:`msapgeo.treepaths.tree_path_sums`: on large problems a compiled walk up the
    tree from each target, stopping at the first node already summed; on small ones
    pointer doubling. Several quantities summed along the same paths share the work.

    Parameters
    ----------
    P
        Problem (graph A and its edge lengths).
    pred
        Predecessors from csgraph, shape ``(N,)`` or ``(b, N)``.
    targets
        Node indices whose path length is wanted.
    values
        Per entry of ``P.A`` (aligned with its data), what to sum (default the length,
        ``P.A_len``); ``P.A_default`` gives the metres driven at default speeds.

    Returns
    -------
    list of numpy.ndarray
        One per quantity, shape ``(len(targets),)`` or ``(b, len(targets))``; 0 where
        there is no path.
    """
    vals = np.stack(values or (P.A_len,))
    out = tree_path_sums(P.A.indptr, P.A.indices, pred, targets, vals, rows=P.placed.A_rows)
    return [o[0] if pred.ndim == 1 else o for o in out]


def nearest_site(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    site_id: str | None = None,
    second: bool = True,
    distances: bool = True,
) -> gpd.GeoDataFrame:
    """Travel time from every origin to its nearest site, by one multi-source Dijkstra.

    Parameters
    ----------
    graph
        Routing graph.
    origins, sites
        Point GeoDataFrames, snapped (:func:`msapgeo.places.snap`) or not (snapped here).
        Rows with an ``exclusion`` are kept in the output, not routed.
    site_id
        Column of ``sites`` holding identifiers (default ``site_id``, ``insee_com``,
        ``id``, else the row number).
    second
        Also give the second nearest site and its time (one more Dijkstra, restricted
        to each nearest site's catchment, exact).
    distances
        Give the length of the fastest route (``dist_km``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``origins`` with added columns ``site_id``, ``time_min``, ``dist_km``,
        ``default_speed_km`` (of the route's length, the km whose speed is a default —
        of the road's class, or the off-network legs' — rather than a ``maxspeed`` tag),
        ``reachable``,
        ``site2_id``, ``time2_min`` and an updated ``exclusion``.

    Notes
    -----
    The second nearest site of an origin *v* whose nearest site is *s* is reached by a
    path that stays inside the catchment of *s* up to a last node *x* and then takes an
    edge *x → y* into another catchment, after which it follows *y*'s fastest route.
    Seeding every such *x* with ``w(x, y) + t₁(y)`` (minimised over its edges) and running
    Dijkstra on the catchment-internal edges only gives the exact second time.
    """
    P = _prepare(graph, origins, sites, site_id)
    out = P.origins  # not modified: with_columns returns a new frame
    n_o = len(out)
    time_s = np.full(n_o, np.nan)
    dist_m = np.full(n_o, np.nan)
    default_m = np.full(n_o, np.nan)
    site = np.full(n_o, None, dtype=object)
    time2_s = np.full(n_o, np.nan)
    site2 = np.full(n_o, None, dtype=object)
    if len(P.s_rows) == 0:
        raise InputError("no site could be placed on the network (see their exclusion column)")
    dist, pred, src = csgraph.dijkstra(
        P.A, directed=True, indices=P.virtual, min_only=True, return_predecessors=True
    )
    t = dist[P.o_node] - MIN_WEIGHT_S
    reach = np.isfinite(t)
    rows = P.o_rows[reach]
    time_s[rows] = t[reach] + P.o_time_s[reach]
    site[rows] = P.site_ids[src[P.o_node[reach]] - P.n]
    if distances:
        tree_len, tree_def = _path_lengths(P, pred, P.o_node[reach], P.A_len, P.A_default)
        dist_m[rows] = tree_len + P.o_len_m[reach]
        default_m[rows] = tree_def + P.o_len_m[reach]
    if second and len(P.s_rows) > 1:
        d2, lab2 = _second(P, dist, src)
        t2 = d2[P.o_node] - MIN_WEIGHT_S
        ok2 = np.isfinite(t2)
        time2_s[P.o_rows[ok2]] = t2[ok2] + P.o_time_s[ok2]
        site2[P.o_rows[ok2]] = P.site_ids[lab2[P.o_node[ok2]] - P.n]
    excl = out["exclusion"].astype("string")
    unreachable = P.o_rows[~reach]
    excl.iloc[unreachable] = t_(UNREACHABLE)
    out = with_columns(
        out,
        {
            "site_id": site,
            "time_min": time_s / 60.0,
            "dist_km": dist_m / 1000.0,
            "default_speed_km": default_m / 1000.0,
            "reachable": np.isfinite(time_s),
            "site2_id": site2,
            "time2_min": time2_s / 60.0,
            "exclusion": excl,
        },
    )
    if origins.crs is not None and out.crs is not None and not out.crs.equals(origins.crs):
        out = out.to_crs(origins.crs)  # results in the input CRS
    return out


def route_default_share(routes: pd.DataFrame) -> float | None:
    """Share of the routed km (``dist_km``) driven at a class default speed rather than
    a tagged ``maxspeed`` (``default_speed_km``, :func:`msapgeo.routing.nearest_site`)."""
    if "default_speed_km" not in routes.columns or "dist_km" not in routes.columns:
        return None
    ok = routes["dist_km"].notna() & routes["default_speed_km"].notna()
    total = float(routes.loc[ok, "dist_km"].sum())
    return float(routes.loc[ok, "default_speed_km"].sum()) / total if total > 0 else None


def _second(P: _Problem, dist: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Second-nearest time and site label (virtual node) of every node."""
    A = P.A
    N = A.shape[0]
    r = np.repeat(np.arange(N), np.diff(A.indptr))
    c, w = A.indices, A.data
    sr, sc = src[r], src[c]
    finite = (sr >= 0) & (sc >= 0)
    boundary = finite & (sr != sc)
    inside = finite & (sr == sc)
    # seed value of node c: min over boundary edges (r -> c in A, i.e. c -> r by road)
    cand = dist[r[boundary]] + w[boundary]
    tgt = c[boundary]
    lab = sr[boundary]
    order = np.lexsort((cand, tgt))
    tgt, cand, lab = tgt[order], cand[order], lab[order]
    first = np.ones(len(tgt), bool)
    first[1:] = tgt[1:] != tgt[:-1]
    seeds, seed_val, seed_lab = tgt[first], cand[first], lab[first]
    m = len(seeds)
    if m == 0:
        return np.full(N, np.inf), np.full(N, -1)
    # catchment-internal edges keep A's canonical order; one seed row per boundary node
    counts = np.bincount(r[inside], minlength=N)
    indptr = np.concatenate([[0], np.cumsum(counts), np.cumsum(counts)[-1] + np.arange(1, m + 1)])
    indices = np.concatenate([c[inside], seeds]).astype(np.int32)
    data = np.concatenate([w[inside], seed_val])  # seed_val >= MIN_WEIGHT_S > 0
    B = sparse.csr_matrix((data, indices, indptr), shape=(N + m, N + m))
    d2, src2 = _dijkstra_sources(B, N + np.arange(m))
    d2 = d2[:N]
    label = np.full(N, -1)
    ok = src2[:N] >= 0
    label[ok] = seed_lab[src2[:N][ok] - N]
    return d2, label


def _dijkstra_sources(B: sparse.csr_matrix, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d, _, s = csgraph.dijkstra(
        B, directed=True, indices=indices, min_only=True, return_predecessors=True
    )
    return d, s


@dataclass
class ODMatrix:
    """Origin × site travel times and distances.

    Attributes
    ----------
    origin_ids, site_ids
        Row and column labels (all origins and sites given, routable or not).
    time_min
        ``(n_origins, n_sites)`` minutes, NaN where unreachable or excluded.
    dist_km
        Same shape, length of the fastest route, or ``None`` when not asked.
    default_km
        Same shape, the km of that route driven at a class default speed rather than a
        tagged ``maxspeed``, or ``None`` when not asked.
    """

    origin_ids: np.ndarray
    site_ids: np.ndarray
    time_min: np.ndarray
    dist_km: np.ndarray | None
    default_km: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``origin_id``, ``site_id``, ``time_min``, ``dist_km``, ``reachable``."""
        no, ns = self.time_min.shape
        df = pd.DataFrame(
            {
                "origin_id": np.repeat(self.origin_ids, ns),
                "site_id": np.tile(self.site_ids, no),
                "time_min": self.time_min.ravel(),
            }
        )
        if self.dist_km is not None:
            df["dist_km"] = self.dist_km.ravel()
        if self.default_km is not None:
            df["default_speed_km"] = self.default_km.ravel()
        df["reachable"] = df["time_min"].notna()
        return df


def od_matrix(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    origin_id: str | None = None,
    site_id: str | None = None,
    distances: bool = True,
    batch: int = 64,
    limit_min: float | None = None,
    defaults: bool = False,
) -> ODMatrix:
    """Travel times (and distances) of every origin to every site.

    One Dijkstra per site on the reversed graph (batched), reading the origins' columns.

    Parameters
    ----------
    graph
        Routing graph.
    origins, sites
        Point GeoDataFrames, snapped or not.
    origin_id, site_id
        Identifier columns.
    distances
        Also give route lengths.
    batch
        Sites per csgraph call (bounds memory to ``batch × n_nodes``).
    limit_min
        Stop each search at this time: pairs beyond it are NaN (as unreachable). A
        coverage model at a threshold ≤ the limit is unchanged, and much faster to build.
    defaults
        Also give the km of each route driven at default speeds (``default_km``; needs
        ``distances``).

    Returns
    -------
    ODMatrix
    """
    P = _prepare(graph, origins, sites, site_id)
    if len(P.s_rows) == 0:
        raise InputError("no site could be placed on the network (see their exclusion column)")
    n_o, n_s = len(P.origins), len(P.sites)
    T = np.full((n_o, n_s), np.nan)
    D = np.full((n_o, n_s), np.nan) if distances else None
    F = np.full((n_o, n_s), np.nan) if distances and defaults else None
    for cols, t, pred in _site_searches(P, batch, limit_min, predecessors=distances):
        T[np.ix_(P.o_rows, cols)] = np.where(np.isfinite(t), t / 60.0, np.nan)
        if D is not None and pred is not None:
            wanted = (P.A_len,) if F is None else (P.A_len, P.A_default)
            sums = _path_lengths(P, pred, P.o_node, *wanted)
            d = sums[0].T + P.o_len_m[:, None]
            D[np.ix_(P.o_rows, cols)] = np.where(np.isfinite(t), d / 1000.0, np.nan)
            if F is not None:
                f = sums[1].T + P.o_len_m[:, None]
                F[np.ix_(P.o_rows, cols)] = np.where(np.isfinite(t), f / 1000.0, np.nan)
    return ODMatrix(
        origin_ids=_ids(P.origins, origin_id, "origin"),
        site_ids=_ids(P.sites, site_id, "site"),
        time_min=T,
        dist_km=D,
        default_km=F,
    )


def _site_searches(
    P: _Problem, batch: int, limit_min: float | None, *, predecessors: bool
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """One search per site, ``batch`` sites per csgraph call, each stopped at
    ``limit_min``: yields the sites' columns, the origins' times (s, ``(origins,
    batch)``, off-network legs included, ``inf`` unreachable or beyond the limit) and,
    when asked, the predecessors."""
    limit_s = np.inf if limit_min is None else limit_min * 60 + MIN_WEIGHT_S
    virtual = P.virtual
    for start in range(0, len(virtual), batch):
        idx = virtual[start : start + batch]
        pred = None
        if predecessors:
            dist, pred = csgraph.dijkstra(
                P.A, directed=True, indices=idx, return_predecessors=True, limit=limit_s
            )
        else:
            dist = csgraph.dijkstra(P.A, directed=True, indices=idx, limit=limit_s)
        t = dist[:, P.o_node].T - MIN_WEIGHT_S + P.o_time_s[:, None]
        if limit_min is not None:
            t[t > limit_min * 60] = np.inf
        yield P.s_rows[start : start + batch], t, pred


@dataclass
class ODPairs:
    """Origin × site travel times within a time limit, as a sparse matrix.

    Attributes
    ----------
    origin_ids, site_ids
        Row and column labels (all origins and sites given).
    time_min
        ``scipy.sparse.csc_matrix`` of shape ``(n_origins, n_sites)``: minutes for the pairs
        within ``limit_min`` (an entry of 0 is a pair at 0 minutes: the matrix's structure,
        not its values, says which pairs are there); pairs beyond the limit, unreachable or
        excluded are absent.
    limit_min
        The limit (minutes).
    """

    origin_ids: np.ndarray
    site_ids: np.ndarray
    time_min: sparse.csc_matrix
    limit_min: float

    def to_frame(self) -> pd.DataFrame:
        """Long table of the pairs within the limit: ``origin_id``, ``site_id``, ``time_min``."""
        m = self.time_min
        col = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
        return pd.DataFrame(
            {
                "origin_id": self.origin_ids[m.indices],
                "site_id": self.site_ids[col],
                "time_min": m.data,
            }
        )


def od_pairs(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    limit_min: float,
    origin_id: str | None = None,
    site_id: str | None = None,
    batch: int = 64,
) -> ODPairs:
    """Travel times of the origin–site pairs within ``limit_min``, without a dense matrix.

    The same searches as :func:`od_matrix` with a limit (one per site, batched, each
    stopped at the limit), keeping only the pairs found: a national instance (35,000
    communes × 3,000 candidates, most pairs beyond any threshold a planner uses) holds
    a few million pairs instead of 10^8 cells.

    Returns
    -------
    ODPairs
    """
    if not limit_min > 0:
        raise InputError(f"limit_min must be positive, got {limit_min}")
    P = _prepare(graph, origins, sites, site_id)
    if len(P.s_rows) == 0:
        raise InputError("no site could be placed on the network (see their exclusion column)")
    n_o, n_s = len(P.origins), len(P.sites)
    rows_of: list[np.ndarray] = [np.zeros(0, np.int64)] * n_s
    times_of: list[np.ndarray] = [np.zeros(0)] * n_s
    for cols, t, _ in _site_searches(P, batch, limit_min, predecessors=False):
        for b, col in enumerate(cols):
            ok = np.flatnonzero(np.isfinite(t[:, b]))
            order = np.argsort(P.o_rows[ok], kind="stable")
            rows_of[col] = P.o_rows[ok][order]
            times_of[col] = t[ok, b][order] / 60.0
    counts = np.array([len(r) for r in rows_of], np.int64)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    # built from its arrays: a pair at 0 minutes stays an entry
    m = sparse.csc_matrix(
        (np.concatenate(times_of), np.concatenate(rows_of).astype(np.int32), indptr),
        shape=(n_o, n_s),
    )
    return ODPairs(
        origin_ids=_ids(P.origins, origin_id, "origin"),
        site_ids=_ids(P.sites, site_id, "site"),
        time_min=m,
        limit_min=float(limit_min),
    )


def node_times(graph: RoutingGraph, sites: gpd.GeoDataFrame) -> tuple[RoutingGraph, np.ndarray]:
    """Travel time (minutes) from every node of the graph to its nearest site.

    Returns
    -------
    (RoutingGraph, numpy.ndarray)
        The graph split at the sites' vertices and the time of each of its nodes.
    """
    empty = gpd.GeoDataFrame(
        {"exclusion": pd.Series([], dtype="string")}, geometry=[], crs=sites.crs
    )
    empty["node_osmid"] = np.zeros(0, np.int64)
    empty["snap_m"] = np.zeros(0)
    empty["snap_time_s"] = np.zeros(0)
    P = _prepare(graph, empty, sites, None, all_starts=True, split=True)
    if len(P.s_rows) == 0:
        raise InputError("no site could be placed on the network")
    dist = csgraph.dijkstra(P.A, directed=True, indices=P.virtual, min_only=True)
    return P.graph, (dist[P.node_state] - MIN_WEIGHT_S) / 60.0
