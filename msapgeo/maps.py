"""Folium maps of access results (outputs only)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import pairwise

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from msapgeo import settings

#: Colours of the time classes, from near to far, then unreachable.
CLASS_COLOURS: tuple[str, ...] = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7b3294")
UNREACHABLE_COLOUR = "#555555"


def time_class_labels(thresholds: Sequence[float]) -> list[str]:
    """Labels of the classes cut at the thresholds (minutes)."""
    t = list(thresholds)
    labels = [f"< {t[0]:g} min"]
    labels += [f"{a:g}–{b:g} min" for a, b in pairwise(t)]
    labels.append(f"≥ {t[-1]:g} min")
    return labels


def time_class(time_min: pd.Series, thresholds: Sequence[float]) -> pd.Series:
    """Class index (0 = nearest) of each time; -1 where the time is missing."""
    idx = np.searchsorted(np.asarray(thresholds, float), time_min.to_numpy(float), side="right")
    return pd.Series(np.where(time_min.notna(), idx, -1), index=time_min.index)


def _popup(label: str, t: float, row: pd.Series) -> str:
    if pd.notna(t):
        site = html.escape(str(row.get("site_id")))
        return f"<b>{label}</b><br>time: {t:.1f} min<br>site: {site}"
    return f"<b>{label}</b><br>{html.escape(str(row.get('exclusion')))}"


def _legend(title: str, labels: list[str], colours: list[str]) -> Element:
    items = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;'
        f'background:{c};margin-right:6px;border:1px solid #333"></span>{html.escape(lab)}</div>'
        for lab, c in zip(labels, colours, strict=True)
    )
    return Element(
        '<div class="msapgeo-legend" style="position:fixed;bottom:24px;left:24px;z-index:9999;'
        "background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;"
        f'font:12px sans-serif"><b>{html.escape(title)}</b>{items}</div>'
    )


def access_map(
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
    title: str = "Road time to the nearest site",
    edges: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Map origins coloured by time class, sites as markers, with a legend.

    Parameters
    ----------
    origins
        Output of :func:`msapgeo.routing.nearest_site`.
    sites
        Sites (snapped or not).
    thresholds
        Class limits in minutes (default :data:`msapgeo.settings.thresholds_min`).
    title
        Legend title.
    edges
        Optional road edges to draw under the points.

    Returns
    -------
    folium.Map
    """
    th = list(thresholds or settings.thresholds_min)
    o = origins.to_crs(settings.default_crs)
    o = o[o.geometry.notna() & ~o.geometry.is_empty]
    s = sites.to_crs(settings.default_crs)
    s = s[s.geometry.notna() & ~s.geometry.is_empty]
    both = pd.concat([o.geometry, s.geometry])
    minx, miny, maxx, maxy = both.total_bounds
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    if edges is not None and len(edges):
        fg_e = folium.FeatureGroup(name="roads", show=True)
        folium.GeoJson(
            edges[["highway", "speed_kmh", "geometry"]].to_json(),
            style_function=lambda _f: {"color": "#888888", "weight": 1.5, "opacity": 0.6},
        ).add_to(fg_e)
        fg_e.add_to(m)
    cls = time_class(o["time_min"], th)
    labels = time_class_labels(th)
    colours = list(CLASS_COLOURS[: len(labels)])
    fg_o = folium.FeatureGroup(name="origins (time class)")
    name_col = next((c for c in ("nom", "name", "id") if c in o.columns), None)
    for (_, row), k in zip(o.iterrows(), cls, strict=True):
        colour = colours[k] if k >= 0 else UNREACHABLE_COLOUR
        t = row["time_min"]
        label = html.escape(str(row[name_col])) if name_col else ""
        tip = f"{label}: {t:.1f} min" if pd.notna(t) else f"{label}: {row.get('exclusion')}"
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=6,
            color="#222222",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=tip,
            popup=folium.Popup(_popup(label, t, row), max_width=300),
        ).add_to(fg_o)
    fg_o.add_to(m)
    fg_s = folium.FeatureGroup(name="sites")
    s_name = next((c for c in ("name", "nom", "site_id") if c in s.columns), None)
    for _, row in s.iterrows():
        label = html.escape(str(row[s_name])) if s_name else ""
        folium.Marker(
            location=[row.geometry.y, row.geometry.x],
            tooltip=label,
            icon=folium.Icon(color="blue", icon="info-sign"),
        ).add_to(fg_s)
    fg_s.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        _legend(title, [*labels, "no time (excluded)"], [*colours, UNREACHABLE_COLOUR])
    )
    return m
