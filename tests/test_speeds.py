"""French speed model: maxspeed parsing and per-class defaults."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msapgeo.speeds import MPH_KMH, SpeedModel, parse_maxspeed, urban_hint, way_speeds


@pytest.mark.parametrize(
    ("raw", "kmh", "kind"),
    [
        ("50", 50.0, "number"),
        (" 90 ", 90.0, "number"),
        ("50 km/h", 50.0, "number"),
        ("30 mph", 30 * MPH_KMH, "number"),
        ("30mph", 30 * MPH_KMH, "number"),
        ("FR:urban", 50.0, "zone"),
        ("FR:rural", 80.0, "zone"),
        ("FR:motorway", 130.0, "zone"),  # osmnx says 120: the law says 130
        ("FR:zone30", 30.0, "zone"),
        ("FR:zone20", 20.0, "zone"),
        ("walk", 6.0, "zone"),
        ("50;70", 50.0, "number"),
        ("70;FR:urban", 50.0, "zone"),
        ("none", None, "none"),
        ("signals", None, "unparsed"),
        ("", None, "missing"),
        (None, None, "missing"),
        ("0", None, "unparsed"),
        ("999", None, "unparsed"),
    ],
)
def test_parse_maxspeed(raw: str | None, kmh: float | None, kind: str) -> None:
    p = parse_maxspeed(raw)
    assert p.kind == kind
    if kmh is None:
        assert p.kmh is None
    else:
        assert p.kmh == pytest.approx(kmh)


@given(st.integers(1, 200))
def test_any_plain_number_is_km_h(n: int) -> None:
    assert parse_maxspeed(str(n)).kmh == n


@given(st.lists(st.integers(5, 200), min_size=1, max_size=4))
def test_lists_take_the_minimum(values: list[int]) -> None:
    assert parse_maxspeed(";".join(map(str, values))).kmh == min(values)


def _speed(
    tags: dict[str, str], urban: bool = False, oneway: bool = False, **model: object
) -> tuple:
    ds = way_speeds(tags, "forward", oneway, SpeedModel(**model))  # type: ignore[arg-type]
    return (ds.urban_kmh, ds.urban_source) if urban else (ds.rural_kmh, ds.rural_source)


def test_defaults_follow_the_code_de_la_route() -> None:
    assert _speed({"highway": "motorway"}, oneway=True) == (130, "default_class")
    assert _speed({"highway": "secondary"}) == (80, "default_rural")  # 2018 rule
    assert _speed({"highway": "secondary"}, urban=True) == (50, "default_urban")
    assert _speed({"highway": "trunk"}, oneway=True) == (110, "default_rural")  # separated
    assert _speed({"highway": "trunk"}) == (80, "default_rural")
    assert _speed({"highway": "primary", "lanes": "2"}, oneway=True) == (90, "default_rural")
    assert _speed({"highway": "primary", "lanes:forward": "2"}) == (90, "default_rural")
    assert _speed({"highway": "living_street"}) == (20, "default_class")
    assert _speed({"highway": "residential"}) == (50, "default_class")
    assert _speed({"highway": "service"}) == (20, "default_class")
    assert _speed({"highway": "track"}) == (10, "default_class")
    assert _speed({"highway": "motorway_link"}, oneway=True) == (70, "default_class")


def test_departmental_90_is_a_setting() -> None:
    tags = {"highway": "secondary", "ref": "D 994"}
    assert _speed(tags) == (80, "default_rural")
    assert _speed(tags, departmental_kmh=90.0) == (90, "default_rural")
    assert _speed({"highway": "secondary", "ref": "N 94"}, departmental_kmh=90.0)[0] == 80


def test_tags_win_and_roundabouts_are_capped() -> None:
    assert _speed({"highway": "primary", "maxspeed": "70"}) == (70, "tagged")
    assert _speed({"highway": "primary", "maxspeed": "FR:rural"}) == (80, "tagged_zone")
    ring = {"highway": "primary", "junction": "roundabout"}
    assert _speed(ring, oneway=True) == (30, "roundabout")
    assert _speed({**ring, "maxspeed": "50"}, oneway=True) == (30, "roundabout")


def test_directional_and_conditional_maxspeed() -> None:
    tags = {"highway": "primary", "maxspeed": "90", "maxspeed:backward": "70"}
    assert way_speeds(tags, "forward", False).rural_kmh == 90
    assert way_speeds(tags, "backward", False).rural_kmh == 70
    cond = {"highway": "primary", "maxspeed": "90", "maxspeed:conditional": "70 @ (wet)"}
    assert way_speeds(cond, "forward", False).rural_kmh == 90  # reported, not applied


def test_urban_hint() -> None:
    assert urban_hint({"highway": "primary", "source:maxspeed": "FR:urban"}) is True
    assert urban_hint({"highway": "primary", "zone:traffic": "FR:rural"}) is False
    assert urban_hint({"highway": "residential"}) is True
    assert urban_hint({"highway": "primary"}) is None
