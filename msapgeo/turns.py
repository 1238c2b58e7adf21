"""Turn-expanded routing graph: U-turns, turn restrictions and turn costs at junctions.

A node-based graph cannot forbid a manoeuvre that depends on where a car comes from.
Here every *junction* (a node where three or more road pieces meet, or the via node of a
turn restriction) is expanded: a car at such a node is in one state per road it arrived on,
and moves to the next road through *transitions* that carry their own cost or are
forbidden. Other nodes (bends, way splits) stay single states, so the
graph grows only where turns matter. It is built on ``scipy.sparse`` arrays and routed
with ``scipy.sparse.csgraph`` like the node-based graph.

Transitions at a junction ``v`` from road ``e1`` (arriving) to road ``e2`` (leaving)
---------------------------------------------------------------------------------
* **U-turns** are forbidden except at a dead end, where they cost :data:`U_TURN_S`
  (OSRM's ``u_turn_penalty``, the time of a three-point turn): going back along the
  same way, a deflection of :data:`U_TURN_DEG` or more, or :data:`ONEWAY_U_TURN_DEG` or
  more from a one-way road onto a one-way road (turning back at the split of a dual
  carriageway).
* **Turn restrictions** (relations ``type=restriction`` with a ``from`` way, a ``via``
  node and a ``to`` way): ``no_*`` forbids the transition, ``only_*`` forbids every
  other one from the ``from`` way at that node; ``except=motorcar`` or ``except=
  motor_vehicle`` is ignored; restrictions with a ``via`` way are counted, not applied.
* **Access for destination only** (``destination``, ``delivery``, ``customers``,
  ``permit`` and ``residents`` in the ``motorcar`` > ``motor_vehicle`` > ``vehicle`` >
  ``access`` hierarchy, as in OSRM's car profile; ``private`` and ``no`` are not drivable at
  all, see :mod:`msapgeo.network`): such roads are used only at the ends of a trip. Their
  edges have two states, one for a trip that started inside the zone (it may leave it) and
  one for a trip that entered it from outside (it must end there), so no route passes
  through. ``*:conditional`` access is not evaluated (listed by the network report).
* **Cost** = wait of the approach's control + the time lost braking to the speed of the
  junction and accelerating away from it. That speed is the lower of the control's (0 at
  a stop, :data:`msapgeo.speeds.YIELD_KMH` at a give-way or a minor approach, see
  :func:`msapgeo.profiles.approach_controls`) and the turn's, ``sqrt(a_lat R)`` on a path
  of radius ``R = R_KERB / (1 − cos θ)`` for a deflection θ (:data:`KERB_RADIUS_M` at
  90°; a straight crossing is not slowed). Braking happens on the road arriving at
  :data:`msapgeo.speeds.DECEL_MS2`, acceleration on the road leaving at
  :data:`msapgeo.speeds.ACCEL_MS2`, each within the room the road offers: half its length
  when another junction ends it, so that two junctions a short block apart never lose
  more time than the block takes at their speeds (a car that cannot reach its cruising
  speed between them loses only what it cannot reach, :func:`_phase_loss_s`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse

from msapgeo.graph import MIN_WEIGHT_S, RoutingGraph, _ranges
from msapgeo.speeds import ACCEL_MS2, DECEL_MS2

#: Time of a U-turn at a dead end (s): OSRM car profile ``u_turn_penalty``.
U_TURN_S = 20.0
#: A deflection at or above this angle (degrees) is a U-turn.
U_TURN_DEG = 170.0
#: From a one-way road onto a one-way road, a deflection at or above this angle is a
#: U-turn across the split of a dual carriageway.
ONEWAY_U_TURN_DEG = 150.0
#: Radius (m) of the path of a 90° turn: the kerb radius of French urban junctions,
#: 8–15 m in the CERTU/Cerema street design guides, plus half a lane.
KERB_RADIUS_M = 12.0
#: Lateral acceleration accepted in a turn (m/s²), as on bends
#: (:data:`msapgeo.profiles.LATERAL_ACCEL_MS2`).
TURN_LATERAL_ACCEL_MS2 = 2.5


#: Access values that allow a car only at the ends of its trip.
DESTINATION_ONLY: frozenset[str] = frozenset(
    {"destination", "delivery", "customers", "permit", "residents"}
)
_ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")


def destination_only(graph: RoutingGraph) -> np.ndarray:
    """Whether each way is open to cars only at the ends of a trip (per way, boolean)."""
    import json

    out = np.zeros(graph.n_ways, bool)
    words = tuple(DESTINATION_ONLY)
    for i, raw in enumerate(graph.way_tags):
        text = str(raw)
        if not any(w in text for w in words):
            continue
        tags = json.loads(text)
        value = next((tags[k] for k in _ACCESS_KEYS if k in tags), "")
        out[i] = str(value).split(";")[0].strip() in DESTINATION_ONLY
    return out


@dataclass
class TurnGraph:
    """A routing graph expanded at its junctions.

    Attributes
    ----------
    R
        Reversed CSR over states: ``R[j, i]`` = time (s) from state ``i`` to ``j``, to
        route towards sites.
    length
        Length (m) of each entry of ``R``, aligned with ``R.data``.
    default_m
        Of that length, the metres whose speed is a class default (not a tag).
    start
        For each node of the node graph: the state a trip starting there leaves from,
        ``-1`` at an expanded node, which has no state of its own: the routing adds a
        start state only for the nodes a query starts from (:attr:`start_ptr`), so that
        a search never spends time on the start states of every junction.
    start_ptr, start_head, start_time_s, start_len
        Trips starting at node ``v`` (CSR layout over nodes, expanded nodes only): the
        states ``start_head[start_ptr[v]:start_ptr[v + 1]]`` they enter first, the time
        (s) to get there, and the length and default-speed length (m, two rows).
    edge
        The directed edge of the node graph (index into ``graph.edges``) that each entry
        of ``R`` drives, aligned with ``R.data``: a point snapped in the middle of that
        edge is reached by the same entries with the edge's time cut at the point.
    edge_head, edge_time_s
        Per directed edge: the state its trip arrives in (``-1`` for a loop back to an
        expanded node) and the time an entry adds for driving it whole, approach control
        included (s).
    arrive_ptr, arrive_states
        The states a trip ending at node ``v`` may arrive in,
        ``arrive_states[arrive_ptr[v]:arrive_ptr[v + 1]]`` (CSR layout): the node's own
        state when it is not expanded; else one per road arriving there. A site's
        virtual source is joined to all of them, so that the graph needs no end state.
    report
        Counts: expanded nodes, transitions, forbidden U-turns, restrictions applied.
    """

    R: sparse.csr_matrix
    length: np.ndarray
    default_m: np.ndarray
    start: np.ndarray
    start_ptr: np.ndarray
    start_head: np.ndarray
    start_time_s: np.ndarray
    start_len: np.ndarray
    arrive_ptr: np.ndarray
    arrive_states: np.ndarray
    edge: np.ndarray
    edge_head: np.ndarray
    edge_time_s: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def n_states(self) -> int:
        return int(self.R.shape[0])

    @cached_property
    def _entries_by_edge(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.edge, kind="stable")
        ptr = np.concatenate(
            [[0], np.cumsum(np.bincount(self.edge, minlength=len(self.edge_head)))]
        )
        return order, ptr

    def entries_of(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Entries of ``R`` that drive each of ``edges``: ``(k, entry)``, where
        ``edges[k]`` is the edge that entry ``entry`` (a position in ``R.data``) drives."""
        order, ptr = self._entries_by_edge
        counts = ptr[edges + 1] - ptr[edges]
        k = np.repeat(np.arange(len(edges)), counts)
        return k, order[_ranges(ptr[edges], ptr[edges + 1])]


def _csr_min(
    rows: np.ndarray, cols: np.ndarray, w: np.ndarray, values: np.ndarray, n: int
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Canonical CSR keeping the fastest of parallel entries (csgraph would sum them);
    ``values`` (shape ``(k, m)``) are carried along and returned aligned with its data."""
    key = rows.astype(np.int64) * np.int64(n) + cols
    order = np.argsort(key, kind="stable")
    key, w, values = key[order], w[order], values[:, order]
    dup = np.flatnonzero(key[1:] == key[:-1])
    if len(dup):  # parallel entries: keep the fastest (rare: parallel roads)
        first = np.ones(len(key), bool)
        first[1:] = key[1:] != key[:-1]
        group = np.cumsum(first) - 1
        order_w = np.lexsort((w, group))
        take = np.ones(len(order_w), bool)
        take[1:] = group[order_w][1:] != group[order_w][:-1]
        best = order_w[take]
        key, w, values = key[best], w[best], values[:, best]
    rows, cols = key // n, key % n
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    m = sparse.csr_matrix(
        (np.maximum(w, MIN_WEIGHT_S), cols.astype(np.int32), indptr), shape=(n, n)
    )
    m.has_sorted_indices = True
    return m, values


def _physical_neighbours(graph: RoutingGraph) -> np.ndarray:
    """Road pieces at each node over every way, open or closed, either direction.

    The expansion and the dead ends follow the road as built, so that closing a road
    (a scenario) removes transitions but never the cost of a junction: a closure never
    shortens a trip. Pieces are counted, not neighbour nodes: at the split of a dual
    carriageway both carriageways lead to the same next node, and the node must still be
    expanded so that a car cannot turn back from one onto the other.
    """
    jv = graph.junction_vx
    w = graph.vx_way[jv]
    same = w[:-1] == w[1:]
    a = graph.node_index(graph.vx_osmid[jv[:-1][same]])
    b = graph.node_index(graph.vx_osmid[jv[1:][same]])
    ok = a != b
    n = graph.n_nodes
    return np.bincount(a[ok], minlength=n) + np.bincount(b[ok], minlength=n)


def _bearing(graph: RoutingGraph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Heading (rad) from vertex ``a`` to vertex ``b``, in a local metric frame."""
    lat0 = np.radians(np.nanmean(graph.vx_lat)) if len(graph.vx_lat) else 0.0
    dx = np.radians(graph.vx_lon[b] - graph.vx_lon[a]) * np.cos(lat0)
    dy = np.radians(graph.vx_lat[b] - graph.vx_lat[a])
    return np.asarray(np.arctan2(dy, dx))


def turn_speed_ms(theta: np.ndarray) -> np.ndarray:
    """Speed (m/s) of a turn of deflection ``theta`` (rad): ``sqrt(a_lat R)`` on a path of
    radius ``R = R_KERB / (1 − cos θ)``; ``inf`` for a straight crossing."""
    one_minus_cos = 1.0 - np.cos(np.abs(np.asarray(theta, float)))
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.where(one_minus_cos > 1e-9, KERB_RADIUS_M / one_minus_cos, np.inf)
    return np.sqrt(TURN_LATERAL_ACCEL_MS2 * radius)


def _turn_loss_s(theta: np.ndarray, v_in_kmh: np.ndarray, v_out_kmh: np.ndarray) -> np.ndarray:
    """Time lost slowing for a turn of deflection ``theta`` (rad) and speeding up again,
    with room enough for both speed changes."""
    u = turn_speed_ms(theta)
    room = np.full(np.shape(u), np.inf)
    loss = _phase_loss_s(v_in_kmh, u, DECEL_MS2, room) + _phase_loss_s(
        v_out_kmh, u, ACCEL_MS2, room
    )
    return np.asarray(loss)


def _phase_loss_s(
    v_kmh: np.ndarray, u_ms: np.ndarray, a_ms2: float, room_m: np.ndarray
) -> np.ndarray:
    """Time lost (s) by one speed change between ``v`` and ``u`` at rate ``a`` within
    ``room_m`` metres: ``(v − u)² / (2 a v)`` when there is room to reach ``v``; on a
    shorter road the car only reaches ``w = sqrt(u² + 2 a room)`` and loses
    ``(w − u) / a − room / v``."""
    v = np.asarray(v_kmh, float) / 3.6
    u = np.minimum(np.asarray(u_ms, float), v)
    room = np.maximum(np.asarray(room_m, float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        full = (v - u) ** 2 / (2 * a_ms2 * v)
        need = (v**2 - u**2) / (2 * a_ms2)
        w = np.sqrt(u**2 + 2 * a_ms2 * room)
        short = (w - u) / a_ms2 - room / v
        out = np.where(need <= room, full, short)
    return np.where(np.isfinite(out) & (v > 0), np.maximum(out, 0.0), 0.0)


def turn_graph(
    graph: RoutingGraph,
    control_wait_s: np.ndarray | None = None,
    control_slow_s: np.ndarray | None = None,
    control_kmh: np.ndarray | None = None,
) -> TurnGraph:
    """Expand a node-based graph at its junctions.

    Parameters
    ----------
    graph
        Routing graph (its ``meta["turn_restrictions"]`` lists restriction relations).
    control_wait_s, control_slow_s, control_kmh
        Per directed edge of ``graph.edges``, its approach control at its head node
        (:func:`msapgeo.profiles.edge_controls`): the wait (s), the slow-down (s) paid
        where the head is not expanded, and the speed (km/h) the control imposes at an
        expanded junction (0 at a stop, :data:`msapgeo.speeds.YIELD_KMH` at a give-way,
        ``inf`` otherwise). Zero waits and no control when not given.

    Returns
    -------
    TurnGraph
    """
    e = graph.edges
    u, v, way = e["u"], e["v"], e["way"]
    n = graph.n_nodes
    m = len(u)
    keep = u != v
    t = np.maximum(e["time_s"], MIN_WEIGHT_S)
    length = e["length_m"]
    lengths = np.stack([length, e["default_m"]])  # carried along every entry of R
    wait = np.zeros(m) if control_wait_s is None else np.asarray(control_wait_s, float)
    slow = np.zeros(m) if control_slow_s is None else np.asarray(control_slow_s, float)
    ctrl_kmh = np.full(m, np.inf) if control_kmh is None else np.asarray(control_kmh, float)

    n_nb = _physical_neighbours(graph)
    restrictions = graph.meta.get("turn_restrictions", []) or []
    via_ids = np.array([r[2] for r in restrictions], np.int64)
    via_nodes = graph.node_index(via_ids) if len(via_ids) else np.zeros(0, np.int64)
    expanded = n_nb >= 3
    expanded[via_nodes[via_nodes >= 0]] = True
    dest = destination_only(graph)[way] & keep
    if dest.any():  # every node a destination-only road touches is expanded
        expanded[u[dest]] = True
        expanded[v[dest]] = True
    dead_end = n_nb == 1

    # states: one per node that is not expanded, one per edge arriving at an expanded node
    node_state = np.full(n, -1, np.int64)
    plain = np.flatnonzero(~expanded)
    node_state[plain] = np.arange(len(plain))
    arr = keep & expanded[v]
    arr_state = np.full(m, -1, np.int64)
    arr_state[arr] = len(plain) + np.arange(int(arr.sum()))
    n_core = len(plain) + int(arr.sum())
    # a destination-only edge has a second arrival state: "entered from outside"
    arr_out = np.full(m, -1, np.int64)
    d_idx = np.flatnonzero(dest & arr)
    arr_out[d_idx] = n_core + np.arange(len(d_idx))
    n_core += len(d_idx)
    head = np.where(arr, arr_state, node_state[v])

    # no start or end states at expanded nodes (node_state is -1 there): see start_ptr
    # and arrive_states
    arrive_node = np.concatenate([plain, v[arr], v[d_idx]])
    arrive_state = np.concatenate([node_state[plain], arr_state[arr], arr_out[d_idx]])
    order = np.argsort(arrive_node, kind="stable")
    arrive_states = arrive_state[order]
    arrive_ptr = np.concatenate([[0], np.cumsum(np.bincount(arrive_node, minlength=n))])

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    ls: list[np.ndarray] = []
    es: list[np.ndarray] = []  # the edge each entry drives
    # an edge arriving at an unexpanded node pays its approach control there
    t_plain_head = t + np.where(expanded[v], 0.0, wait + slow)
    # edges leaving an unexpanded node: from its single state to the edge's head
    out_plain = keep & ~expanded[u]
    rows.append(node_state[u[out_plain]])
    cols.append(head[out_plain])
    ws.append(t_plain_head[out_plain])
    ls.append(lengths[:, out_plain])
    es.append(np.flatnonzero(out_plain))
    # edges leaving an expanded node: by node, for the transitions and the trips that
    # start there (kept aside: no start state in the graph)
    out_exp = keep & expanded[u]
    out_sorted = np.flatnonzero(out_exp)
    out_sorted = out_sorted[np.argsort(u[out_sorted], kind="stable")]
    out_ptr = np.concatenate([[0], np.cumsum(np.bincount(u[out_sorted], minlength=n))])

    # transitions e1 -> e2 at expanded nodes
    e1_idx = np.flatnonzero(arr)
    cnt = np.diff(out_ptr)[v[e1_idx]]
    rep1 = np.repeat(e1_idx, cnt)
    within = np.arange(len(rep1)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    rep2 = out_sorted[out_ptr[v[rep1]] + within]

    # headings: last segment of e1 (direction of travel), first segment of e2
    fv, lv, rev = e["first_vx"], e["last_vx"], e["reversed"]
    in_a = np.where(rev[rep1], fv[rep1] + 1, lv[rep1] - 1)
    in_b = np.where(rev[rep1], fv[rep1], lv[rep1])
    out_a = np.where(rev[rep2], lv[rep2], fv[rep2])
    out_b = np.where(rev[rep2], lv[rep2] - 1, fv[rep2] + 1)
    h_in = _bearing(graph, in_a, in_b)
    h_out = _bearing(graph, out_a, out_b)
    theta = (h_out - h_in + np.pi) % (2 * np.pi) - np.pi
    deg = np.degrees(np.abs(theta))
    oneway_way = graph.way_fwd != graph.way_bwd
    same_back = (way[rep1] == way[rep2]) & (v[rep2] == u[rep1])
    uturn = (
        same_back
        | (deg >= U_TURN_DEG)
        | (oneway_way[way[rep1]] & oneway_way[way[rep2]] & (deg >= ONEWAY_U_TURN_DEG))
    )
    at = v[rep1]
    allowed = ~uturn | dead_end[at]

    # restrictions
    n_via_way = int(graph.meta.get("turn_restrictions_via_way", 0))
    forbidden, n_applied = _restricted(
        restrictions, graph.way_id[way[rep1]], graph.node_osmid[at], graph.way_id[way[rep2]]
    )
    allowed &= ~forbidden

    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = np.where(t > 0, length / t * 3.6, 0.0)
    v_in = _edge_end_speed(graph, e, rep1, at_head=True, fallback=kmh)
    v_out = _edge_end_speed(graph, e, rep2, at_head=False, fallback=kmh)
    # one speed through the junction: the lower of the control's and the turn's
    u_ms = np.minimum(turn_speed_ms(theta), ctrl_kmh[rep1] / 3.6)
    # room to brake on the road arriving and to accelerate on the road leaving: half the
    # road when a junction at its other end may take the other half
    room_in = np.where(expanded[u[rep1]], length[rep1] / 2, length[rep1])
    room_out = np.where(expanded[v[rep2]], length[rep2] / 2, length[rep2])
    cost = (
        wait[rep1]
        + _phase_loss_s(v_in, u_ms, DECEL_MS2, room_in)
        + _phase_loss_s(v_out, u_ms, ACCEL_MS2, room_out)
    )
    cost = np.where(uturn, U_TURN_S, cost)
    sel = allowed
    d1, d2 = dest[rep1], dest[rep2]
    # normal → normal, and inside a zone entered at the start (it may leave the zone)
    plain_move = sel & (~d1 | ~d2) & ~(~d1 & d2)
    rows.append(arr_state[rep1[plain_move]])
    cols.append(head[rep2[plain_move]])
    ws.append(cost[plain_move] + t_plain_head[rep2[plain_move]])
    ls.append(lengths[:, rep2[plain_move]])
    es.append(rep2[plain_move])
    # start-side zone → zone
    zz = sel & d1 & d2
    rows.append(arr_state[rep1[zz]])
    cols.append(arr_state[rep2[zz]])
    ws.append(cost[zz] + t[rep2[zz]])
    ls.append(lengths[:, rep2[zz]])
    es.append(rep2[zz])
    # entering a zone from outside: only the "entered" states, which never leave it
    enter = sel & ~d1 & d2
    rows.append(arr_state[rep1[enter]])
    cols.append(arr_out[rep2[enter]])
    ws.append(cost[enter] + t[rep2[enter]])
    ls.append(lengths[:, rep2[enter]])
    es.append(rep2[enter])
    rows.append(arr_out[rep1[zz]])
    cols.append(arr_out[rep2[zz]])
    ws.append(cost[zz] + t[rep2[zz]])
    ls.append(lengths[:, rep2[zz]])
    es.append(rep2[zz])

    # reversed graph directly (routing runs from the sites): row = head, column = tail
    R, vals = _csr_min(
        np.concatenate(cols),
        np.concatenate(rows),
        np.concatenate(ws),
        np.concatenate([np.concatenate(ls, axis=1), np.concatenate(es)[None, :]]),
        n_core,
    )
    report = {
        "expanded_nodes": int(expanded.sum()),
        "states": n_core,
        "transitions": len(rep1),
        "u_turns_forbidden": int((uturn & ~dead_end[at]).sum()),
        "restrictions_applied": n_applied,
        "destination_only_edges": int(dest.sum()),
        "restrictions_via_way_not_applied": n_via_way,
        "mean_turn_cost_s": float(cost[sel & ~uturn].mean()) if (sel & ~uturn).any() else 0.0,
    }
    return TurnGraph(
        R=R,
        length=vals[0],
        default_m=vals[1],
        start=node_state,
        start_ptr=out_ptr,
        start_head=head[out_sorted],
        start_time_s=t_plain_head[out_sorted],
        start_len=lengths[:, out_sorted],
        arrive_ptr=arrive_ptr,
        arrive_states=arrive_states,
        edge=vals[2].astype(np.int64),
        edge_head=head,
        edge_time_s=t_plain_head,
        report=report,
    )


def _restricted(
    restrictions: list[Any], from_osm: np.ndarray, node_osm: np.ndarray, to_osm: np.ndarray
) -> tuple[np.ndarray, int]:
    """Transitions that restriction relations forbid, and how many relations apply.

    ``restrictions`` holds ``[kind, from way, via node, to way]`` (OSM ids); the
    transitions are given by the OSM ids of their from way, node and to way. ``no_*``
    forbids the transition it names; ``only_*`` every other transition from its ``from``
    way at its ``via`` node (two ``only_*`` relations there naming different ``to`` ways
    leave nothing allowed). A relation applies when some transition leaves its ``from``
    way at its ``via`` node. The transitions are matched by lookups (``numpy.isin``, then
    hashed sets on the few candidates), so the cost grows with their number plus the
    relations', not their product (a region holds tens of thousands of relations).
    """
    forbidden = np.zeros(len(from_osm), bool)
    if not restrictions or len(from_osm) == 0:
        return forbidden, 0
    r_from = np.array([r[1] for r in restrictions], np.int64)
    r_via = np.array([r[2] for r in restrictions], np.int64)
    # the few transitions that leave a restriction's from way at one of the via nodes
    cand = np.flatnonzero(np.isin(from_osm, r_from) & np.isin(node_osm, r_via))
    fv = list(zip(from_osm[cand].tolist(), node_osm[cand].tolist(), strict=True))
    to = to_osm[cand].tolist()
    present = set(fv)
    banned: set[tuple[int, int, int]] = set()
    only: dict[tuple[int, int], set[int]] = {}
    n_applied = 0
    for kind, f_id, via, t_id in restrictions:
        key = (int(f_id), int(via))
        if key not in present:
            continue
        n_applied += 1
        if str(kind).startswith("only_"):
            only.setdefault(key, set()).add(int(t_id))
        else:
            banned.add((*key, int(t_id)))
    for k, (key, t_id) in enumerate(zip(fv, to, strict=True)):
        targets = only.get(key)
        if (*key, t_id) in banned or (targets is not None and targets != {t_id}):
            forbidden[cand[k]] = True
    return forbidden, n_applied


def _edge_end_speed(
    graph: RoutingGraph,
    e: dict[str, np.ndarray],
    idx: np.ndarray,
    *,
    at_head: bool,
    fallback: np.ndarray,
) -> np.ndarray:
    """Speed (km/h) of the segment of each edge that touches its head (or tail) node."""
    fv, lv, rev = e["first_vx"][idx], e["last_vx"][idx], e["reversed"][idx]
    # the last segment travelled (at the head) or the first one (at the tail)
    seg = np.where(rev, fv, lv - 1) if at_head else np.where(rev, lv - 1, fv)
    seg_t = np.where(rev, graph.seg_time_bwd_s[seg], graph.seg_time_fwd_s[seg])
    seg_l = graph.seg_len_m[seg]
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = np.where(seg_t > 0, seg_l / seg_t * 3.6, fallback[idx])
    return np.asarray(kmh)
