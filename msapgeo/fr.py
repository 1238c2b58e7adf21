"""French display conventions shared by every output: numbers with a decimal comma and a
narrow no-break space between thousands (« 24 678 », « 1,5 km »)."""

from __future__ import annotations

import math
from typing import Any


def fr_number(value: Any, decimals: int = 0, unit: str = "") -> str:
    """A number the French way (the English way when :data:`msapgeo.settings.language`
    is ``"en"``: ``24,678``, ``1.5 km``); ``—`` when missing or not a number.

    Examples
    --------
    >>> fr_number(24678)
    '24\\u202f678'
    >>> fr_number(1.5, 1, "km")
    '1,5\\xa0km'
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    from msapgeo import settings

    text = f"{v:,.{decimals}f}"
    if settings.language != "en":
        text = text.replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text
