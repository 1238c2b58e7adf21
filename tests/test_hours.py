"""Opening hours: parsing, weekly totals, the 24 h label, malformed strings reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msapgeo import datasets
from msapgeo.hours import parse_day, parse_site_hours


@pytest.mark.parametrize(
    ("value", "hours"),
    [
        ("09:00 - 12:00 / 13:30 - 17:00", 6.5),
        ("13:30 - 17:30", 4.0),
        ("00:00 - 00:00", 0.0),
        ("", 0.0),
        (None, 0.0),
        (np.nan, 0.0),
        ("9h00 - 12h", 3.0),
        ("08:15 – 12:30", 4.25),
    ],
)
def test_parse_day(value: object, hours: float) -> None:
    assert parse_day(value) == (pytest.approx(hours), None)


@pytest.mark.parametrize("value", ["17:00 - 09:00", "sur rendez-vous", "25:00 - 26:00", "09:00"])
def test_malformed_day(value: str) -> None:
    h, why = parse_day(value)
    assert h == 0.0
    assert why


def test_site_with_20_hours_is_under_the_label() -> None:
    sites = pd.DataFrame(
        {
            "site_id": ["a", "b", "c", "d"],
            "name": ["twenty", "thirty", "nothing", "broken"],
            "h_lundi": ["09:00 - 14:00", "09:00 - 12:00 / 13:00 - 16:00", None, "9 à midi"],
            "h_mardi": ["09:00 - 14:00", "09:00 - 12:00 / 13:00 - 16:00", None, "09:00 - 12:00"],
            "h_mercredi": ["09:00 - 14:00", "09:00 - 12:00 / 13:00 - 16:00", None, None],
            "h_jeudi": ["09:00 - 14:00", "09:00 - 12:00 / 13:00 - 16:00", None, None],
            "h_vendredi": [None, "09:00 - 12:00 / 13:00 - 16:00", None, None],
            "h_samedi": [None, None, None, None],
        }
    )
    h, issues = parse_site_hours(sites)
    assert h["weekly_hours"].tolist()[:2] == [20.0, 30.0]
    assert np.isnan(h["weekly_hours"].iloc[2])
    assert h["under_24h"].tolist()[:2] == [True, False]
    assert pd.isna(h["under_24h"].iloc[2])
    assert h["hours_status"].tolist() == ["under 24 h", "ok", "none published", "malformed"]
    assert issues[["site_id", "day", "value"]].values.tolist() == [["d", "h_lundi", "9 à midi"]]


def test_real_hautes_alpes_hours(mirror: Path) -> None:
    fs = datasets.load_france_services()
    h, issues = parse_site_hours(fs)
    ha = fs["insee_dep"] == "05"
    weekly = dict(zip(fs.loc[ha, "site_id"], h.loc[ha, "weekly_hours"], strict=True))
    assert weekly["fs576"] == pytest.approx(37.5)  # Embrun: 8-12 / 13:30-17, five days
    assert weekly["fs1387"] == pytest.approx(16.0)  # Champsaur-Valgaudemar
    assert weekly["fs642"] == pytest.approx(24.0)  # Guillestrois: exactly the label
    assert not h.loc[fs["site_id"] == "fs642", "under_24h"].iloc[0]
    assert (h.loc[ha, "under_24h"] == True).sum() == 5  # noqa: E712
    assert len(issues) == 0  # the 2024 list is clean
    assert (h["hours_status"] == "none published").sum() == 48
