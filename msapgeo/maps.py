"""Maps of access results and diagnostics (outputs only): safe with hostile names, offline.

How text reaches the page
-------------------------
folium (through branca) compiles the HTML of every popup, tooltip and element as a
Jinja2 template, so a name such as ``{{ 7*7 }}`` from OpenStreetMap or a CSV would run
as code when a map is written. Here no text from data is ever handed to folium: every
layer is a :class:`DataLayer` whose data is serialised by
:func:`msapgeo.escape.script_json` and read by the page's fixed JavaScript
(:data:`MAP_JS`), which puts text on screen with ``textContent`` only. The rendered
script is added to the page by :class:`_Raw`, an element that is never compiled as a
template. Labels of our own (legend, title, layer names) take the same path.

Offline
-------
:func:`offline_html` inlines Leaflet 1.9.4 (JavaScript, CSS and its images, from the PyPI
package ``django-js-lib-leaflet``, BSD-2-Clause) and drops every CDN link. The base
layer is drawn from the project's own data: commune outlines and the main roads of the
routing graph. OpenStreetMap tiles are offered as an optional layer, off by default.

Large inputs
------------
Beyond :data:`MAX_POINTS` origins, points are aggregated into square cells (1 km, doubled
until there are at most :data:`MAX_POINTS` cells); each cell shows its count and the
median and maximum time. The legend says so.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from msapgeo import settings
from msapgeo.errors import InputError
from msapgeo.escape import html_text, script_json
from msapgeo.fileio import atomic_write_text
from msapgeo.fr import fr_number
from msapgeo.i18n import t as t_

#: Colours of the time classes, from near to far, then unreachable.
CLASS_COLOURS: tuple[str, ...] = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7b3294")
UNREACHABLE_COLOUR = "#555555"
SITE_COLOUR = "#08519c"
NEW_SITE_COLOUR = "#e7298a"
CLOSED_SITE_COLOUR = "#000000"
EXCLUDED_SITE_COLOUR = "#bdbdbd"
GAP_OUTLINE = "#d7191c"
ROAD_COLOUR = "#8c8c8c"
OUTLINE_COLOUR = "#444444"

#: Above this number of origin points a map aggregates them into square cells.
MAX_POINTS = 5_000

#: Road classes drawn in the offline base layer.
BASE_ROAD_CLASSES: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "unclassified",
)

_COORD_DECIMALS = 5  # about 1 m


def time_class_labels(thresholds: Sequence[float]) -> list[str]:
    """Labels of the classes cut at the thresholds (minutes)."""
    t = list(thresholds)
    labels = [f"< {t[0]:g} min"]
    labels += [t_("{a} à {b} min", a=f"{a:g}", b=f"{b:g}") for a, b in pairwise(t)]
    labels.append(f"≥ {t[-1]:g} min")
    return labels


def time_class(time_min: pd.Series, thresholds: Sequence[float]) -> pd.Series:
    """Class index (0 = nearest) of each time; -1 where the time is missing."""
    idx = np.searchsorted(np.asarray(thresholds, float), time_min.to_numpy(float), side="right")
    return pd.Series(np.where(time_min.notna(), idx, -1), index=time_min.index)


# --------------------------------------------------------------------------- page code

#: The page's fixed code. It reads layers and labels as data and writes text with
#: ``textContent`` only. It contains no ``{{``, ``{%`` or ``{#`` (a test checks it).
MAP_JS = r"""
var msapgeo = (function () {
  "use strict";
  var registry = [];
  function el(tag, cls, s) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (s !== undefined && s !== null) { e.textContent = String(s); }
    return e;
  }
  function popup(rows) {
    var d = el("div", "msapgeo-popup");
    rows.forEach(function (r, i) {
      if (i === 0) { d.appendChild(el("div", "msapgeo-popup-title", r[0])); return; }
      var line = el("div", "msapgeo-popup-row");
      line.appendChild(el("span", "msapgeo-k", r[0] + " : "));
      line.appendChild(el("span", "msapgeo-v", r[1]));
      d.appendChild(line);
    });
    return d;
  }
  function layer(map, data, opt) {
    return L.geoJSON(data, {
      interactive: opt.interactive,
      style: function (f) { return (f.properties && f.properties.s) || opt.style || {}; },
      pointToLayer: function (f, ll) {
        return L.circleMarker(ll, (f.properties && f.properties.s) || opt.style || {});
      },
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        if (p.t !== undefined && p.t !== null) {
          l.bindTooltip(el("span", "msapgeo-tip", p.t), { sticky: true });
        }
        if (p.p) { l.bindPopup(function () { return popup(p.p); }, { maxWidth: 340 }); }
        if (p.k) { registry.push({ key: String(p.k).toLowerCase(), layer: l }); }
      }
    });
  }
  function find(map, q) {
    q = String(q || "").trim().toLowerCase();
    if (!q) { return null; }
    var fallback = null;
    for (var i = 0; i < registry.length; i++) {
      if (registry[i].key.indexOf(q) >= 0) {
        if (map.hasLayer(registry[i].layer)) { return registry[i]; }
        fallback = fallback || registry[i];
      }
    }
    return fallback;
  }
  function show(map, hit) {
    var l = hit.layer;
    if (l.getBounds) { map.fitBounds(l.getBounds(), { maxZoom: 13 }); }
    else { map.setView(l.getLatLng(), Math.max(map.getZoom(), 12)); }
    if (map.hasLayer(l)) { l.openPopup(); }
  }
  function swatch(item) {
    var s = el("span", "msapgeo-swatch msapgeo-" + item.shape);
    if (item.shape === "outline") {
      s.style.border = "3px solid " + item.stroke;
      s.style.background = "transparent";
    } else if (item.shape === "line") {
      s.style.borderTop = "3px solid " + item.stroke;
    } else {
      s.style.background = item.fill;
      s.style.border = "1px solid " + (item.stroke || "#333333");
    }
    return s;
  }
  function overlay(map, o) {
    if (o.title) {
      var t = el("div", "msapgeo-title", o.title);
      map.getContainer().appendChild(t);
      document.title = o.title;
    }
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var d = el("div", "msapgeo-legend");
      d.appendChild(el("div", "msapgeo-legend-title", o.legend_title));
      o.items.forEach(function (it) {
        var row = el("div", "msapgeo-legend-row");
        row.appendChild(swatch(it));
        row.appendChild(el("span", null, it.label));
        d.appendChild(row);
      });
      (o.notes || []).forEach(function (n) { d.appendChild(el("div", "msapgeo-note", n)); });
      if (o.sources) { d.appendChild(el("div", "msapgeo-sources", o.sources)); }
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    legend.addTo(map);
    L.control.scale({ metric: true, imperial: false }).addTo(map);
    var search = L.control({ position: "topleft" });
    search.onAdd = function () {
      var d = el("div", "msapgeo-search");
      var input = el("input");
      input.type = "search";
      input.placeholder = o.search_placeholder;
      input.setAttribute("aria-label", o.search_placeholder);
      var msg = el("div", "msapgeo-search-msg");
      input.addEventListener("keydown", function (ev) {
        if (ev.key !== "Enter") { return; }
        var hit = find(map, input.value);
        msg.textContent = hit ? "" : o.search_none;
        if (hit) { show(map, hit); }
      });
      d.appendChild(input);
      d.appendChild(msg);
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    search.addTo(map);
    if (location.hash.indexOf("#q=") === 0) {
      var hit = find(map, decodeURIComponent(location.hash.slice(3)));
      if (hit) { show(map, hit); }
    }
  }
  return { layer: layer, overlay: overlay, find: find };
})();
"""

MAP_CSS = """
.msapgeo-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 1000; background: rgba(255,255,255,0.92); padding: 6px 14px; border-radius: 4px;
  font: 600 15px system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
  max-width: 60%; text-align: center; }
.msapgeo-legend { background: white; padding: 8px 10px; border: 1px solid #999;
  border-radius: 4px; font: 12px system-ui, sans-serif; max-width: 260px; }
.msapgeo-legend-title { font-weight: 600; margin-bottom: 4px; }
.msapgeo-legend-row { display: flex; align-items: center; margin: 2px 0; }
.msapgeo-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
  flex: none; }
.msapgeo-circle { border-radius: 50%; }
.msapgeo-line { height: 0; width: 16px; }
.msapgeo-note, .msapgeo-sources { color: #555; margin-top: 4px; font-size: 11px; }
.msapgeo-search input { width: 200px; padding: 4px 6px; font: 13px system-ui, sans-serif; }
.msapgeo-search-msg { color: #a00; font: 11px system-ui, sans-serif; }
.msapgeo-popup { font: 12px system-ui, sans-serif; }
.msapgeo-popup-title { font-weight: 600; font-size: 13px; margin-bottom: 3px; }
.msapgeo-k { color: #555; }
"""


class _Raw(Element):
    """An element whose text is written as it is: never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _SafeMacro(MacroElement):
    """A MacroElement whose rendered macros are added as :class:`_Raw`, never recompiled.

    branca adds a MacroElement's rendered ``header``/``html``/``script`` macros to the page
    as ``Element(text)``, which compiles ``text`` as a template a second time. Here the
    output of the (constant) template is added verbatim.
    """

    def __init__(self) -> None:
        MacroElement.__init__(self)

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a map element must belong to a Figure before it is rendered")
        module = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html)):
            macro = module.get(part)
            if macro is not None:
                target.add_child(_Raw(str(macro(self, kwargs))), name=self.get_name())
        script = module.get("script")
        if script is not None:
            figure.script.add_child(_Raw(str(script(self, kwargs))), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Assets(_SafeMacro):
    _template = Template(
        "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>"
        "<script>{{ this.js }}</script>{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MsapgeoAssets"
        self.css = MAP_CSS
        self.js = MAP_JS


class DataLayer(_SafeMacro, Layer):
    """A switchable layer of GeoJSON features drawn by the page's fixed code.

    Parameters
    ----------
    features
        GeoJSON features (``dict``) whose ``properties`` may hold ``s`` (Leaflet path
        style), ``t`` (tooltip text), ``p`` (popup rows ``[[title], [label, value], …]``)
        and ``k`` (search key). Every string is data: it is shown as text, never markup.
    name
        Name in the layer control.
    show
        Whether the layer is on when the page opens.
    interactive
        Whether its features take clicks and hovers.
    style
        Default path style.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = msapgeo.layer({{ this._parent.get_name() }}, "
        "{{ this.payload }}, {{ this.options_json }});"
        "{% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});"
        "{% endif %}{% endmacro %}"
    )

    def __init__(
        self,
        features: list[dict[str, Any]],
        *,
        name: str,
        show: bool = True,
        interactive: bool = True,
        style: dict[str, Any] | None = None,
    ) -> None:
        Layer.__init__(self, name=html_text(name), overlay=True, control=True, show=show)
        self._name = "MsapgeoLayer"
        self.payload = script_json({"type": "FeatureCollection", "features": features})
        self.options_json = script_json({"interactive": interactive, "style": style or {}})
        self.n_features = len(features)


class Overlay(_SafeMacro):
    """Title, legend (symbols equal to the map's), notes, sources and commune search."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "msapgeo.overlay({{ this._parent.get_name() }}, {{ this.payload }});"
        "{% endmacro %}"
    )

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "MsapgeoOverlay"
        self.payload = script_json(payload)


class Map(folium.Map):
    """A folium map that shows itself offline in Jupyter (Leaflet inlined, no CDN)."""

    def _repr_html_(self, **kwargs: Any) -> str:
        doc = html.escape(offline_html(self), quote=True)
        return f'<iframe style="width:100%;height:560px;border:none" srcdoc="{doc}"></iframe>'


# --------------------------------------------------------------------------- features


def _round(coords: Any) -> Any:
    if isinstance(coords, float):
        return round(coords, _COORD_DECIMALS)
    return [_round(c) for c in coords]


def _geometry(geom: Any) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    g = shapely.geometry.mapping(geom)
    return {"type": g["type"], "coordinates": _round(g["coordinates"])}


def _features(
    gdf: gpd.GeoDataFrame,
    style: Callable[[pd.Series], dict[str, Any]] | dict[str, Any] | None = None,
    tooltip: Callable[[pd.Series], str] | None = None,
    popup: Callable[[pd.Series], list[list[str]]] | None = None,
    key: Callable[[pd.Series], str] | None = None,
) -> list[dict[str, Any]]:
    out = []
    for _, row in gdf.iterrows():
        geom = _geometry(row.geometry)
        if geom is None:
            continue
        props: dict[str, Any] = {}
        if style is not None:
            props["s"] = style(row) if callable(style) else style
        if tooltip is not None:
            props["t"] = tooltip(row)
        if popup is not None:
            props["p"] = popup(row)
        if key is not None:
            props["k"] = key(row)
        out.append({"type": "Feature", "geometry": geom, "properties": props})
    return out


def _name_col(df: pd.DataFrame, names: Iterable[str] = ("nom", "name", "id")) -> str | None:
    return next((c for c in names if c in df.columns), None)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _time_text(t: Any) -> str:
    return fr_number(t, 1, "min")


def _site_details(row: pd.Series, key: str, suffix: str) -> list[list[str]]:
    """Type, address and weekly opening of the nearest (``site``) or second (``site2``)
    site, as popup rows."""
    out = []
    for col, label in (("type", t_("Type")), ("address", t_("Adresse"))):
        value = row.get(f"{key}_{col}")
        if value is not None and pd.notna(value) and str(value).strip():
            out.append([label + t_(suffix) if suffix else label, _text(value)])
    hours = row.get(f"{key}_hours_week")
    if hours is not None and pd.notna(hours):
        out.append(
            [
                t_("Ouverture") + (t_(suffix) if suffix else ""),
                fr_number(hours, 1, t_("h par semaine")),
            ]
        )
    return out


def _origin_popup(name_col: str | None) -> Callable[[pd.Series], list[list[str]]]:
    def rows(row: pd.Series) -> list[list[str]]:
        out = [[_text(row[name_col]) if name_col else _text(row.get("id"))]]
        if "insee_com" in row and pd.notna(row["insee_com"]):
            out.append([t_("Code commune"), _text(row["insee_com"])])
        if pd.notna(row.get("time_min")):
            out.append([t_("Temps"), _time_text(row["time_min"])])
            if "dist_km" in row:
                out.append([t_("Distance"), fr_number(row.get("dist_km"), 1, "km")])
            site = row.get("site_name", row.get("site_id"))
            out.append([t_("Site le plus proche"), _text(site)])
            out += _site_details(row, "site", "")
            if pd.notna(row.get("time2_min")):
                site2 = row.get("site2_name", row.get("site2_id"))
                out.append([t_("2e site"), f"{_text(site2)} ({_time_text(row['time2_min'])})"])
                out += _site_details(row, "site2", " (2e site)")
        if "population" in row and pd.notna(row["population"]):
            out.append([t_("Population"), fr_number(row["population"], 0, t_("hab."))])
        if pd.notna(row.get("exclusion")):
            out.append(["Exclu", _text(row["exclusion"])])
        return out

    return rows


def _site_popup(row: pd.Series) -> list[list[str]]:
    name = row.get("name", row.get("site_id", ""))
    out = [[_text(name)]]
    for key, label in (
        ("type_fs", "Type"),
        ("format_fs", "Format"),
        ("role", t_("Rôle")),
        ("adresse", t_("Adresse")),
        ("address", t_("Adresse")),
    ):
        if key in row and pd.notna(row[key]):
            out.append([label, _text(row[key])])
    for d in ("h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi"):
        if d in row:
            v = row[d]
            out.append([d[2:].capitalize(), _text(v) if pd.notna(v) and str(v) else t_("fermé")])
    if "weekly_hours" in row and pd.notna(row["weekly_hours"]):
        out.append([t_("Ouverture hebdomadaire"), fr_number(row["weekly_hours"], 1, "h")])
    if "exclusion" in row and pd.notna(row["exclusion"]):
        out.append(["Exclu", _text(row["exclusion"])])
    return out


def _site_features(sites: gpd.GeoDataFrame, colour: str, cls: str) -> list[dict[str, Any]]:
    def style(row: pd.Series) -> dict[str, Any]:
        excluded = "exclusion" in row and pd.notna(row["exclusion"])
        return {
            "radius": 8,
            "color": "#ffffff",
            "weight": 2,
            "fillColor": EXCLUDED_SITE_COLOUR if excluded else colour,
            "fillOpacity": 1.0,
            "className": cls,
        }

    return _features(
        sites,
        style,
        tooltip=lambda r: _text(r.get("name", r.get("site_id", ""))),
        popup=_site_popup,
        key=lambda r: f"{_text(r.get('name', ''))} {_text(r.get('site_id', ''))}",
    )


def _clean(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = gdf.to_crs(settings.default_crs)
    return g[g.geometry.notna() & ~g.geometry.is_empty]


def _new_map(bounds_from: gpd.GeoSeries) -> Map:
    m = Map(tiles=None, control_scale=False, prefer_canvas=False)  # metric scale: MAP_JS
    folium.TileLayer(
        "OpenStreetMap", name=t_("Fond OpenStreetMap (en ligne)"), show=False, overlay=False
    ).add_to(m)
    ok = bounds_from[bounds_from.notna() & ~bounds_from.is_empty]
    if len(ok):
        minx, miny, maxx, maxy = ok.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    _Assets().add_to(m)
    return m


def _add_base(
    m: Map, edges: gpd.GeoDataFrame | None, outlines: gpd.GeoDataFrame | None
) -> list[dict[str, Any]]:
    """Offline base layer: commune outlines and main roads. Returns its legend items."""
    items = []
    if outlines is not None and len(outlines):
        o = _clean(outlines)
        o = o[o.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(o):
            DataLayer(
                _features(o.assign(geometry=o.geometry.boundary)),
                name=t_("Limites communales"),
                interactive=False,
                style={"color": OUTLINE_COLOUR, "weight": 0.8, "opacity": 0.8},
            ).add_to(m)
            items.append(
                {"label": t_("limite communale"), "shape": "line", "stroke": OUTLINE_COLOUR}
            )
    if edges is not None and len(edges):
        e = edges[edges["highway"].isin(BASE_ROAD_CLASSES)] if "highway" in edges else edges
        e = _clean(e)
        if len(e):
            e = e.assign(geometry=e.geometry.simplify(0.0001))
            DataLayer(
                _features(e[["geometry"]]),
                name=t_("Routes principales"),
                interactive=False,
                style={"color": ROAD_COLOUR, "weight": 1.5, "opacity": 0.8},
            ).add_to(m)
            items.append({"label": t_("route principale"), "shape": "line", "stroke": ROAD_COLOUR})
    return items


def _finish(
    m: Map,
    title: str,
    legend_title: str,
    items: list[dict[str, Any]],
    notes: Sequence[str] = (),
) -> Map:
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    Overlay(
        {
            "title": title,
            "legend_title": legend_title,
            "items": items,
            "notes": list(notes),
            "sources": t_("© contributeurs OpenStreetMap (ODbL), ANCT, INSEE"),
            "search_placeholder": t_("Rechercher une commune, un site…"),
            "search_none": t_("Aucun résultat"),
        }
    ).add_to(m)
    return m


def _class_items(th: Sequence[float]) -> list[dict[str, Any]]:
    labels = time_class_labels(th)
    return [
        {"label": lab, "shape": "square", "fill": col, "stroke": "#333333"}
        for lab, col in zip(labels, CLASS_COLOURS[: len(labels)], strict=False)
    ]


# --------------------------------------------------------------------------- aggregation


def aggregate_points(
    points: gpd.GeoDataFrame, max_cells: int = MAX_POINTS, cell_m: float = 1_000.0
) -> gpd.GeoDataFrame:
    """Aggregate points with ``time_min`` into square cells of the metric CRS.

    The cell side starts at ``cell_m`` and doubles until there are at most ``max_cells``
    cells. Each cell: its points' mean position, ``n`` points, ``time_min`` (median) and
    ``time_max_min``, ``n_no_time`` points without a time, ``cell_m``.
    """
    p = _clean(points).to_crs(settings.metric_crs)
    x, y = p.geometry.x.to_numpy(), p.geometry.y.to_numpy()
    side = cell_m
    while True:
        key = np.floor(x / side).astype(np.int64) * 1_000_003 + np.floor(y / side).astype(np.int64)
        if len(np.unique(key)) <= max_cells:
            break
        side *= 2
    df = pd.DataFrame({"key": key, "x": x, "y": y, "t": p["time_min"].to_numpy(float)})
    g = df.groupby("key")
    cells = pd.DataFrame(
        {
            "x": g["x"].mean(),
            "y": g["y"].mean(),
            "n": g.size(),
            "time_min": g["t"].median(),
            "time_max_min": g["t"].max(),
            "n_no_time": g["t"].apply(lambda s: int(s.isna().sum())),
        }
    )
    cells["cell_m"] = side
    out = gpd.GeoDataFrame(
        cells.reset_index(drop=True),
        geometry=gpd.points_from_xy(cells["x"], cells["y"]),
        crs=settings.metric_crs,
    )
    return out.drop(columns=["x", "y"]).to_crs(settings.default_crs)


def _origin_layer(
    m: Map,
    origins: gpd.GeoDataFrame,
    th: Sequence[float],
    name: str,
    show: bool = True,
    label_prefix: str = "",
) -> list[str]:
    """Add origins coloured by time class; aggregated beyond :data:`MAX_POINTS`."""
    o = _clean(origins)
    colours = list(CLASS_COLOURS[: len(th) + 1])
    notes: list[str] = []
    if len(o) > MAX_POINTS:
        cells = aggregate_points(o)
        side = float(cells["cell_m"].iloc[0]) if len(cells) else 0.0
        notes.append(
            t_(
                "{n} points regroupés en {c} carrés de {side} km (médiane des temps)",
                n=fr_number(len(o)),
                c=fr_number(len(cells)),
                side=f"{side / 1000:g}",
            )
        )
        cls = time_class(cells["time_min"], th)
        cells = cells.assign(_k=cls.to_numpy())
        feats = _features(
            cells,
            lambda r: {
                "radius": 5,
                "color": "#222222",
                "weight": 0.5,
                "fillColor": colours[int(r["_k"])] if r["_k"] >= 0 else UNREACHABLE_COLOUR,
                "fillOpacity": 0.9,
            },
            tooltip=lambda r: (
                label_prefix
                + t_("{n} points : médiane {t}", n=int(r["n"]), t=_time_text(r["time_min"]))
            ),
            popup=lambda r: [
                [f"{int(r['n'])} points"],
                [t_("Temps médian"), _time_text(r["time_min"])],
                [t_("Temps maximal"), _time_text(r["time_max_min"])],
                ["Sans temps", str(int(r["n_no_time"]))],
            ],
        )
    else:
        name_col = _name_col(o)
        cls = time_class(o["time_min"], th)
        o = o.assign(_k=cls.to_numpy())
        feats = _features(
            o,
            lambda r: {
                "radius": 6,
                "color": "#222222",
                "weight": 1,
                "fillColor": colours[int(r["_k"])] if r["_k"] >= 0 else UNREACHABLE_COLOUR,
                "fillOpacity": 0.9,
            },
            tooltip=lambda r: (
                label_prefix
                + (_text(r[name_col]) if name_col else "")
                + " : "
                + (_time_text(r["time_min"]) if pd.notna(r["time_min"]) else t_("pas de temps"))
            ),
            popup=_origin_popup(name_col),
            key=lambda r: " ".join(
                _text(r.get(c)) for c in (name_col, "insee_com", "id") if c and c in r
            ),
        )
    DataLayer(feats, name=name, show=show).add_to(m)
    return notes


def access_map(
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
    title: str | None = None,
    edges: gpd.GeoDataFrame | None = None,
    outlines: gpd.GeoDataFrame | None = None,
    notes: Sequence[str] = (),
) -> Map:
    """Origins coloured by time class, sites, an offline base layer, legend and search.

    Parameters
    ----------
    origins
        Output of :func:`msapgeo.routing.nearest_site` (``time_min``).
    sites
        Sites (snapped or not).
    thresholds
        Class limits in minutes (default :data:`msapgeo.settings.thresholds_min`).
    title
        Map title.
    edges
        Road edges (``highway``); the main classes form the base layer.
    outlines
        Commune polygons for the base layer.
    notes
        Lines added under the legend.

    Returns
    -------
    Map
        A folium map; write it with :func:`save_offline`.
    """
    th = list(thresholds or settings.thresholds_min)
    title = title or t_("Temps de route jusqu'au site le plus proche")
    o = _clean(origins)
    m = _new_map(o.geometry if len(o) else _clean(sites).geometry)
    items = _add_base(m, edges, outlines)
    more = _origin_layer(m, o, th, t_("Origines (classe de temps)"))
    DataLayer(_site_features(_clean(sites), SITE_COLOUR, "msapgeo-site"), name=t_("Sites")).add_to(
        m
    )
    items += [
        *_class_items(th),
        {"label": t_("pas de temps (exclu)"), "shape": "square", "fill": UNREACHABLE_COLOUR},
        {"label": t_("site"), "shape": "circle", "fill": SITE_COLOUR, "stroke": "#ffffff"},
        {"label": t_("site exclu"), "shape": "circle", "fill": EXCLUDED_SITE_COLOUR},
    ]
    return _finish(m, title, t_("Temps de route"), items, [*notes, *more])


# ------------------------------------------------------------------------- hillshade

#: Sun of the hillshade: azimuth and altitude (degrees), the cartographic convention
#: (light from the north-west, 45° above the horizon).
HILLSHADE_AZIMUTH_DEG = 315.0
HILLSHADE_ALTITUDE_DEG = 45.0
#: Largest side (pixels) of the hillshade image embedded in a map.
HILLSHADE_MAX_PX = 600


def hillshade(
    dem: Any, bounds: tuple[float, float, float, float], max_px: int = HILLSHADE_MAX_PX
) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
    """Shaded relief of a DEM over ``bounds`` (west, south, east, north; degrees).

    The DEM is sampled on a regular grid of at most ``max_px`` pixels a side; slopes are
    measured in metres (the grid spacing times the length of a degree at that
    latitude) and lit by :data:`HILLSHADE_AZIMUTH_DEG` / :data:`HILLSHADE_ALTITUDE_DEG`
    (Horn's gradients, the ESRI/GDAL formula). Returns the 0–1 shade (NaN without DEM
    coverage) and its bounds, or ``None`` when the DEM covers none of it.
    """
    w, s, e, n = bounds
    if not (e > w and n > s):
        return None
    aspect = (e - w) * np.cos(np.radians((s + n) / 2)) / (n - s)
    nx = int(max(2, min(max_px, round(max_px * min(1.0, aspect)))))
    ny = int(max(2, min(max_px, round(max_px * min(1.0, 1 / aspect)))))
    lon = np.linspace(w, e, nx)
    lat = np.linspace(n, s, ny)  # north up
    glon, glat = np.meshgrid(lon, lat)
    z = np.asarray(dem.sample(glon.ravel(), glat.ravel()), float).reshape(ny, nx)
    if not np.isfinite(z).any():
        return None
    dx = (lon[1] - lon[0]) * 111_320.0 * np.cos(np.radians(glat))
    dy = (lat[0] - lat[1]) * 110_574.0
    zf = np.where(np.isfinite(z), z, np.nanmean(z))
    # rows run north to south: d/drow is the south-minus-north gradient, as in ESRI's
    # window formula, and the aspect is atan2(dz/dy, -dz/dx) there
    gy, gx = np.gradient(zf)
    dzdx, dzdy = gx / dx, gy / dy
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect_r = np.arctan2(dzdy, -dzdx)
    az = np.radians(360.0 - HILLSHADE_AZIMUTH_DEG + 90.0)
    alt = np.radians(HILLSHADE_ALTITUDE_DEG)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect_r)
    shade = np.clip(shade, 0.0, 1.0)
    shade[~np.isfinite(z)] = np.nan
    return shade, (w, s, e, n)


def _png_data_uri(shade: np.ndarray) -> str:
    """A grey, partly transparent PNG of a 0–1 shade (transparent where NaN)."""
    import base64
    import io

    import matplotlib.image as mpimg

    grey = np.nan_to_num(shade, nan=1.0)
    rgba = np.zeros((*shade.shape, 4))
    rgba[..., 0] = rgba[..., 1] = rgba[..., 2] = grey
    rgba[..., 3] = np.where(np.isfinite(shade), 0.55 * (1.0 - grey) + 0.15, 0.0)
    buf = io.BytesIO()
    mpimg.imsave(buf, rgba, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class HillshadeLayer(_SafeMacro, Layer):
    """A shaded-relief image drawn under the vector layers (offline: the PNG is in the
    page). Its only inputs are numbers: the image and its bounds."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = L.imageOverlay({{ this.url }}, {{ this.bounds }}, "
        '{interactive: false, className: "msapgeo-hillshade"});'
        "{{ this.get_name() }}.addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, url: str, bounds: tuple[float, float, float, float], name: str) -> None:
        Layer.__init__(self, name=html_text(name), overlay=True, control=True, show=True)
        self._name = "MsapgeoHillshade"
        w, s, e, n = bounds
        self.url = script_json(url)
        self.bounds = script_json([[s, w], [n, e]])


def _add_hillshade(m: Map, dem: Any, frame: gpd.GeoSeries) -> list[dict[str, Any]]:
    """The DEM's shaded relief over the map's frame, when the DEM covers it."""
    if dem is None or frame.empty:
        return []
    w, s, e, n = frame.total_bounds
    pad_x, pad_y = 0.05 * (e - w) + 0.01, 0.05 * (n - s) + 0.01
    res = hillshade(dem, (w - pad_x, s - pad_y, e + pad_x, n + pad_y))
    if res is None:
        return []
    shade, bounds = res
    HillshadeLayer(_png_data_uri(shade), bounds, t_("Relief (MNT)")).add_to(m)
    return [
        {
            "label": t_("relief ombré (MNT)"),
            "shape": "square",
            "fill": "#8c8c8c",
            "stroke": "#8c8c8c",
        }
    ]


def diagnostic_map(
    communes: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
    gap_threshold: float = 30.0,
    title: str | None = None,
    edges: gpd.GeoDataFrame | None = None,
    notes: Sequence[str] = (),
    points: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    dem: Any = None,
) -> Map:
    """Choropleth of time classes, gap communes outlined in red, sites, legend, search.

    ``dem``: a :class:`msapgeo.dem.DEM`; its shaded relief is drawn under the layers where
    it covers the map (:func:`hillshade`).

    ``isochrones``: rings of :func:`msapgeo.isochrones.isochrones` as a layer (off at first).

    ``points``: routed population points (``time_min``), drawn as a layer of their own
    (aggregated beyond :data:`MAX_POINTS`).

    Communes with a polygon are filled; communes known only as points are drawn as
    circles. Gap communes (``time_min > gap_threshold``) get a thick red outline; excluded
    communes (no time) are grey and are not gap communes.
    """
    th = list(thresholds or settings.thresholds_min)
    title = title or t_("Temps d'accès à la France services la plus proche")
    c = _clean(communes)
    labels = time_class_labels(th)
    colours = list(CLASS_COLOURS[: len(labels)])
    cls = time_class(c["time_min"], th)
    c = c.assign(_k=cls.to_numpy(), _gap=(c["time_min"] > gap_threshold).to_numpy())
    m = _new_map(c.geometry)
    items = _add_hillshade(m, dem, c.geometry) + _add_base(m, edges, None)
    name_col = _name_col(c, ("nom", "name", "insee_com"))

    def style(r: pd.Series) -> dict[str, Any]:
        fill = colours[int(r["_k"])] if r["_k"] >= 0 else UNREACHABLE_COLOUR
        gap = bool(r["_gap"])
        return {
            "fillColor": fill,
            "fillOpacity": 0.75,
            "color": GAP_OUTLINE if gap else OUTLINE_COLOUR,
            "weight": 3.5 if gap else 0.6,
            "radius": 7,
        }

    feats = _features(
        c,
        style,
        tooltip=lambda r: (
            (_text(r[name_col]) if name_col else "")
            + " : "
            + (_time_text(r["time_min"]) if pd.notna(r["time_min"]) else t_("pas de temps"))
        ),
        popup=_origin_popup(name_col),
        key=lambda r: " ".join(_text(r.get(x)) for x in (name_col, "insee_com") if x and x in r),
    )
    DataLayer(feats, name=t_("Communes (classe de temps)")).add_to(m)
    more: list[str] = []
    if isochrones is not None and len(isochrones):
        iso = _clean(isochrones)
        iso_colours = dict(zip(iso["to_min"], CLASS_COLOURS, strict=False))
        DataLayer(
            _features(
                iso,
                lambda r: {
                    "fillColor": iso_colours.get(r["to_min"], UNREACHABLE_COLOUR),
                    "fillOpacity": 0.35,
                    "color": "#333333",
                    "weight": 0.5,
                },
                tooltip=lambda r: t_("Isochrone : {label}", label=r["label"]),
            ),
            name=t_("Isochrones (10, 20, 30 min)"),
            show=False,
        ).add_to(m)
    if points is not None and len(points):
        more = _origin_layer(m, points, th, "Habitants (points de population)", show=False)
    DataLayer(
        _site_features(_clean(sites), SITE_COLOUR, "msapgeo-site"), name=t_("France services")
    ).add_to(m)
    items += [
        *_class_items(th),
        {
            "label": t_("pas de temps (exclue, non comptée)"),
            "shape": "square",
            "fill": UNREACHABLE_COLOUR,
        },
        {
            "label": t_("commune à plus de {t} min", t=f"{gap_threshold:g}"),
            "shape": "outline",
            "stroke": GAP_OUTLINE,
        },
        {"label": "France services", "shape": "circle", "fill": SITE_COLOUR, "stroke": "#ffffff"},
        {"label": t_("site exclu (voir rapport)"), "shape": "circle", "fill": EXCLUDED_SITE_COLOUR},
    ]
    return _finish(m, title, "Temps de route", items, [*notes, *more])


def before_after_map(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    sites_before: gpd.GeoDataFrame,
    sites_after: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
    title: str | None = None,
    closed_roads: gpd.GeoDataFrame | None = None,
    edges: gpd.GeoDataFrame | None = None,
) -> Map:
    """Two switchable layers, before and after a change; new, closed and kept sites apart.

    ``before`` and ``after`` are point GeoDataFrames with ``time_min`` (same origins).
    Sites present only after are drawn as new, present only before as closed; sites are
    matched on ``site_id``.
    """
    for what, frame in (("before", before), ("after", after)):
        if "time_min" not in frame.columns:
            raise InputError(
                f"before_after_map: the {what} origins have no 'time_min' column "
                "(give nearest-site results, or a frame with time_min)"
            )
    th = list(thresholds or settings.thresholds_min)
    title = title or t_("Temps de route avant et après")
    sb, sa = _clean(sites_before), _clean(sites_after)
    m = _new_map(_clean(before).geometry)
    items = _add_base(m, edges, None)
    if closed_roads is not None and len(closed_roads):
        DataLayer(
            _features(_clean(closed_roads)[["geometry"]]),
            name=t_("Routes fermées"),
            interactive=False,
            style={"color": "#000000", "weight": 4, "opacity": 0.9, "dashArray": "6 4"},
        ).add_to(m)
        items.append({"label": t_("route fermée"), "shape": "line", "stroke": "#000000"})
    notes = _origin_layer(
        m, before, th, t_("Avant : origines"), show=False, label_prefix=t_("avant — ")
    )
    notes += _origin_layer(m, after, th, t_("Après : origines"), label_prefix=t_("après — "))
    ids_b = set(sb["site_id"].astype(str)) if "site_id" in sb else set()
    ids_a = set(sa["site_id"].astype(str)) if "site_id" in sa else set()
    kept = sa[sa["site_id"].astype(str).isin(ids_b)] if "site_id" in sa else sa
    new = sa[~sa["site_id"].astype(str).isin(ids_b)] if "site_id" in sa else sa.iloc[:0]
    closed = sb[~sb["site_id"].astype(str).isin(ids_a)] if "site_id" in sb else sb.iloc[:0]
    DataLayer(_site_features(kept, SITE_COLOUR, "msapgeo-site"), name=t_("Sites maintenus")).add_to(
        m
    )
    if len(new):
        DataLayer(
            _site_features(new, NEW_SITE_COLOUR, "msapgeo-site msapgeo-new"),
            name=t_("Sites ajoutés"),
        ).add_to(m)
    if len(closed):
        DataLayer(
            _site_features(closed, CLOSED_SITE_COLOUR, "msapgeo-site msapgeo-closed"),
            name=t_("Sites fermés"),
        ).add_to(m)
    items += [
        *_class_items(th),
        {"label": t_("pas de temps"), "shape": "square", "fill": UNREACHABLE_COLOUR},
        {"label": t_("site maintenu"), "shape": "circle", "fill": SITE_COLOUR, "stroke": "#ffffff"},
        {
            "label": t_("site ajouté"),
            "shape": "circle",
            "fill": NEW_SITE_COLOUR,
            "stroke": "#ffffff",
        },
        {"label": t_("site fermé"), "shape": "circle", "fill": CLOSED_SITE_COLOUR},
    ]
    return _finish(m, title, t_("Temps de route (couche « après » affichée)"), items, notes)


# --------------------------------------------------------------------------- offline page


def _leaflet_assets() -> tuple[str, str]:
    root = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    return js, css


def offline_html(m: folium.Map) -> str:
    """Render a map as one self-contained HTML page (Leaflet inlined, no CDN)."""
    page = m.get_root().render()
    js, css = _leaflet_assets()
    page = re.sub(
        r'<script src="[^"]*leaflet(?:@[\d.]+)?/dist/leaflet\.js"></script>',
        lambda _m: f"<script>/* Leaflet 1.9.4, BSD-2-Clause */\n{js}</script>",
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
    """Write :func:`offline_html` to a file, atomically."""
    p = Path(path)
    atomic_write_text(p, offline_html(m))
    return p
