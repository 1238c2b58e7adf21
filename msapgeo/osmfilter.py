"""Which OSM ways a car may drive, and in which direction.

Drivable filter
---------------
The same as osmnx's ``network_type="drive"`` (or ``"drive_service"``) Overpass filter,
evaluated with the same regular expressions on each way's tags: a ``highway`` tag,
``area`` not ``yes``, ``access`` not ``private``, no excluded highway class
(abandoned, bridleway, bus_guideway, construction, corridor, cycleway, elevator,
escalator, footway, no, path, pedestrian, planned, platform, proposed, raceway, razed,
rest_area, service, services, steps, track), ``motor_vehicle`` and ``motorcar`` not
``no``, and ``service`` not alley, driveway, emergency_access, parking,
parking_aisle or private. On top of it msapgeo drops the few highway values osmnx lets
through that no car may drive (:data:`EXTRA_EXCLUDED_HIGHWAY`).

One-way handling
----------------
``oneway=yes|true|1`` forward only; ``-1|reverse`` backward only; ``reversible`` and
``alternating`` are two-way (driveable each way at some time, as osmnx does), labelled
``reversible``; ``junction=roundabout|circular`` and ``highway=motorway|motorway_link``
imply one-way unless ``oneway=no``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Way tags kept on the graph (speed model, closures, outputs).
KEEP_TAGS: tuple[str, ...] = (
    "highway",
    "name",
    "ref",
    "oneway",
    "junction",
    "area",
    "access",
    "motor_vehicle",
    "motorcar",
    "vehicle",
    "service",
    "maxspeed",
    "maxspeed:forward",
    "maxspeed:backward",
    "maxspeed:conditional",
    "maxspeed:type",
    "source:maxspeed",
    "zone:maxspeed",
    "zone:traffic",
    "lanes",
    "lanes:forward",
    "lanes:backward",
    "motorroad",
    "dual_carriageway",
    "tunnel",
    "bridge",
    "surface",
    "seasonal",
    "winter_road",
    "snowplowing",
    "access:conditional",
    "motor_vehicle:conditional",
    "motorcar:conditional",
    "vehicle:conditional",
)

_EXCLUDED_HIGHWAY = (
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
    "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|{service}"
    "services|steps|track"
)
#: osmnx's Overpass filters, as (key, negated regex) pairs: a way passes when it has a
#: ``highway`` tag and, for each pair, the key is absent or its value does not match.
DRIVE_FILTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "drive": (
        ("area", "yes"),
        ("access", "private"),
        ("highway", _EXCLUDED_HIGHWAY.format(service="service|")),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    ),
    "drive_service": (
        ("area", "yes"),
        ("access", "private"),
        ("highway", _EXCLUDED_HIGHWAY.format(service="")),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "emergency_access|parking|parking_aisle|private"),
    ),
}
#: Highway values osmnx's filter lets through that no car may drive: msapgeo drops them
#: too (``busway`` is bus-only since 2022, ``via_ferrata`` is a climbing route).
EXTRA_EXCLUDED_HIGHWAY: tuple[str, ...] = ("busway", "via_ferrata", "escape", "emergency_bay")
_COMPILED = {
    k: (
        *((key, re.compile(rx)) for key, rx in v),
        ("highway", re.compile("^(" + "|".join(EXTRA_EXCLUDED_HIGHWAY) + ")$")),
    )
    for k, v in DRIVE_FILTERS.items()
}

#: ``landuse`` values taken as built-up areas.
BUILTUP_LANDUSE: tuple[str, ...] = ("residential", "commercial", "retail")
OSM_SUFFIXES: tuple[str, ...] = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".xml")


def is_drivable(tags: Mapping[str, str], network_type: str = "drive") -> tuple[bool, str]:
    """Apply osmnx's drivable filter to one way's tags.

    Parameters
    ----------
    tags
        The way's tags.
    network_type
        ``"drive"`` or ``"drive_service"``.

    Returns
    -------
    (bool, str)
        Whether the way is kept, and the key that excluded it (``""`` when kept).
    """
    if "highway" not in tags:
        return False, "highway"
    for key, rx in _COMPILED[network_type]:
        value = tags.get(key)
        if value is not None and rx.search(value):
            return False, key
    return True, ""


def oneway_of(tags: Mapping[str, str]) -> tuple[bool, bool, str]:
    """Directions a way may be driven in.

    Returns
    -------
    (forward, backward, label)
        ``label`` is one of ``no``, ``yes``, ``-1``, ``reversible``, ``implied``.
    """
    ow = tags.get("oneway", "").strip().lower()
    if ow in ("yes", "true", "1"):
        return True, False, "yes"
    if ow in ("-1", "reverse"):
        return False, True, "-1"
    if ow in ("reversible", "alternating"):
        return True, True, "reversible"
    if ow in ("no", "false", "0"):
        return True, True, "no"
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") in (
        "motorway",
        "motorway_link",
    ):
        return True, False, "implied"
    return True, True, "no"
