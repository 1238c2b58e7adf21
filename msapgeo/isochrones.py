"""Isochrones: the zones reached within 10, 20, 30 minutes of the nearest site.

Built from the routing results, never by routing again on their own: the time of every
node to its nearest site (:func:`msapgeo.routing.node_times`) gives, for each threshold,
the road pieces whose two ends are reached in time; those pieces, widened by
:data:`ROAD_BAND_M` on each side (the strip a resident reaches on foot from the road), are
merged into one zone per threshold. The zones are then cut into rings (``0–10``,
``10–20``, ``20–30`` min). Areas far from any road are in no zone: an isochrone here is
where the *road* is reached in time, as on a planner's map.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from msapgeo import settings
from msapgeo.graph import RoutingGraph, _ranges
from msapgeo.routing import node_times

#: Half-width (m) of the band kept on each side of a road reached in time.
ROAD_BAND_M = 300.0


def isochrones(
    graph: RoutingGraph,
    sites: gpd.GeoDataFrame,
    thresholds: Sequence[float] = (10.0, 20.0, 30.0),
    *,
    band_m: float = ROAD_BAND_M,
) -> gpd.GeoDataFrame:
    """Zones within each threshold of the nearest site, as rings.

    Parameters
    ----------
    graph
        Routing graph (any profile).
    sites
        Sites (snapped or not).
    thresholds
        Minutes, increasing.
    band_m
        Half-width of the band around the roads reached in time.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per ring: ``from_min``, ``to_min``, ``label`` (French), ``area_km2`` and the
        polygon (EPSG:4326).
    """
    g, t = node_times(graph, sites)
    e = g.edges
    u, v = e["u"], e["v"]
    first, last = e["first_vx"], e["last_vx"]
    vx = _ranges(first, last + 1)
    piece = np.repeat(np.arange(len(first)), last - first + 1)
    lines = shapely.linestrings(np.column_stack([g.vx_lon[vx], g.vx_lat[vx]]), indices=piece)
    geoms = gpd.GeoSeries(lines, crs=settings.default_crs).to_crs(settings.metric_crs)
    reach = np.maximum(t[u], t[v])
    rows = []
    prev = None
    lo = 0.0
    for th in sorted(thresholds):
        sel = np.isfinite(reach) & (reach <= th)
        if sel.any():
            zone = shapely.union_all(shapely.buffer(geoms.values[sel], band_m, quad_segs=4))
        else:
            zone = shapely.Polygon()
        ring = zone if prev is None else shapely.difference(zone, prev)
        rows.append(
            {
                "from_min": lo,
                "to_min": float(th),
                "label": f"{lo:g} à {th:g} min" if lo else f"moins de {th:g} min",
                "area_km2": float(shapely.area(ring)) / 1e6,
                "geometry": ring,
            }
        )
        prev, lo = zone, float(th)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.metric_crs)
    return out.to_crs(settings.default_crs)
