"""Scenarios on the road graph: closures (way id, name/ref, polygon) and winter closures.

A scenario returns a modified graph (no rebuild from the extract: the ways' driving
directions are switched off) and the table of ways it closed, with the reason. Compare
the nearest-site results before and after with :func:`scenario_report`.

Winter closures read the way tags kept by the network builder:

* ``seasonal=summer`` or ``seasonal=yes`` with ``winter_road`` absent: closed in winter;
* ``winter_road=yes``: a road that exists only in winter, closed outside winter;
* ``snowplowing=no``: not cleared, closed in winter;
* ``access:conditional``, ``motor_vehicle:conditional``, ``motorcar:conditional``,
  ``vehicle:conditional`` of the form ``no @ (<dates>)`` with month or date ranges
  (``Nov-May``, ``Nov 15-May 15``, ``Dec 01-Mar 31``, several separated by ``,``) or
  the word ``winter``; conditions that are not dates (``snow``, ``weight>7.5``) are
  reported as not evaluated, never applied.

Winter is :data:`WINTER` (1 December – 31 March) unless given.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from msapgeo.comparison import Comparison, change_summary
from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
#: Default winter: (month, day) start and end, inclusive.
WINTER: tuple[tuple[int, int], tuple[int, int]] = ((12, 1), (3, 31))
CONDITIONAL_KEYS = (
    "access:conditional",
    "motor_vehicle:conditional",
    "motorcar:conditional",
    "vehicle:conditional",
)
_DATE = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+(\d{1,2}))?"
_RANGE = re.compile(rf"^\s*{_DATE}\s*-\s*{_DATE}\s*$", re.IGNORECASE)


@dataclass
class Scenario:
    """A modified graph and the ways it closed.

    Attributes
    ----------
    graph
        The graph with the closed ways switched off.
    closed
        One row per closed way: ``osm_way_id``, ``name``, ``ref``, ``highway``, ``reason``.
    not_evaluated
        Conditional tags that could not be evaluated (not date conditions).
    """

    graph: RoutingGraph
    closed: pd.DataFrame
    not_evaluated: pd.DataFrame


def _ways_table(graph: RoutingGraph, mask: np.ndarray, reason: str | np.ndarray) -> pd.DataFrame:
    idx = np.flatnonzero(mask)
    reasons = np.broadcast_to(np.asarray(reason, dtype=object), (len(mask),))[idx]
    return pd.DataFrame(
        {
            "osm_way_id": graph.way_id[idx],
            "name": graph.way_name[idx],
            "ref": graph.way_ref[idx],
            "highway": graph.way_highway[idx],
            "reason": reasons,
        }
    ).drop_duplicates("osm_way_id")


def close_roads(
    graph: RoutingGraph,
    *,
    way_ids: Sequence[int] = (),
    names: Sequence[str] = (),
    refs: Sequence[str] = (),
    polygon: shapely.Geometry | None = None,
    reason: str = "closure",
) -> Scenario:
    """Close ways by OSM id, by exact ``name`` or ``ref``, or crossing a polygon (WGS84).

    Raises
    ------
    InputError
        Nothing matches one of the ids, names or refs given (it names them).
    """
    mask = np.zeros(graph.n_ways, bool)
    why = np.full(graph.n_ways, "", dtype=object)
    for label, values, col in (
        ("way id", way_ids, graph.way_id),
        ("name", names, graph.way_name),
        ("ref", refs, graph.way_ref),
    ):
        for v in values:
            hit = col == (int(v) if label == "way id" else v)
            if not hit.any():
                raise InputError(f"no drivable way with {label} {v!r} in the graph")
            why[hit & ~mask] = f"{reason}: {label} {v}"
            mask |= hit
    if polygon is not None:
        vx_in = shapely.contains_xy(polygon, graph.vx_lon, graph.vx_lat)
        hit = np.zeros(graph.n_ways, bool)
        hit[graph.vx_way[vx_in]] = True
        if not hit.any():
            raise InputError("no drivable way crosses the closure polygon")
        why[hit & ~mask] = f"{reason}: inside polygon"
        mask |= hit
    g = graph.without_ways(mask, reason=reason)
    return Scenario(
        g, _ways_table(graph, mask, why), pd.DataFrame(columns=["osm_way_id", "tag", "value"])
    )


def _in_range(date: dt.date, start: tuple[int, int], end: tuple[int, int]) -> bool:
    d = (date.month, date.day)
    if start <= end:
        return start <= d <= end
    return d >= start or d <= end  # wraps over the new year


def parse_date_ranges(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]] | None:
    """Parse ``Nov-May``, ``Nov 15-May 15``, ``Dec 01-Mar 31`` (comma/semicolon lists).

    Returns ``None`` when the text is not made of date ranges.
    """
    out = []
    for part in re.split(r"[,;]", text):
        p = part.strip()
        if not p:
            continue
        if p.lower() == "winter":
            out.append(WINTER)
            continue
        m = _RANGE.match(p)
        if not m:
            return None
        m1, d1, m2, d2 = m.groups()
        start = (MONTHS[m1[:3].lower()], int(d1) if d1 else 1)
        end_month = MONTHS[m2[:3].lower()]
        last = 31 if end_month in (1, 3, 5, 7, 8, 10, 12) else (29 if end_month == 2 else 30)
        end = (end_month, int(d2) if d2 else last)
        out.append((start, end))
    return out or None


def winter_closures(
    graph: RoutingGraph,
    date: dt.date | str,
    *,
    winter: tuple[tuple[int, int], tuple[int, int]] = WINTER,
) -> Scenario:
    """Close the ways that OSM tags say are closed to cars on ``date``.

    Parameters
    ----------
    graph
        Routing graph (its ways keep the seasonal and conditional tags).
    date
        The day (``datetime.date`` or ISO ``"2026-01-15"``).
    winter
        Months and days taken as winter for ``seasonal``, ``snowplowing`` and ``winter``.
    """
    day = dt.date.fromisoformat(date) if isinstance(date, str) else date
    is_winter = _in_range(day, *winter)
    mask = np.zeros(graph.n_ways, bool)
    why = np.full(graph.n_ways, "", dtype=object)
    skipped = []
    for i, raw in enumerate(graph.way_tags):
        if (
            "seasonal" not in raw
            and "winter_road" not in raw
            and "snowplowing" not in raw
            and (":conditional" not in raw)
        ):
            continue
        tags = json.loads(raw)
        reason = None
        seasonal = tags.get("seasonal", "")
        if tags.get("winter_road") == "yes":
            if not is_winter:
                reason = "winter_road=yes (exists only in winter)"
        elif seasonal in ("summer", "yes") and is_winter:
            reason = f"seasonal={seasonal}"
        elif tags.get("snowplowing") == "no" and is_winter:
            reason = "snowplowing=no"
        for key in CONDITIONAL_KEYS:
            value = tags.get(key)
            if not value or reason:
                continue
            for rule in value.split(";"):
                if "@" not in rule:
                    continue
                what, cond = rule.split("@", 1)
                if what.strip().lower() not in ("no", "private"):
                    continue
                cond = cond.strip().strip("()")
                ranges = parse_date_ranges(cond)
                if ranges is None:
                    skipped.append({"osm_way_id": graph.way_id[i], "tag": key, "value": value})
                    continue
                if any(_in_range(day, a, b) for a, b in ranges):
                    reason = f"{key}={value}"
                    break
        if reason:
            mask[i] = True
            why[i] = reason
    g = graph.without_ways(mask, reason=f"winter closures on {day.isoformat()}")
    return Scenario(
        g,
        _ways_table(graph, mask, why),
        pd.DataFrame(skipped, columns=["osm_way_id", "tag", "value"]),
    )


def scenario_report(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] = (20.0, 30.0),
    id_col: str = "id",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who loses access or crosses a threshold between two nearest-site results.

    Parameters
    ----------
    before, after
        Outputs of :func:`msapgeo.routing.nearest_site` on the same origins.
    thresholds
        Minutes.
    id_col
        Origin identifier column.

    Returns
    -------
    (communes, summary)
        ``communes``: origins whose time or site changed, with ``time_before_min``,
        ``time_after_min``, ``delta_min``, ``loses_access`` and ``crosses_<T>min``;
        ``summary``: :func:`msapgeo.comparison.change_summary` (people and minutes).
    """
    if len(before) != len(after):
        raise InputError("before and after must be results on the same origins")
    pop = pd.to_numeric(
        before.get("population", pd.Series(np.nan, index=before.index)), errors="coerce"
    )
    df = pd.DataFrame(
        {
            id_col: before[id_col].to_numpy() if id_col in before.columns else before.index,
            "name": before.get(
                "nom", before.get("name", pd.Series("", index=before.index))
            ).to_numpy(),
            "population": pop.to_numpy(),
            "site_before": before["site_id"].to_numpy(),
            "site_after": after["site_id"].to_numpy(),
            "time_before_min": before["time_min"].to_numpy(),
            "time_after_min": after["time_min"].to_numpy(),
        }
    )
    df["delta_min"] = df["time_after_min"] - df["time_before_min"]
    df["loses_access"] = df["time_before_min"].notna() & df["time_after_min"].isna()
    for th in thresholds:
        df[f"crosses_{th:g}min"] = (df["time_before_min"] <= th) & ~(df["time_after_min"] <= th)
    site_b = df["site_before"].astype(object).where(df["site_before"].notna(), "")
    site_a = df["site_after"].astype(object).where(df["site_after"].notna(), "")
    changed = (df["delta_min"].abs() > 1e-9) | df["loses_access"] | (site_b != site_a)
    changed_rows = df[changed].sort_values("delta_min", ascending=False)
    return changed_rows, change_summary(df, thresholds)


def _resnap(g2: RoutingGraph, before: gpd.GeoDataFrame, raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Snapping after a scenario: the same vertex while it stays on the main network,
    else the nearest component of :data:`msapgeo.settings.min_component_nodes` nodes or
    more (a valley cut off keeps its own roads), so that a closure moves no point that it
    does not cut off."""
    from msapgeo.places import snap

    again = snap(g2, raw, components="all")
    keep = (
        np.isin(before["node_osmid"].to_numpy(), g2.vx_osmid[g2.vx_in_lscc])
        & before["exclusion"].isna().to_numpy()
    )
    out = again.copy()
    for col in ("node_osmid", "snap_m", "snap_time_s", "exclusion"):
        out.loc[keep, col] = before.loc[keep, col].to_numpy()
    return out


def compare(
    graph: RoutingGraph,
    scenario: Scenario,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] = (20.0, 30.0),
    id_col: str = "id",
    site_id: str = "site_id",
) -> Comparison:
    """Route before and after a scenario and report the effects.

    Before, places snap to the largest strongly connected component of ``graph``; after,
    they snap to whichever component of the scenario graph they lie on (a valley cut off
    by a closure keeps its own roads and sites), see :func:`msapgeo.places.snap`.

    Returns
    -------
    Comparison
        Unpacks as ``before, after, communes, summary``: the two nearest-site results,
        the origins whose time or site changed (:func:`scenario_report`) and the summary
        in people and minutes (:func:`msapgeo.comparison.change_summary`).
    """
    from msapgeo.places import snap
    from msapgeo.routing import nearest_site

    raw_o = origins.drop(columns=["node_osmid", "snap_m", "snap_time_s"], errors="ignore")
    raw_s = sites.drop(columns=["node_osmid", "snap_m", "snap_time_s"], errors="ignore")
    o1, s1 = snap(graph, raw_o), snap(graph, raw_s)
    before = nearest_site(graph, o1, s1, site_id=site_id)
    g2 = scenario.graph
    after = nearest_site(g2, _resnap(g2, o1, raw_o), _resnap(g2, s1, raw_s), site_id=site_id)
    communes, summary = scenario_report(before, after, thresholds=thresholds, id_col=id_col)
    return Comparison(
        communes=communes,
        summary=summary,
        sites_before=sites,
        sites_after=sites,
        before=before,
        after=after,
        closed_roads=scenario.closed,
    )


def closure(
    graph: RoutingGraph,
    *,
    way_ids: Sequence[int] = (),
    names: Sequence[str] = (),
    refs: Sequence[str] = (),
    polygon: shapely.Geometry | None = None,
    winter: dt.date | str | None = None,
) -> Scenario:
    """Every closure asked at once: ways by id, name, ref or polygon
    (:func:`close_roads`), then the ways OSM tags close on a ``winter`` date
    (:func:`winter_closures`), the closed ways and the tags not evaluated gathered.

    Raises
    ------
    InputError
        Nothing to close was asked.
    """
    closed, skipped = [], []
    g = graph
    if way_ids or names or refs or polygon is not None:
        sc = close_roads(g, way_ids=way_ids, names=names, refs=refs, polygon=polygon)
        g = sc.graph
        closed.append(sc.closed)
    if winter is not None:
        sc = winter_closures(g, winter)
        g = sc.graph
        closed.append(sc.closed)
        skipped.append(sc.not_evaluated)
    if not closed:
        raise InputError("nothing to close: give way ids, names, refs, a polygon or a winter date")
    return Scenario(
        g,
        pd.concat(closed, ignore_index=True),
        pd.concat(skipped, ignore_index=True) if skipped else pd.DataFrame(),
    )


def closed_road_geometry(
    graph: RoutingGraph, closed: pd.DataFrame, edges: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame | None:
    """Lines of the closed ways (``osm_way_id`` of ``closed``), for maps and GeoPackages;
    ``edges``: the graph's :meth:`~msapgeo.graph.RoutingGraph.edges_gdf` when already made."""
    if closed is None or not len(closed) or "osm_way_id" not in closed.columns:
        return None
    e = graph.edges_gdf() if edges is None else edges
    if "osm_way_id" not in e.columns:
        return None
    return e[e["osm_way_id"].isin(closed["osm_way_id"])]
