"""Folium maps of access results and diagnostics (outputs only), viewable offline.

Folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs. :func:`save_offline`
inlines Leaflet 1.9.4 (JavaScript, CSS and its images, from the PyPI package
``django-js-lib-leaflet``, BSD-2-Clause) and drops the other links, which these maps do
not use (sites are drawn as circle markers, popups and the layer control are Leaflet's).
The basemap tiles still come from OpenStreetMap when online; offline the background is
blank but every layer, popup and the legend work.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from importlib import resources
from itertools import pairwise
from pathlib import Path

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
    add_sites(m, s)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        _legend(title, [*labels, "no time (excluded)"], [*colours, UNREACHABLE_COLOUR])
    )
    return m


SITE_COLOUR = "#08519c"


def _site_popup(row: pd.Series) -> str:
    parts = [f"<b>{html.escape(str(row.get('name', row.get('site_id', ''))))}</b>"]
    for key, label in (("type_fs", "type"), ("format_fs", "format"), ("role", "role")):
        if key in row and pd.notna(row[key]):
            parts.append(f"{label}: {html.escape(str(row[key]))}")
    days = [
        d
        for d in ("h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi")
        if d in row
    ]
    for d in days:
        v = row[d]
        parts.append(f"{d[2:]}: {html.escape(str(v)) if pd.notna(v) and str(v) else 'closed'}")
    if "weekly_hours" in row and pd.notna(row["weekly_hours"]):
        parts.append(f"<b>weekly: {row['weekly_hours']:.1f} h</b>")
    if "exclusion" in row and pd.notna(row["exclusion"]):
        parts.append(f"<i>{html.escape(str(row['exclusion']))}</i>")
    return "<br>".join(parts)


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame, name: str = "sites") -> None:
    """Add sites as square-looking circle markers with popups (type, hours, weekly total)."""
    fg = folium.FeatureGroup(name=name)
    for _, row in sites.iterrows():
        excluded = "exclusion" in row and pd.notna(row["exclusion"])
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=8,
            color="white",
            weight=2,
            fill=True,
            fill_color="#999999" if excluded else SITE_COLOUR,
            fill_opacity=1.0,
            tooltip=html.escape(str(row.get("name", row.get("site_id", "")))),
            popup=folium.Popup(_site_popup(row), max_width=320),
            class_name="msapgeo-site",
        ).add_to(fg)
    fg.add_to(m)


def diagnostic_map(
    communes: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
    gap_threshold: float = 30.0,
    title: str = "Time to the nearest France services",
) -> folium.Map:
    """Choropleth of time classes, gap communes outlined, sites with popups, legend.

    Communes with a polygon are filled; communes known only as points are drawn as
    circles. Gap communes (``time_min > gap_threshold`` or no time) get a thick red outline.
    """
    th = list(thresholds or settings.thresholds_min)
    c = communes.to_crs(settings.default_crs)
    labels = time_class_labels(th)
    colours = list(CLASS_COLOURS[: len(labels)])
    cls = time_class(c["time_min"], th)
    c = c.assign(
        _colour=[colours[k] if k >= 0 else UNREACHABLE_COLOUR for k in cls],
        _gap=(c["time_min"].isna() | (c["time_min"] > gap_threshold)).to_numpy(),
    )
    minx, miny, maxx, maxy = pd.concat(
        [c.geometry, sites.to_crs(settings.default_crs).geometry]
    ).total_bounds
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    name = next((x for x in ("nom", "name", "insee_com") if x in c.columns), "insee_com")
    fields = [
        x
        for x in (name, "insee_com", "population", "time_min", "site_name", "epci_nom")
        if x in c.columns
    ]
    keep = c[[*dict.fromkeys([*fields, "_colour", "_gap"]), "geometry"]].copy()
    for col in fields:
        if col == "time_min":
            keep[col] = keep[col].round(1)
        keep[col] = keep[col].astype(object).where(keep[col].notna(), None)
    polys = keep[keep.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    points = keep[keep.geometry.geom_type == "Point"]
    fg = folium.FeatureGroup(name="communes (time class)")
    if len(polys):
        folium.GeoJson(
            polys.to_json(),
            style_function=lambda f: {
                "fillColor": f["properties"]["_colour"],
                "fillOpacity": 0.75,
                "color": "#d7191c" if f["properties"]["_gap"] else "#444444",
                "weight": 3.5 if f["properties"]["_gap"] else 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=fields),
        ).add_to(fg)
    for _, row in points.iterrows():
        t = row.get("time_min")
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=7,
            color="#d7191c" if row["_gap"] else "#222222",
            weight=3 if row["_gap"] else 1,
            fill=True,
            fill_color=row["_colour"],
            fill_opacity=0.9,
            tooltip=f"{html.escape(str(row[name]))}: "
            + (f"{t:.1f} min" if t is not None and pd.notna(t) else "no time"),
        ).add_to(fg)
    fg.add_to(m)
    add_sites(m, sites.to_crs(settings.default_crs))
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        _legend(
            title,
            [
                *labels,
                "no time (excluded or unreachable)",
                f"gap commune (> {gap_threshold:g} min)",
                "France services site",
            ],
            [*colours, UNREACHABLE_COLOUR, "#ffffff; border:3px solid #d7191c", SITE_COLOUR],
        )
    )
    return m


def _leaflet_assets() -> tuple[str, str]:
    root = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    return js, css


#: The two jQuery uses in folium's templates: ``$(`<div>…</div>`)[0]`` (popups) and
#: ``$(document).ready(fn)``. This shim replaces jQuery for them.
JQUERY_SHIM = """<script>/* msapgeo: minimal $ for folium templates (no jQuery needed offline) */
window.$ = window.$ || function (arg) {
  if (typeof arg === "string") {
    var t = document.createElement("template");
    t.innerHTML = arg.trim();
    return [t.content.firstElementChild];
  }
  return { ready: function (fn) {
    if (document.readyState !== "loading") { fn(); }
    else { document.addEventListener("DOMContentLoaded", fn); }
  } };
};
</script>"""


def offline_html(m: folium.Map) -> str:
    """Render a folium map as one self-contained HTML page (Leaflet inlined, no CDN)."""
    page = m.get_root().render()
    js, css = _leaflet_assets()
    page = re.sub(
        r'<script src="[^"]*leaflet(?:@[\d.]+)?/dist/leaflet\.js"></script>',
        lambda _m: f"<script>/* Leaflet 1.9.4, BSD-2-Clause */\n{js}</script>{JQUERY_SHIM}",
        page,
    )
    page = re.sub(
        r'<link rel="stylesheet" href="[^"]*leaflet(?:@[\d.]+)?/dist/leaflet\.css"/>',
        lambda _m: f"<style>{css}</style>",
        page,
    )
    page = re.sub(r'<script src="https?://[^"]+"></script>\s*', "", page)
    page = re.sub(r'<link rel="stylesheet" href="https?://[^"]+"/>\s*', "", page)
    return page


def save_offline(m: folium.Map, path: str | Path) -> Path:
    """Write :func:`offline_html` to a file."""
    p = Path(path)
    p.write_text(offline_html(m), encoding="utf-8")
    return p


def before_after_map(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    sites_before: gpd.GeoDataFrame,
    sites_after: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
    title: str = "Road time to the nearest site",
) -> folium.Map:
    """Two switchable layers, before and after a change, with their sites and one legend.

    ``before`` and ``after`` are point GeoDataFrames with ``time_min`` (same origins).
    """
    th = list(thresholds or settings.thresholds_min)
    labels = time_class_labels(th)
    colours = list(CLASS_COLOURS[: len(labels)])
    pts = pd.concat([before.geometry, sites_before.geometry, sites_after.geometry])
    pts = pts[pts.notna() & ~pts.is_empty]
    minx, miny, maxx, maxy = pts.total_bounds
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    name_col = next((c for c in ("nom", "name", "id") if c in before.columns), None)
    for label, res, sites, show in (
        ("before", before, sites_before, False),
        ("after", after, sites_after, True),
    ):
        fg = folium.FeatureGroup(name=f"{label}: origins", show=show)
        ok = res.geometry.notna() & ~res.geometry.is_empty
        for (_, row), k in zip(
            res[ok].iterrows(), time_class(res.loc[ok, "time_min"], th), strict=True
        ):
            t = row["time_min"]
            name = html.escape(str(row[name_col])) if name_col else ""
            folium.CircleMarker(
                location=[row.geometry.y, row.geometry.x],
                radius=6,
                color="#222222",
                weight=1,
                fill=True,
                fill_color=colours[k] if k >= 0 else UNREACHABLE_COLOUR,
                fill_opacity=0.9,
                tooltip=f"{label} — {name}: " + (f"{t:.1f} min" if pd.notna(t) else "no time"),
            ).add_to(fg)
        fg.add_to(m)
        add_sites(m, sites.to_crs(settings.default_crs), name=f"{label}: sites")
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        _legend(title, [*labels, "no time", "site"], [*colours, UNREACHABLE_COLOUR, SITE_COLOUR])
    )
    return m
