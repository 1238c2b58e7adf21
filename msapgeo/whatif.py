"""What if: a new site, a closed site, compared on the routing results.

:func:`evaluate` compares two nearest-site runs (before and after adding or removing
sites) and returns a :class:`msapgeo.comparison.Comparison`; candidates are built from
communes' town halls or from points (:func:`sites_from_communes`,
:func:`sites_from_points`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from msapgeo.comparison import Comparison, change_summary
from msapgeo.errors import InputError
from msapgeo.graph import RoutingGraph
from msapgeo.i18n import t as t_
from msapgeo.places import ensure_snapped
from msapgeo.routing import nearest_site


@dataclass
class Evaluation(Comparison):
    """Before/after of a change of sites (a :class:`msapgeo.comparison.Comparison`).

    Attributes
    ----------
    communes
        One row per origin: ``time_before_min``, ``time_after_min``, ``delta_min``
        (after − before), ``gain_min`` (before − after, for reading), ``site_before``,
        ``site_after``, ``changes_site``, ``loses_access`` and the origin's columns.
    summary
        :func:`msapgeo.comparison.change_summary`: people and minutes.
    added, removed
        The sites added and removed.
    """

    added: gpd.GeoDataFrame | None = None
    removed: pd.DataFrame | None = None


def evaluate(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    add: gpd.GeoDataFrame | None = None,
    remove: Sequence[str] = (),
    thresholds: Sequence[float] = (10.0, 20.0, 30.0, 45.0),
    site_id: str = "site_id",
    before: gpd.GeoDataFrame | None = None,
) -> Evaluation:
    """Who gains, and how much, if sites are added or removed.

    Parameters
    ----------
    graph
        Routing graph.
    origins
        Communes (points) with ``population``.
    sites
        Current sites with ``site_id``.
    add
        New sites (points with ``site_id``), see :func:`sites_from_communes`.
    remove
        ``site_id`` values to close.
    thresholds
        Minutes for the "newly within" counts.
    site_id
        Identifier column of the sites.
    before
        The nearest-site run of ``origins`` to ``sites`` when already made (time only;
        :func:`evaluate_plans` routes it once for all its solutions).

    Returns
    -------
    Evaluation
    """
    for what, frame in (("sites", sites), ("add", add)):
        if frame is not None and len(frame) and site_id not in frame.columns:
            raise InputError(
                f"{what} have no {site_id!r} column (columns: {list(frame.columns)}); "
                "name their identifier column with site_id="
            )
    unknown = sorted(set(remove) - set(sites[site_id].astype(str)))
    if unknown:
        raise InputError(f"sites to remove not found: {unknown}")
    o = ensure_snapped(graph, origins)
    s = ensure_snapped(graph, sites)
    after = s[~s[site_id].astype(str).isin(list(remove))]
    added = gpd.GeoDataFrame(geometry=[], crs=sites.crs)
    if add is not None and len(add):
        added = ensure_snapped(graph, add)
        bad = added[added["exclusion"].notna()]
        if len(bad):
            raise InputError(
                "candidate site(s) off the network: "
                + "; ".join(f"{r[site_id]}: {r['exclusion']}" for _, r in bad.iterrows())
            )
        after = pd.concat([after, added], ignore_index=True)
    before_res = (
        nearest_site(graph, o, s, site_id=site_id, distances=False, second=False)
        if before is None
        else before
    )
    after_res = nearest_site(
        graph,
        o,
        gpd.GeoDataFrame(after, crs=sites.crs),
        site_id=site_id,
        distances=False,
        second=False,
    )
    out = o.copy()
    out["site_before"] = before_res["site_id"].to_numpy()
    out["time_before_min"] = before_res["time_min"].to_numpy()
    out["site_after"] = after_res["site_id"].to_numpy()
    out["time_after_min"] = after_res["time_min"].to_numpy()
    out["delta_min"] = out["time_after_min"] - out["time_before_min"]
    out["gain_min"] = -out["delta_min"]
    sb = out["site_before"].astype(object).where(out["site_before"].notna(), "")
    sa = out["site_after"].astype(object).where(out["site_after"].notna(), "")
    out["changes_site"] = sb != sa
    out["loses_access"] = out["time_before_min"].notna() & out["time_after_min"].isna()
    removed = s[s[site_id].astype(str).isin(list(remove))]
    return Evaluation(
        communes=out,
        summary=change_summary(out, thresholds),
        sites_before=gpd.GeoDataFrame(s, crs=sites.crs),
        sites_after=gpd.GeoDataFrame(after, crs=sites.crs),
        before=before_res,
        after=after_res,
        added=added,
        removed=pd.DataFrame(removed),
    )


def sites_from_communes(
    origins: gpd.GeoDataFrame, codes: Sequence[str], *, code_col: str = "insee_com"
) -> gpd.GeoDataFrame:
    """Candidate sites at the town halls of communes given by code.

    Raises
    ------
    InputError
        The origins have no ``code_col`` column, or a code is not among them.
    """
    if code_col not in origins.columns:
        raise InputError(
            f"origins have no {code_col!r} column to find communes by code "
            f"(columns: {list(origins.columns)}); give code_col="
        )
    known = set(origins[code_col].astype(str))
    missing = [c for c in codes if c not in known]
    if missing:
        raise InputError(f"unknown commune code(s) {missing}: not among the {len(known)} communes")
    sel = origins[origins[code_col].astype(str).isin(list(codes))].copy()
    name = sel["nom"] if "nom" in sel.columns else sel.get("name", sel[code_col])
    out = gpd.GeoDataFrame(
        {
            "site_id": "candidate/" + sel[code_col].astype(str),
            "name": t_("Mairie de ") + name.astype(str),
        },
        geometry=sel.geometry.to_numpy(),
        crs=origins.crs,
    )
    return out.reset_index(drop=True)


def sites_from_points(
    lonlat: Sequence[tuple[float, float]], *, prefix: str = "candidate/point"
) -> gpd.GeoDataFrame:
    """Candidate sites at coordinates (longitude, latitude in WGS84)."""
    pts = list(lonlat)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"{prefix}{i}" for i in range(len(pts))],
            "name": [f"{x:.5f}, {y:.5f}" for x, y in pts],
        },
        geometry=gpd.points_from_xy([p[0] for p in pts], [p[1] for p in pts]),
        crs="EPSG:4326",
    )


@dataclass
class Optimisation:
    """The location models' solutions, each with its before/after.

    Attributes
    ----------
    table
        One row per model, ``k`` and threshold (:func:`msapgeo.locations.optimise`):
        objective with its unit, chosen sites by id and name, already covered, gain.
    comparisons
        For each row of ``table`` (same order), the :class:`Evaluation` of opening its
        chosen sites: who gains, in people and minutes, ``.map()``, ``.to_excel()``.
    notes
        What a reader must know: candidates, origins, weight, candidates left out.
    """

    table: pd.DataFrame
    comparisons: list[Evaluation]
    notes: list[str] = field(default_factory=list)

    def comparison(
        self,
        model: str = "maximal_covering",
        k: int | None = None,
        threshold_min: float | None = None,
    ) -> Evaluation:
        """Before/after of one solution: ``model``, at ``k`` new sites (default the
        largest solved) and ``threshold_min`` (default the first)."""
        t = self.table.reset_index(drop=True)
        rows = t[t["model"] == model]
        if k is not None:
            rows = rows[rows["k"] == k]
        if threshold_min is not None:
            rows = rows[rows["threshold_min"] == threshold_min]
        if rows.empty:
            raise InputError(
                f"no {model} solution for k={k}, threshold_min={threshold_min}; "
                f"solved: {sorted(set(t['model']))}"
            )
        if k is None and rows["k"].notna().any():
            rows = rows[rows["k"] == rows["k"].max()]
        return self.comparisons[int(rows.index[0])]


def evaluate_plans(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    table: pd.DataFrame,
    *,
    site_id: str = "site_id",
) -> Optimisation:
    """Evaluate every solution of a location-model table (:func:`evaluate` of opening its
    ``chosen`` candidates; the "before" routed once, one "after" per distinct set).

    Parameters
    ----------
    graph
        Routing graph.
    origins, sites
        As for :func:`evaluate`.
    candidates
        The candidates the models chose from, with ``site_id``.
    table
        Output of :func:`msapgeo.locations.optimise`.
    site_id
        Identifier column of the sites and candidates.

    Returns
    -------
    Optimisation
    """
    ids = candidates[site_id].astype(str)
    o, s = ensure_snapped(graph, origins), ensure_snapped(graph, sites)
    before = nearest_site(graph, o, s, site_id=site_id, distances=False, second=False)
    done: dict[frozenset[str], Evaluation] = {}
    out: list[Evaluation] = []
    for chosen in table["chosen"].astype(str):
        key = frozenset(c.strip() for c in chosen.split(",") if c.strip())
        if key not in done:
            unknown = sorted(key - set(ids))
            if unknown:
                raise InputError(f"chosen site(s) not among the candidates: {unknown}")
            add = candidates[ids.isin(list(key)).to_numpy()]
            done[key] = evaluate(graph, o, s, add=add, site_id=site_id, before=before)
        out.append(done[key])
    return Optimisation(table=table.reset_index(drop=True), comparisons=out)
