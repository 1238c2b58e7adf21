"""End-to-end access runs: OSM extract + origins + sites → nearest-site table.

This module only chains the stages (network → places → routing) and collects every
excluded row with its reason; it computes nothing of its own. The graph cache
(:mod:`msapgeo.graphcache`) and the inputs of a département or an extract
(:mod:`msapgeo.inputs`) are re-exported here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from msapgeo import settings
from msapgeo.graph import RoutingGraph
from msapgeo.graphcache import graph_cache_path, load_graph
from msapgeo.inputs import (
    covered_by_graph,
    demo_inputs,
    demo_places,
    departement_extract,
    departement_inputs,
    place_territories,
)
from msapgeo.places import snap
from msapgeo.routing import is_unreachable, nearest_site, route_default_share

__all__ = [
    "AccessResult",
    "covered_by_graph",
    "demo_inputs",
    "demo_places",
    "departement_extract",
    "departement_inputs",
    "exclusions_table",
    "graph_cache_path",
    "load_graph",
    "place_territories",
    "run_access",
]


@dataclass
class AccessResult:
    """Result of an access run.

    Attributes
    ----------
    graph
        The routing graph used.
    origins
        One row per origin with ``site_id``, ``time_min``, ``dist_km``, ``reachable``,
        ``site2_id``, ``time2_min``, ``snap_m``, ``exclusion``.
    sites
        One row per site with ``node_osmid``, ``snap_m`` and ``exclusion``.
    meta
        Run metadata (inputs, settings, timings), written into every output.
    """

    graph: RoutingGraph
    origins: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def exclusions(self) -> pd.DataFrame:
        """Every origin or site left out of the routing, with its reason."""
        return exclusions_table(origins=self.origins, sites=self.sites)

    def summary(self) -> dict[str, Any]:
        """Counts, median and maximum time (minutes), unreachable origins."""
        o = self.origins
        t = o["time_min"].dropna()
        return {
            "origins": len(o),
            "origins_routed": int(o["reachable"].sum()),
            "origins_excluded": int(o["exclusion"].notna().sum()),
            "sites": len(self.sites),
            "sites_routed": int(self.sites["exclusion"].isna().sum()),
            "median_time_min": float(t.median()) if len(t) else float("nan"),
            "max_time_min": float(t.max()) if len(t) else float("nan"),
            "unreachable": int(is_unreachable(o["exclusion"]).sum()),
        }


def exclusions_table(**frames: pd.DataFrame) -> pd.DataFrame:
    """Stack the excluded rows of several frames: ``kind``, ``id``, ``name``, ``reason``."""
    rows = []
    for kind, df in frames.items():
        if "exclusion" not in df.columns:
            continue
        sel = df[df["exclusion"].notna()]
        order = ("site_id", "id", "insee_com") if "site" in kind else ("insee_com", "id", "site_id")
        ids = _first_col(sel, (*order, "osm_id"))
        names = _first_col(sel, ("name", "nom"))
        rows.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "id": ids.astype(str).to_numpy(),
                    "name": names.astype(str).to_numpy(),
                    "reason": sel["exclusion"].astype(str).to_numpy(),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=["kind", "id", "name", "reason"])
    return pd.concat(rows, ignore_index=True)


def _first_col(df: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    for n in names:
        if n in df.columns:
            return df[n]
    return pd.Series([str(i) for i in df.index], index=df.index)


def run_access(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    site_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> AccessResult:
    """Snap origins and sites and route every origin to its nearest site.

    Parameters
    ----------
    graph
        Routing graph.
    origins, sites
        Point GeoDataFrames; rows with an ``exclusion`` are carried, not routed.
    site_id
        Identifier column of the sites.
    meta
        Metadata to carry into outputs.
    """
    t0 = time.perf_counter()
    o = snap(graph, origins)
    s = snap(graph, sites)
    res = nearest_site(graph, o, s, site_id=site_id)
    res["profile"] = graph.meta.get("profile", "legal")
    info = {
        "profile": graph.meta.get("profile", "legal"),
        "maxspeed_tagged_share": graph.meta.get("maxspeed_tagged_share"),
        "route_default_speed_share": route_default_share(res),
        "profile_report": graph.meta.get("profile_report"),
        "graph": {k: graph.meta.get(k) for k in ("source_file", "source_sha256", "osm_timestamp")},
        "snap_tolerance_m": settings.snap_tolerance_m,
        "offnetwork_speed_kmh": settings.offnetwork_speed_kmh,
        "routing_s": round(time.perf_counter() - t0, 3),
        **(meta or {}),
    }
    return AccessResult(graph=graph, origins=res, sites=s, meta=info)
