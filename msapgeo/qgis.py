"""QGIS styles stored in a GeoPackage (``layer_styles``), so that layers open coloured.

QGIS reads the default style of a layer from the ``layer_styles`` table of its
GeoPackage. The styles here are written as QML from the same classes and colours as the
maps (:data:`msapgeo.maps.CLASS_COLOURS`): communes, population points and isochrones
graduated on their time, sites as blue dots; which layer gets which style is the
project's table ``data/qgis_styles.json``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from msapgeo.escape import html_text
from msapgeo.maps import CLASS_COLOURS


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _symbol(name: str, kind: str, colour: str) -> str:
    if kind == "fill":
        layer = (
            '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
            f'<Option name="color" type="QString" value="{_rgba(colour)}"/>'
            '<Option name="outline_color" type="QString" value="68,68,68,255"/>'
            '<Option name="outline_width" type="QString" value="0.26"/>'
            '<Option name="style" type="QString" value="solid"/></Option></layer>'
        )
    else:
        layer = (
            '<layer class="SimpleMarker" enabled="1" pass="0" locked="0"><Option type="Map">'
            f'<Option name="color" type="QString" value="{_rgba(colour)}"/>'
            '<Option name="name" type="QString" value="circle"/>'
            '<Option name="outline_color" type="QString" value="255,255,255,255"/>'
            '<Option name="size" type="QString" value="2.6"/></Option></layer>'
        )
    return f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1">{layer}</symbol>'


def graduated_qml(
    field: str, limits: Sequence[float], kind: str = "fill", unit: str = "min"
) -> str:
    """QML of a graduated renderer on ``field`` with the map's classes and colours."""
    bounds = [0.0, *limits, 1e9]
    ranges, symbols = [], []
    for i, (lo, hi) in enumerate(pairwise(bounds)):
        if i == 0:
            label = f"moins de {hi:g} {unit}"
        elif hi >= 1e9:
            label = f"{lo:g} {unit} et plus"
        else:
            label = f"{lo:g} à {hi:g} {unit}"
        ranges.append(
            f'<range lower="{lo}" upper="{hi}" symbol="{i}" label="{html_text(label)}" '
            'render="true"/>'
        )
        symbols.append(_symbol(str(i), kind, CLASS_COLOURS[min(i, len(CLASS_COLOURS) - 1)]))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28" styleCategories="Symbology">'
        f'<renderer-v2 type="graduatedSymbol" attr="{html_text(field)}" '
        'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols>"
        "</renderer-v2></qgis>"
    )


def single_qml(colour: str, kind: str = "marker") -> str:
    """QML of a single-symbol renderer."""
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28" styleCategories="Symbology">'
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_symbol('0', kind, colour)}</symbols></renderer-v2></qgis>"
    )


def _style_table() -> dict[str, dict[str, Any]]:
    """The layers' styles, from ``data/qgis_styles.json`` (``msapgeo.data``)."""
    from importlib import resources

    text = resources.files("msapgeo.data").joinpath("qgis_styles.json").read_text("utf-8")
    table: dict[str, dict[str, Any]] = json.loads(text)
    return table


def default_styles(layers: Sequence[str]) -> dict[str, str]:
    """QML of the layers msapgeo writes, by layer name (those ``data/qgis_styles.json``
    names: graduated on a field with the map's classes and colours, or one symbol)."""
    table = _style_table()
    out: dict[str, str] = {}
    for name in layers:
        spec = table.get(name)
        if spec is None:
            continue
        if spec["renderer"] == "graduated":
            out[name] = graduated_qml(spec["field"], tuple(spec["limits"]), spec["symbol"])
        else:
            out[name] = single_qml(spec["colour"], spec["symbol"])
    return out


def write_layer_styles(gpkg: str | Path, styles: dict[str, str]) -> None:
    """Store QML styles as the default styles of layers of a GeoPackage (QGIS)."""
    with sqlite3.connect(str(gpkg)) as con:
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        con.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"
        )
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
        for layer, qml in styles.items():
            if layer not in geom:
                continue
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'msapgeo', '')",
                (layer, geom[layer], f"msapgeo {layer}", qml, "style msapgeo"),
            )
