"""One before/after type for every change: a site opened or closed, a road closed.

:class:`Comparison` holds both results and one table per origin with ``time_before_min``,
``time_after_min`` and ``delta_min`` (**after − before**: positive is slower), the nearest
site before and after, and who loses or gains access; its ``summary`` has one schema in
people and in minutes (``indicator``, ``population``, ``minutes``, ``communes``). It is
returned by :func:`msapgeo.planning.evaluate` (as :class:`~msapgeo.planning.Evaluation`)
and :func:`msapgeo.scenarios.compare`, and unpacks as ``before, after, communes, summary``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo.fr import fr_number
from msapgeo.i18n import english
from msapgeo.i18n import t as t_


def change_summary(
    table: pd.DataFrame, thresholds: Sequence[float] = (10.0, 20.0, 30.0, 45.0)
) -> pd.DataFrame:
    """The summary of a change, in people and in minutes.

    Parameters
    ----------
    table
        One row per origin: ``time_before_min``, ``time_after_min``, ``population``
        (optional), ``site_before``, ``site_after``.
    thresholds
        Minutes.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``key`` (stable, for scripts), ``indicator`` (the French
        label printed in outputs), ``population`` (inhabitants), ``minutes`` and
        ``communes`` (origins: communes, or population points).
    """
    pop = pd.to_numeric(
        table.get("population", pd.Series(np.nan, index=table.index)), errors="coerce"
    )
    tb, ta = table["time_before_min"], table["time_after_min"]
    nan = float("nan")
    rows: list[dict[str, Any]] = []
    for th in thresholds:
        b, a = tb <= th, ta <= th
        for key, label, sel in (
            ("newly_within", "nouvellement à moins de", a & ~b),
            ("no_longer_within", "ne sont plus à moins de", b & ~a),
        ):
            rows.append(
                {
                    "key": f"{key}_{th:g}min",
                    "indicator": f"{t_(label)} {th:g} min",
                    "population": float(pop[sel].sum()),
                    "minutes": nan,
                    "communes": int(sel.sum()),
                }
            )
    known = pop.notna() & tb.notna() & ta.notna()
    if pop[known].sum() > 0:
        mb = float(np.average(tb[known], weights=pop[known]))
        ma = float(np.average(ta[known], weights=pop[known]))
    else:
        mb = ma = nan
    delta = ta - tb
    gainers = known & (delta < -1e-9)
    losers = known & (delta > 1e-9)

    def mean(sel: pd.Series) -> float:
        return float(np.average(-delta[sel], weights=pop[sel])) if pop[sel].sum() > 0 else nan

    counted = float(pop[known].sum())
    sb = table["site_before"].astype(object).where(table["site_before"].notna(), "")
    sa = table["site_after"].astype(object).where(table["site_after"].notna(), "")
    changes = sb != sa
    lose = tb.notna() & ta.isna()
    gain = tb.isna() & ta.notna()
    rows += [
        {
            "key": "mean_time_before",
            "indicator": t_("temps moyen pondéré par la population, avant"),
            "population": counted,
            "minutes": mb,
            "communes": int(known.sum()),
        },
        {
            "key": "mean_time_after",
            "indicator": t_("temps moyen pondéré par la population, après"),
            "population": counted,
            "minutes": ma,
            "communes": int(known.sum()),
        },
        {
            "key": "mean_time_change",
            "indicator": t_("évolution du temps moyen pondéré (après − avant)"),
            "population": counted,
            "minutes": ma - mb,
            "communes": int(known.sum()),
        },
        {
            "key": "gainers",
            "indicator": t_("habitants qui gagnent du temps : leur gain moyen"),
            "population": float(pop[gainers].sum()),
            "minutes": mean(gainers),
            "communes": int(gainers.sum()),
        },
        {
            "key": "losers",
            "indicator": t_("habitants qui perdent du temps : leur perte moyenne"),
            "population": float(pop[losers].sum()),
            "minutes": -mean(losers),
            "communes": int(losers.sum()),
        },
        {
            "key": "changing_site",
            "indicator": t_("origines qui changent de site le plus proche"),
            "population": float(pop[changes].sum()),
            "minutes": nan,
            "communes": int(changes.sum()),
        },
        {
            "key": "losing_access",
            "indicator": t_("origines qui perdent l'accès à tout site"),
            "population": float(pop[lose].sum()),
            "minutes": nan,
            "communes": int(lose.sum()),
        },
        {
            "key": "gaining_access",
            "indicator": t_("origines qui retrouvent l'accès à un site"),
            "population": float(pop[gain].sum()),
            "minutes": nan,
            "communes": int(gain.sum()),
        },
    ]
    return pd.DataFrame(rows)


@dataclass
class Comparison:
    """A change and its effect (see the module notes).

    Attributes
    ----------
    communes
        One row per origin: its columns and ``time_before_min``, ``time_after_min``,
        ``delta_min`` (after − before), ``site_before``, ``site_after``, ``changes_site``,
        ``loses_access``.
    summary
        :func:`change_summary`.
    sites_before, sites_after
        The sites before and after.
    before, after
        The two nearest-site results, when kept.
    closed_roads
        The ways closed (road scenarios).
    scenario
        The :class:`msapgeo.scenarios.Scenario` of a road scenario (graph, closed ways,
        tags not evaluated), when kept.
    """

    communes: gpd.GeoDataFrame
    summary: pd.DataFrame
    sites_before: gpd.GeoDataFrame | None = None
    sites_after: gpd.GeoDataFrame | None = None
    before: gpd.GeoDataFrame | None = None
    after: gpd.GeoDataFrame | None = None
    closed_roads: pd.DataFrame | None = None
    scenario: Any = None

    def __iter__(self) -> Iterator[Any]:
        """``before, after, communes, summary = comparison``."""
        return iter((self.before, self.after, self.communes, self.summary))

    def site_changes(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """The sites added and the sites removed by the change (matched on ``site_id``;
        empty when the sites before and after are not known)."""
        b, a = self.sites_before, self.sites_after
        if b is None or a is None or "site_id" not in b or "site_id" not in a:
            empty = gpd.GeoDataFrame({"site_id": []}, geometry=[], crs="EPSG:4326")
            return empty, empty
        added = gpd.GeoDataFrame(a[~a["site_id"].isin(b["site_id"])], crs=a.crs)
        removed = gpd.GeoDataFrame(b[~b["site_id"].isin(a["site_id"])], crs=b.crs)
        return added, removed

    def map(self, **kwargs: Any) -> Any:
        """Before/after map (:func:`msapgeo.maps.before_after_map`)."""
        from msapgeo.maps import before_after_map

        empty = gpd.GeoDataFrame({"site_id": []}, geometry=[], crs="EPSG:4326")
        if self.before is not None and self.after is not None:
            before, after = self.before, self.after
        else:
            c = self.communes
            before = c.assign(time_min=c["time_before_min"])
            after = c.assign(time_min=c["time_after_min"])
        if self.closed_roads is not None:
            kwargs.setdefault("title", t_("Fermeture : temps avant et après"))
        return before_after_map(
            before,
            after,
            self.sites_before if self.sites_before is not None else empty,
            self.sites_after if self.sites_after is not None else empty,
            **kwargs,
        )

    def plain_summary(self) -> str:
        """One sentence a council can read: who gains or loses, on average how much."""
        s = self.summary.set_index("key")
        parts = []
        for key, verb in (("gainers", "gagnent"), ("losers", "perdent")):
            row = s.loc[key]
            if row["population"] > 0:
                n, m = fr_number(row["population"]), fr_number(row["minutes"], 1)
                parts.append(t_("{n} habitants {verb} en moyenne {m} min", n=n, verb=t_(verb), m=m))
        lose = s.loc["losing_access"]
        if lose["communes"]:
            n = fr_number(lose["population"])
            parts.append(
                t_(
                    "{k} origine(s), {n} habitants, perdent tout accès",
                    k=int(lose["communes"]),
                    n=n,
                )
            )
        sep = "; " if english() else " ; "
        return (
            (sep.join(parts) + ".") if parts else t_("Aucun habitant ne gagne ni ne perd de temps.")
        )

    def to_excel(self, path: str | Path) -> Path:
        """The origins' table and the summary as a workbook (French headers)."""
        from msapgeo.fileio import atomic_path
        from msapgeo.report import _excel

        with atomic_path(path, suffix=".xlsx") as tmp:
            _excel(
                tmp,
                {
                    "summary": self.summary,
                    "communes": pd.DataFrame(
                        self.communes.drop(columns="geometry", errors="ignore")
                    ),
                },
            )
        return Path(path)
