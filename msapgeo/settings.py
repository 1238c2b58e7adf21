"""Global settings, in the manner of ``osmnx.settings``.

Change a value by assignment before calling the library, or for a block only with
:func:`override`; every value is checked when it is assigned::

    import msapgeo as mg
    mg.settings.snap_tolerance_m = 2_000
    with mg.settings.override(profile="legal", thresholds_min=(20, 30)):
        ...

Environment variables
---------------------
MSAPGEO_CACHE
    Folder of the local download cache (default: ``$XDG_CACHE_HOME/msapgeo`` or
    ``~/.cache/msapgeo``).
MSAPGEO_MIRROR
    A folder or an ``http(s)://`` base URL laid out like the catalog's relative paths
    (for example ``france_services/liste-fs-20240801.csv``). Tried after the cache and
    before the canonical URL.
"""

from __future__ import annotations

import contextlib as _contextlib
import math as _math
import sys as _sys
import types as _types
from collections.abc import Iterator as _Iterator
from typing import Any as _Any

#: Coordinate reference system of inputs and outputs (WGS84 longitude/latitude).
default_crs: str = "EPSG:4326"

#: Metric CRS used for snapping and every distance measured off the network
#: (Lambert-93, valid for metropolitan France and its borders).
metric_crs: str = "EPSG:2154"

#: CRS of the GeoPackage outputs: WGS84 by default, ``"EPSG:2154"`` for Lambert-93 (QGIS
#: projects of French local authorities).
output_crs: str = "EPSG:4326"

#: Maximum straight-line distance (m) between a place and the road vertex it is
#: snapped to. Farther places are flagged ``too_far_from_network`` and not routed.
snap_tolerance_m: float = 1_500.0

#: With ``snap(..., components="all")`` (scenario graphs), the smallest strongly
#: connected component (nodes) a place may snap to: smaller fragments are parking loops
#: and one-way stubs, not a valley's network.
min_component_nodes: int = 10

#: Speed (km/h) at which the off-network leg (place → snapped road vertex) is
#: counted. 15 km/h is a slow car on a private lane or a brisk walk-and-park.
offnetwork_speed_kmh: float = 15.0

#: Default speed profile: ``practical`` (practical speeds and junction delays), ``legal``
#: (the law's limits) or ``mountain`` (practical plus curvature and slope).
profile: str = "practical"

#: Language of the outputs (labels, headers, sheet names, legends, report, reasons):
#: ``"fr"`` (default, French conventions: decimal comma, thin space between thousands) or
#: ``"en"`` (English labels, decimal point). See :mod:`msapgeo.i18n`.
language: str = "fr"

#: Drivable filter, as osmnx's ``network_type`` ("drive" or "drive_service").
network_type: str = "drive"

#: Time thresholds (minutes) used for classes and gap flags.
thresholds_min: tuple[float, ...] = (10.0, 20.0, 30.0, 45.0)

#: ``place=*`` values taken as populated places (origins of the demo).
populated_place_values: tuple[str, ...] = (
    "city",
    "town",
    "village",
    "hamlet",
    "isolated_dwelling",
    "suburb",
    "quarter",
    "neighbourhood",
)

#: Buffer (km) around a département within which its neighbours' roads are kept when
#: their extracts are assembled (:func:`msapgeo.pipeline.departement_extract`).
assembly_buffer_km: float = 30.0

#: Show tqdm progress bars on long steps.
progress: bool = True

#: OSM files of this size (MB) or more are read keeping the locations of the drivable
#: roads' nodes only (three passes over the file instead of one, see
#: :func:`msapgeo.network.read_ways`): a région or France, not a département.
lean_read_min_mb: float = 1000.0

#: Timeout (s) of one HTTP request in the data layer.
http_timeout_s: float = 60.0


# --------------------------------------------------------------------------- validation
# Every setting is checked when it is assigned, so that a wrong value fails at once with
# a message naming it, not deep inside a computation.


def _positive(name: str, value: _Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"settings.{name} must be a number, got {value!r}")
    if not _math.isfinite(value) or value <= 0:
        raise ValueError(f"settings.{name} must be a positive number, got {value!r}")
    return float(value)


def _thresholds(name: str, value: _Any) -> tuple[float, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(f"settings.{name} must be a sequence of minutes, got {value!r}")
    out = tuple(_positive(name, v) for v in value)
    if not out or list(out) != sorted(out):
        raise ValueError(f"settings.{name} must be increasing minutes, got {value!r}")
    return out


def _choice(options: tuple[str, ...]) -> _Any:
    def check(name: str, value: _Any) -> str:
        if value not in options:
            raise ValueError(f"settings.{name} must be one of {options}, got {value!r}")
        return str(value)

    return check


def _boolean(name: str, value: _Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"settings.{name} must be True or False, got {value!r}")
    return value


def _crs(name: str, value: _Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"settings.{name} must be a CRS string such as 'EPSG:2154'")
    return value


def _min_nodes(name: str, value: _Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"settings.{name} must be a whole number ≥ 1, got {value!r}")
    return value


_VALIDATORS: dict[str, _Any] = {
    "default_crs": _crs,
    "metric_crs": _crs,
    "output_crs": _crs,
    "snap_tolerance_m": _positive,
    "min_component_nodes": _min_nodes,
    "offnetwork_speed_kmh": _positive,
    "profile": _choice(("practical", "legal", "mountain", "insee")),
    "network_type": _choice(("drive", "drive_service")),
    "language": _choice(("fr", "en")),
    "thresholds_min": _thresholds,
    "assembly_buffer_km": _positive,
    "progress": _boolean,
    "lean_read_min_mb": _positive,
    "http_timeout_s": _positive,
}


class _Settings(_types.ModuleType):
    def __setattr__(self, name: str, value: _Any) -> None:
        check = _VALIDATORS.get(name)
        if check is not None:
            value = check(name, value)
        elif not name.startswith("_") and name not in self.__dict__:
            raise AttributeError(f"msapgeo.settings has no setting {name!r}")
        super().__setattr__(name, value)


@_contextlib.contextmanager
def override(**values: _Any) -> _Iterator[None]:
    """Change settings inside a ``with`` block only (validated; restored on exit).

    Examples
    --------
    >>> import msapgeo as mg
    >>> with mg.settings.override(snap_tolerance_m=2_000):
    ...     pass
    """
    module = _sys.modules[__name__]
    saved = {k: getattr(module, k) for k in values}
    try:
        for k, v in values.items():
            setattr(module, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


_sys.modules[__name__].__class__ = _Settings
