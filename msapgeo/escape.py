"""The one path by which text from data reaches HTML, JavaScript, spreadsheets and CSV.

Names and every other string that comes from OpenStreetMap, a CSV file or a GeoPackage
are hostile: OpenStreetMap is editable by anyone. Outputs never build markup, code or
formulas by pasting such text; they go through one of these functions:

* :func:`html_text` for text placed in HTML (element content or a quoted attribute):
  HTML-escaped, and the characters that matter to template engines and to JavaScript
  template literals (``{``, ``}``, ``$``, backtick) written as character references, so
  that neither Jinja2 (used by folium and branca) nor a JavaScript template literal can
  ever see ``{{``, ``{%`` or ``${`` in it;
* :func:`script_json` for data placed inside a ``<script>`` element: JSON whose strings
  have every character that could close the script, open a comment or a template, or
  end a JavaScript line (``< > & ' { } $`` backtick, U+2028, U+2029) as ``\\uXXXX``
  escapes. The page's fixed code reads it as data and puts text on screen with
  ``textContent`` only, never ``innerHTML``;
* :func:`cell_text` and :func:`safe_table` for spreadsheet and CSV cells: a text cell
  that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed
  with an apostrophe, as OWASP's *CSV Injection* page recommends, so that no
  spreadsheet evaluates it as a formula. :func:`msapgeo.report` also writes Excel
  text cells with the string type, never the formula type.

Nothing from data is ever compiled as a template: the maps' templates are constant
strings of this package, and data only fills their variables.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Characters replaced by numeric references in HTML text, beyond ``html.escape``'s.
_HTML_EXTRA = {"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"}

#: Characters written as ``\\uXXXX`` inside JSON strings placed in a script.
_SCRIPT_UNSAFE = ("<", ">", "&", "'", "{", "}", "$", "`", "\u2028", "\u2029")

#: Leading characters that make a spreadsheet evaluate a cell (OWASP "CSV Injection").
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def html_text(value: Any) -> str:
    """Text safe inside HTML element content or a double- or single-quoted attribute.

    Parameters
    ----------
    value
        Anything; ``None`` and missing values give ``""``.

    Returns
    -------
    str
        HTML-escaped text in which ``{``, ``}``, ``$`` and the backtick are character
        references too.

    Examples
    --------
    >>> html_text('<b>{{ 7*7 }}</b>')
    '&lt;b&gt;&#123;&#123; 7*7 &#125;&#125;&lt;/b&gt;'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return "".join(_HTML_EXTRA.get(ch, ch) for ch in text)


def _json_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    for ch in _SCRIPT_UNSAFE:
        if ch in out:
            out = out.replace(ch, f"\\u{ord(ch):04x}")
    return out


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def script_json(obj: Any) -> str:
    """Serialise data as a JavaScript literal that is safe inside a ``<script>`` element.

    Parameters
    ----------
    obj
        Nested dicts, lists, tuples, strings, numbers, booleans and ``None`` (numpy
        scalars and missing values are accepted; NaN and infinities become ``null``).

    Returns
    -------
    str
        JSON text whose strings contain none of ``< > & ' { } $`` backtick, U+2028 or
        U+2029 as such (each is a ``\\uXXXX`` escape), so it can close no element, open
        no template and end no line.

    Examples
    --------
    >>> script_json({"name": "</script>${x}"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u0024\\\\u007bx\\\\u007d"}'
    """
    value = _plain(obj)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, Mapping):
        items = (f"{_json_string(str(k))}: {script_json(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(script_json(v) for v in value) + "]"
    return _json_string(str(value))


def cell_text(value: Any) -> Any:
    """A spreadsheet or CSV cell value that no spreadsheet evaluates as a formula.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe (OWASP, *CSV Injection*); other values are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_table(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of a table whose text cells went through :func:`cell_text`.

    Only text columns change; numbers, booleans and dates are kept as they are.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype) or str(s.dtype) == "str":
            out[col] = s.astype(object).map(cell_text)
    out.columns = [cell_text(str(c)) for c in out.columns]
    return out
