"""French speed model: one table, one parser, one rule per road.

Every number here is a legal maximum from the *code de la route* (article R413-2,
décret n° 2018-487 of 15 June 2018 for the 80 km/h rule) or a documented default for
roads the law does not number (links, roundabouts, service roads, tracks).

Rules, in the order they are applied to each direction of each way
------------------------------------------------------------------
1. ``maxspeed:forward`` / ``maxspeed:backward``, else ``maxspeed``, parsed by
   :func:`parse_maxspeed`: numbers (km/h), ``mph`` and ``knots`` converted, implicit
   values (``FR:urban`` 50, ``FR:rural`` 80, ``FR:motorway`` 130, ``FR:zone30`` 30,
   ``FR:zone20`` 20, ``FR:living_street`` 20, ``walk`` 6), lists (``50;70``) take the
   minimum. Source ``tagged`` (a number) or ``tagged_zone`` (an implicit value).
   ``*:conditional`` tags are kept on the way and reported, never applied.
2. Untagged roads take the default of their class (:attr:`SpeedModel`):
   motorway 130; separated carriageways (trunk or ``motorroad=yes`` that are one-way or
   ``dual_carriageway=yes``) 110; other roads outside built-up areas 80 (2018 rule),
   90 where there are two or more lanes in the direction of travel, and
   :attr:`SpeedModel.departmental_kmh` on ``D`` roads where a département restored
   90 km/h (LOM law, December 2019); inside built-up areas 50. Source
   ``default_rural`` or ``default_urban``.
3. Roads whose class sets the pace whatever the area: links (motorway 70, trunk 60,
   others 50), ``living_street`` 20 (zone de rencontre, R110-2), ``residential`` 50,
   ``service`` 20, ``track`` 10. Source ``default_class``.
4. Roundabouts (``junction=roundabout`` or ``circular``) are capped at
   :attr:`SpeedModel.roundabout_kmh`; source ``roundabout`` when the cap bites.

Practical speeds (profile ``practical``, the default)
----------------------------------------------------
The legal limit is a ceiling, not the speed a car keeps on an untagged village street.
With :attr:`SpeedModel.practical`, an untagged road takes the *smaller* of its legal
default and the practical speed of its class and context in :data:`PRACTICAL_KMH`:
Valhalla's default speeds for untagged roads (rural: ``default_speed`` of its graph Lua
script, 3.9.1; built-up: ``urban_rc_speed`` of ``src/mjolnir/speed_assigner.h``), which
sit between OSRM's deliberately conservative ``car.lua`` table (primary 65, secondary
55, tertiary 40, unclassified and residential 25) and the law, and agree with the French
speeds observed by ONISR (2021: 51 km/h on small-town through roads, 41 km/h on
town-centre arterials). The *urban* column applies where the street grid is dense
(more than :data:`msapgeo.network.DENSE_STREETS_KM_KM2` km of road per km² within 2 km,
Valhalla's own switch between its rural and urban speeds); in a built-up area with
sparse streets (a village crossed by its main road) an untagged road takes its rural
practical speed capped by the built-up legal limit, 50 km/h, which is what ONISR
observes there (51 km/h). A tagged ``maxspeed`` is kept as it is, as Valhalla does (OSRM
takes 80 % of it). Junction delays are added on top (:func:`junction_delay_s`).

Built-up areas ("agglomération")
--------------------------------
The legal boundary of an agglomération is its signs, which OSM rarely maps. A segment
is taken as built-up when its way says so (``source:maxspeed``, ``maxspeed:type``,
``zone:maxspeed`` or ``zone:traffic`` naming ``urban`` or a ``zone``), or when its
midpoint lies inside a ``landuse=commercial|retail`` area or within the radius of a
``place=city|town|village|suburb|quarter|neighbourhood`` node
(:func:`msapgeo.network.builtup_areas`), or where the street grid is dense
(:func:`msapgeo.network.street_density_km_km2`): this works on extracts without landuse.
The areas (discs and landuse) stand for the built street of the agglomération (R110-2:
buildings close together along the road); they do not apply to roads with separated
carriageways (:func:`separated_carriageways`), bypasses and *routes express* with no
frontage (access only at their junctions), which a village's disc often overlaps. Where
one does run through an agglomération its limit is signed (R413-3 lets it be raised to
70 km/h where access is limited) and OSM records it as a tag, which wins over any
default; the way's own tags and the street density still apply to them. (On the
Chamonix extract, 3.4 of the 34 km of the 2×2 RN 205's carriageways took the 50 km/h of
the discs of Les Houches, Les Bossons and Les Montquarts before.)
``residential`` and ``living_street`` roads are urban by class. Building density was
measured as a third signal and left out: on the Chamonix extract 42 % of road length has
20 or more buildings within 100 m (chalets along valley roads), against 13 % inside the
place discs; it would put the built-up limit on roads signed 80 km/h.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: Speed-source codes, stored as ``uint8`` on segments; the names go in outputs.
SPEED_SOURCES: tuple[str, ...] = (
    "tagged",
    "tagged_zone",
    "default_urban",
    "default_rural",
    "default_class",
    "roundabout",
    "curvature",
    "slope",
)
SOURCE_CODE: dict[str, int] = {name: i for i, name in enumerate(SPEED_SOURCES)}
#: Sources that are defaults of the road's class rather than a ``maxspeed`` tag (the
#: curvature and slope caps are computed, neither tag nor default).
DEFAULT_SOURCES: tuple[str, ...] = ("default_urban", "default_rural", "default_class", "roundabout")
DEFAULT_SOURCE_CODES: tuple[int, ...] = tuple(SOURCE_CODE[s] for s in DEFAULT_SOURCES)

MPH_KMH = 1.609344
KNOT_KMH = 1.852

#: Implicit ``maxspeed`` values (OSM wiki Key:maxspeed, France).
IMPLICIT_KMH: dict[str, float] = {
    "urban": 50.0,
    "rural": 80.0,
    "motorway": 130.0,
    "trunk": 110.0,
    "zone30": 30.0,
    "zone20": 20.0,
    "living_street": 20.0,
    "walk": 6.0,
}


def _load_practical() -> dict[str, tuple[float, float]]:
    """The practical speed table, from ``data/speeds_practical.csv`` (``msapgeo.data``)."""
    import csv
    import io
    from importlib import resources

    text = resources.files("msapgeo.data").joinpath("speeds_practical.csv").read_text("utf-8")
    return {
        row["highway"]: (float(row["rural_kmh"]), float(row["builtup_kmh"]))
        for row in csv.DictReader(io.StringIO(text))
    }


#: Practical speed (km/h) of an untagged road by class: (outside, inside built-up areas).
#: Read from ``data/speeds_practical.csv``, which names the source of every row
#: (Valhalla 3.9.1 defaults, rural and urban; see the module docstring).
PRACTICAL_KMH: dict[str, tuple[float, float]] = _load_practical()

#: Valhalla's ramp factor (``kRampFactor`` = 0.85 in ``speed_assigner.h``): an untagged
#: link runs at 85 % of the practical speed of the class it serves.
RAMP_FACTOR = 0.85

#: Road classes from the most to the least important, for junction priorities.
CLASS_RANK: dict[str, int] = {
    "motorway": 0,
    "trunk": 1,
    "primary": 2,
    "secondary": 3,
    "tertiary": 4,
    "unclassified": 5,
    "road": 5,
    "residential": 6,
    "living_street": 7,
    "service": 7,
    "track": 8,
}

# ---------------------------------------------------------------- junction delays
#: Comfortable deceleration of a passenger car approaching a junction (m/s²). Traffic
#: engineering uses 1.5–3 m/s² for comfortable braking; AASHTO's stopping-sight
#: deceleration (3.4 m/s²) is a braking limit, not what drivers choose.
DECEL_MS2 = 2.0
#: Mean acceleration of a passenger car leaving a junction from low speed (m/s²).
ACCEL_MS2 = 1.5
#: Speed at which a driver crosses a give-way or priority-to-the-right junction after
#: looking (km/h): a walking-pace check is 10–20 km/h.
YIELD_KMH = 20.0
#: Standstill at a stop line (s): the code de la route (R415-6) requires a full stop.
STOP_WAIT_S = 2.0
#: Mean delay at a traffic signal (s): Webster's uniform delay
#: d = C (1 − g/C)² / (2 (1 − x g/C)) with cycle C = 60 s and green ratio g/C = 0.5, off
#: peak (degree of saturation x → 0, like INSEE Métric's off-peak "heures creuses"
#: times): 7.5 s. At x = 0.5 it would be 10 s.
SIGNAL_DELAY_S = 7.5


def speed_change_loss_s(v_kmh: Any, u_kmh: float) -> Any:
    """Time lost (s) slowing from ``v`` to ``u`` and speeding back up to ``v``.

    Each phase at constant rate ``a`` covers the distance that would have taken
    ``(v − u)² / (2 a v)`` seconds less at ``v``; the two phases add up.
    """
    v = np.asarray(v_kmh, float) / 3.6
    u = u_kmh / 3.6
    dv = np.clip(v - u, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(v > 0, dv**2 / (2 * v) * (1 / DECEL_MS2 + 1 / ACCEL_MS2), 0.0)
    return out


def junction_delay_s(v_kmh: Any, control: str) -> Any:
    """Delay (s) of an approach at ``v_kmh`` to a junction under a control.

    ``control``: ``"signals"`` (:data:`SIGNAL_DELAY_S`), ``"stop"`` (full stop and
    :data:`STOP_WAIT_S`), ``"yield"`` (slow to :data:`YIELD_KMH`: give-way signs,
    priority to the right R415-5, roundabout entries R415-10) or ``"none"`` (the major
    road through a junction).
    """
    v = np.asarray(v_kmh, float)
    if control == "signals":
        return np.full(v.shape, SIGNAL_DELAY_S)
    if control == "stop":
        return speed_change_loss_s(v, 0.0) + STOP_WAIT_S
    if control == "yield":
        return speed_change_loss_s(v, YIELD_KMH)
    return np.zeros(v.shape)


LINK_CLASSES = ("motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link")
URBAN_TAG_KEYS = ("source:maxspeed", "maxspeed:type", "zone:maxspeed", "zone:traffic")

_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_ZONE = re.compile(r"^\s*(?:[A-Za-z]{2}:)?(?P<kind>[a-z_]+?)(?::?(?P<num>\d+))?\s*$")


@dataclass(frozen=True)
class SpeedModel:
    """Speeds in km/h used when a way is not tagged with a usable ``maxspeed``.

    Attributes
    ----------
    motorway_kmh
        Autoroute (R413-2: 130 km/h, dry).
    dual_carriageway_kmh
        Road with separated carriageways (R413-2: 110 km/h).
    rural_kmh
        Two-way road outside built-up areas without separation (décret 2018-487: 80).
    rural_multilane_kmh
        Road outside built-up areas with two or more lanes in the direction of travel (90).
    departmental_kmh
        Speed restored on routes départementales (``ref`` ``D…``) by a département under
        the LOM law; ``None`` keeps the national 80 km/h.
    urban_kmh
        Inside built-up areas (R413-3: 50 km/h).
    residential_kmh, living_street_kmh, service_kmh, track_kmh
        Class defaults (zone de rencontre 20 km/h, R110-2).
    link_kmh
        Default per link class (slower than the road joined).
    roundabout_kmh
        Cap on roundabouts.
    practical
        Cap the default of untagged roads at the practical speed of their class and
        context (:data:`PRACTICAL_KMH`); the ``practical`` and ``mountain`` profiles.
    """

    motorway_kmh: float = 130.0
    dual_carriageway_kmh: float = 110.0
    rural_kmh: float = 80.0
    rural_multilane_kmh: float = 90.0
    departmental_kmh: float | None = None
    urban_kmh: float = 50.0
    residential_kmh: float = 50.0
    living_street_kmh: float = 20.0
    service_kmh: float = 20.0
    track_kmh: float = 10.0
    unknown_kmh: float = 50.0
    roundabout_kmh: float = 30.0
    practical: bool = False
    link_kmh: Mapping[str, float] = field(
        default_factory=lambda: {
            "motorway_link": 70.0,
            "trunk_link": 60.0,
            "primary_link": 50.0,
            "secondary_link": 50.0,
            "tertiary_link": 50.0,
        }
    )

    def to_dict(self) -> dict[str, Any]:
        """Return the model as a JSON-ready dictionary."""
        d = asdict(self)
        d["link_kmh"] = dict(self.link_kmh)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SpeedModel:
        """Build a model from :meth:`to_dict` output."""
        return cls(**dict(d))


@dataclass(frozen=True)
class ParsedMaxspeed:
    """Result of :func:`parse_maxspeed`.

    Attributes
    ----------
    kmh
        Speed in km/h, ``None`` when no number follows from the tag.
    kind
        ``"number"``, ``"zone"`` (implicit value), ``"none"`` (no limit),
        ``"missing"`` or ``"unparsed"``.
    urban
        ``True`` when the value names an urban zone, ``False`` when it names a rural one,
        ``None`` otherwise.
    """

    kmh: float | None
    kind: str
    urban: bool | None = None


def parse_maxspeed(value: str | None) -> ParsedMaxspeed:
    """Parse an OSM ``maxspeed`` value.

    Parameters
    ----------
    value
        Raw tag value, for example ``"50"``, ``"30 mph"``, ``"FR:urban"``, ``"50;70"``.

    Returns
    -------
    ParsedMaxspeed
        Speed in km/h (the minimum of a list), its kind and the urban hint.

    Examples
    --------
    >>> parse_maxspeed("FR:rural").kmh
    80.0
    >>> round(parse_maxspeed("30 mph").kmh, 2)
    48.28
    >>> parse_maxspeed("50;70").kmh
    50.0
    """
    if value is None or not str(value).strip():
        return ParsedMaxspeed(None, "missing")
    parts = [p for p in re.split(r"[;|]", str(value)) if p.strip()]
    parsed = [_parse_one(p) for p in parts]
    numbers = [p for p in parsed if p.kmh is not None]
    if not numbers:
        if any(p.kind == "none" for p in parsed):
            return ParsedMaxspeed(None, "none")
        return ParsedMaxspeed(None, "unparsed")
    best = min(numbers, key=lambda p: p.kmh if p.kmh is not None else math.inf)
    urban = next((p.urban for p in parsed if p.urban is not None), None)
    return ParsedMaxspeed(best.kmh, best.kind, urban)


def _parse_one(raw: str) -> ParsedMaxspeed:
    text = raw.strip()
    m = _NUMBER.match(text)
    if m:
        kmh = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            kmh *= MPH_KMH
        elif unit == "knots":
            kmh *= KNOT_KMH
        if not 0 < kmh <= 200:
            return ParsedMaxspeed(None, "unparsed")
        return ParsedMaxspeed(kmh, "number")
    low = text.lower()
    if low == "none":
        return ParsedMaxspeed(None, "none")
    if low == "walk":
        return ParsedMaxspeed(IMPLICIT_KMH["walk"], "zone", True)
    z = _ZONE.match(low)
    if z:
        kind, num = z.group("kind"), z.group("num")
        if kind == "zone" and num:
            return ParsedMaxspeed(float(num), "zone", True)
        key = kind + (num or "")
        if key in IMPLICIT_KMH:
            urban = None if key in ("motorway", "trunk") else key != "rural"
            return ParsedMaxspeed(IMPLICIT_KMH[key], "zone", urban)
    return ParsedMaxspeed(None, "unparsed")


def urban_hint(tags: Mapping[str, str]) -> bool | None:
    """Tell whether a way's own tags place it inside (True) or outside (False) built-up areas.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool or None
        ``None`` when the tags say nothing.
    """
    for key in ("maxspeed", *URBAN_TAG_KEYS):
        value = tags.get(key)
        if value:
            hint = parse_maxspeed(value).urban
            if hint is None and "urban" in value.lower():
                hint = True
            if hint is None and "rural" in value.lower():
                hint = False
            if hint is not None:
                return hint
    if tags.get("highway") in ("residential", "living_street"):
        return True
    return None


def _lanes(tags: Mapping[str, str], direction: str, oneway: bool) -> int:
    raw = tags.get(f"lanes:{direction}")
    if raw is None and oneway:
        raw = tags.get("lanes")
    try:
        return int(float(str(raw).split(";")[0])) if raw is not None else 0
    except ValueError:
        return 0


@dataclass(frozen=True)
class DirectionSpeed:
    """Speeds of one direction of a way, for its urban and its rural segments (km/h)."""

    urban_kmh: float
    urban_source: str
    rural_kmh: float
    rural_source: str


#: The tags :func:`way_speeds` reads (``ref`` only for :attr:`SpeedModel.departmental_kmh`):
#: two ways that agree on them get the same speeds.
SPEED_TAG_KEYS: tuple[str, ...] = (
    "highway",
    "maxspeed",
    "maxspeed:forward",
    "maxspeed:backward",
    "junction",
    "motorroad",
    "dual_carriageway",
    "lanes",
    "lanes:forward",
    "lanes:backward",
)


def speed_key(tags: Mapping[str, str], model: SpeedModel) -> tuple[str | None, ...]:
    """What of a way's tags decides its speeds under ``model`` (a key to share them)."""
    key = tuple(tags.get(k) for k in SPEED_TAG_KEYS)
    if model.departmental_kmh is not None:
        key += (tags.get("ref"),)
    return key


def separated_carriageways(tags: Mapping[str, str], oneway: bool) -> bool:
    """Whether a way is one carriageway of a road with separated carriageways.

    A one-way ``trunk``, or a one-way road tagged ``motorroad=yes`` or
    ``dual_carriageway=yes``, roundabouts excepted: the roads whose legal default is
    110 km/h outside built-up areas (R413-2). In OSM France ``trunk`` is the class of the
    *voies rapides* and *routes express* (wiki FR:Key:highway; major national roads that
    are not are ``primary``): one-way, a carriageway of a dual road reached only at
    junctions built for it (R110-2).
    """
    highway = tags.get("highway", "")
    return (
        oneway
        and tags.get("junction") not in ("roundabout", "circular")
        and highway in ("trunk", "primary", "secondary", "tertiary", "unclassified", "road")
        and (
            highway == "trunk"
            or tags.get("motorroad") == "yes"
            or tags.get("dual_carriageway") == "yes"
        )
    )


def way_speeds(
    tags: Mapping[str, str], direction: str, oneway: bool, model: SpeedModel | None = None
) -> DirectionSpeed:
    """Speeds of one direction of a way under the French model.

    Parameters
    ----------
    tags
        The way's OSM tags.
    direction
        ``"forward"`` or ``"backward"`` relative to the way's node order.
    oneway
        Whether the way is one-way (either sense).
    model
        Speed table; default :class:`SpeedModel`.

    Returns
    -------
    DirectionSpeed
        The speed (km/h) and its source for built-up and for rural segments.
    """
    model = model or SpeedModel()
    highway = tags.get("highway", "")
    raw = tags.get(f"maxspeed:{direction}") or tags.get("maxspeed")
    parsed = parse_maxspeed(raw)
    roundabout = tags.get("junction") in ("roundabout", "circular")
    if parsed.kmh is not None:
        src = "tagged" if parsed.kind == "number" else "tagged_zone"
        return _cap(DirectionSpeed(parsed.kmh, src, parsed.kmh, src), roundabout, model)

    urban_kmh, urban_src = model.urban_kmh, "default_urban"
    if highway in ("motorway",):
        urban_kmh = rural_kmh = model.motorway_kmh
        urban_src = rural_src = "default_class"
    elif highway in LINK_CLASSES:
        urban_kmh = rural_kmh = float(model.link_kmh.get(highway, model.urban_kmh))
        urban_src = rural_src = "default_class"
    elif highway == "living_street":
        urban_kmh = rural_kmh = model.living_street_kmh
        urban_src = rural_src = "default_class"
    elif highway == "residential":
        urban_kmh = rural_kmh = model.residential_kmh
        urban_src = rural_src = "default_class"
    elif highway == "service":
        urban_kmh = rural_kmh = model.service_kmh
        urban_src = rural_src = "default_class"
    elif highway == "track":
        urban_kmh = rural_kmh = model.track_kmh
        urban_src = rural_src = "default_class"
    elif highway in ("trunk", "primary", "secondary", "tertiary", "unclassified", "road"):
        rural_src = "default_rural"
        if separated_carriageways(tags, oneway):
            rural_kmh = model.dual_carriageway_kmh
        elif _lanes(tags, direction, oneway) >= 2:
            rural_kmh = model.rural_multilane_kmh
        elif model.departmental_kmh is not None and re.match(r"^\s*D\s*\d", tags.get("ref", "")):
            rural_kmh = model.departmental_kmh
        else:
            rural_kmh = model.rural_kmh
        if highway == "road":
            rural_kmh = min(rural_kmh, model.unknown_kmh)
    else:
        urban_kmh = rural_kmh = model.unknown_kmh
        urban_src = rural_src = "default_class"
    if parsed.kind == "none" and highway == "motorway":
        rural_kmh = urban_kmh = model.motorway_kmh
    if model.practical:
        rural_kmh, urban_kmh = _practical(highway, rural_kmh, urban_kmh)
    return _cap(DirectionSpeed(urban_kmh, urban_src, rural_kmh, rural_src), roundabout, model)


def _practical(highway: str, rural_kmh: float, urban_kmh: float) -> tuple[float, float]:
    """Cap legal defaults at the practical speeds of the class (links: ramp factor)."""
    base = highway[: -len("_link")] if highway.endswith("_link") else highway
    table = PRACTICAL_KMH.get(base)
    if table is None:
        return rural_kmh, urban_kmh
    factor = RAMP_FACTOR if highway.endswith("_link") else 1.0
    return min(rural_kmh, table[0] * factor), min(urban_kmh, table[1] * factor)


def _cap(ds: DirectionSpeed, roundabout: bool, model: SpeedModel) -> DirectionSpeed:
    if not roundabout:
        return ds
    cap = model.roundabout_kmh
    u_kmh, u_src, r_kmh, r_src = ds.urban_kmh, ds.urban_source, ds.rural_kmh, ds.rural_source
    if u_kmh > cap:
        u_kmh, u_src = cap, "roundabout"
    if r_kmh > cap:
        r_kmh, r_src = cap, "roundabout"
    return DirectionSpeed(u_kmh, u_src, r_kmh, r_src)
