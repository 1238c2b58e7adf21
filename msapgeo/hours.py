"""Opening hours of France services sites: ``h_lundi`` … ``h_samedi`` → weekly hours.

Accepted day values (ANCT list): ``"09:00 - 12:00 / 13:30 - 17:00"`` (ranges separated
by ``/``), a single range, ``"00:00 - 00:00"`` (closed that day, 0 h), or empty (closed
or not published). ``9h00``, ``9h``, en dash and ``;``/``,`` separators are tolerated.
A value that does not parse (a range ending before it starts, a time past 24:00, text)
counts 0 h for that day and is listed row by row in :func:`parse_site_hours`'s issues,
never dropped silently.

The France services label asks for at least 24 hours a week (:data:`LABEL_MIN_HOURS`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

DAYS: tuple[str, ...] = ("h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi")
#: Minimum weekly opening of the France services label (hours).
LABEL_MIN_HOURS = 24.0

_TIME = r"(\d{1,2})\s*[:hH]\s*(\d{2})?"
_RANGE = re.compile(rf"^\s*{_TIME}\s*[-–à]\s*{_TIME}\s*$")


def parse_day(value: object) -> tuple[float, str | None]:
    """Hours open in one day string.

    Parameters
    ----------
    value
        Raw value (string, NaN or None).

    Returns
    -------
    (float, str or None)
        Hours (0 when empty or malformed) and the reason when malformed.

    Examples
    --------
    >>> parse_day("09:00 - 12:00 / 13:30 - 17:00")
    (6.5, None)
    >>> parse_day("00:00 - 00:00")
    (0.0, None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return 0.0, None
    text = str(value).strip()
    if not text:
        return 0.0, None
    total = 0.0
    for part in re.split(r"[/;,]", text):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if not m:
            return 0.0, f"not a time range: {part.strip()!r}"
        h1, m1, h2, m2 = (int(x) if x else 0 for x in m.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            return 0.0, f"impossible time in {part.strip()!r}"
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end == 0:
            continue  # "00:00 - 00:00": closed
        if end <= start:
            return 0.0, f"range ends before it starts: {part.strip()!r}"
        total += (end - start) / 60.0
    return total, None


def parse_site_hours(
    sites: pd.DataFrame, *, id_col: str = "site_id", days: Sequence[str] = DAYS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weekly opening hours of every site.

    Parameters
    ----------
    sites
        Table with the day columns (missing columns count as empty).
    id_col
        Identifier column, used to name rows in the issues.
    days
        Day columns.

    Returns
    -------
    (hours, issues)
        ``hours``: indexed like ``sites``, ``hours_<day>`` per day, ``weekly_hours``
        (NaN when no day has a value), ``under_24h`` (nullable boolean, NA when unknown),
        ``hours_status`` (``ok``, ``under 24 h``, ``none published``, ``malformed``).
        ``issues``: one row per malformed value: ``site_id``, ``name``, ``day``, ``value``,
        ``reason``.
    """
    out = pd.DataFrame(index=sites.index)
    issues = []
    any_value = np.zeros(len(sites), bool)
    bad = np.zeros(len(sites), bool)
    for d in days:
        col = sites[d] if d in sites.columns else pd.Series([None] * len(sites), index=sites.index)
        parsed = [parse_day(v) for v in col]
        out[f"hours_{d.removeprefix('h_')}"] = [h for h, _ in parsed]
        any_value |= col.notna().to_numpy() & (col.astype(str).str.strip() != "").to_numpy()
        for pos, (_, why) in enumerate(parsed):
            if why:
                bad[pos] = True
                row = sites.iloc[pos]
                issues.append(
                    {
                        "site_id": str(row.get(id_col, sites.index[pos])),
                        "name": str(row.get("name", "")),
                        "day": d,
                        "value": str(col.iloc[pos]),
                        "reason": why,
                    }
                )
    weekly = out.sum(axis=1).to_numpy()
    weekly = np.where(any_value, weekly, np.nan)
    # no hours published: unknown, not "closed"
    out.loc[~any_value, [c for c in out.columns if c.startswith("hours_")]] = np.nan
    out["weekly_hours"] = weekly
    under = pd.array(np.where(any_value, weekly < LABEL_MIN_HOURS, False), dtype="boolean")
    under[~any_value] = pd.NA
    out["under_24h"] = under
    status = np.where(
        bad,
        "malformed",
        np.where(
            ~any_value, "none published", np.where(weekly < LABEL_MIN_HOURS, "under 24 h", "ok")
        ),
    )
    out["hours_status"] = status
    cols = ["site_id", "name", "day", "value", "reason"]
    return out, pd.DataFrame(issues, columns=cols)
