"""The data layer: catalog, download with cache, mirror and checksums, tidy loaders.

One name for the first layer of the house (sources → network → …), split along its
seams: :mod:`msapgeo.catalog` (what the files are: ``data/sources.json`` and the
département list ``data/departements.csv``), :mod:`msapgeo.fetching` (where they come
from: cache, mirror, canonical URLs, SHA-256) and :mod:`msapgeo.loaders` (tidy frames:
INSEE codes as 5-character strings, WGS84 geometries, exclusions kept with a reason).
"""

from __future__ import annotations

from msapgeo.catalog import (
    CATALOG,
    DEPARTEMENTS,
    Source,
    communes_source,
    departement_name,
    get_source,
    normalise_dep,
    osm_source,
)
from msapgeo.fetching import cache_dir, fetch
from msapgeo.fileio import sha256_file
from msapgeo.loaders import (
    CATEAAV_LABELS,
    FS_DAYS,
    MOUNTAIN_SOURCE_2026,
    NEIGHBOUR_TOLERANCE_M,
    departement_neighbours,
    insee_code,
    load_communes,
    load_density_grid,
    load_departements,
    load_france_services,
    load_mountain_zone,
    load_population,
    load_zonages,
    provenance,
)

__all__ = [
    "CATALOG",
    "CATEAAV_LABELS",
    "DEPARTEMENTS",
    "FS_DAYS",
    "MOUNTAIN_SOURCE_2026",
    "NEIGHBOUR_TOLERANCE_M",
    "Source",
    "cache_dir",
    "communes_source",
    "departement_name",
    "departement_neighbours",
    "fetch",
    "get_source",
    "insee_code",
    "load_communes",
    "load_density_grid",
    "load_departements",
    "load_france_services",
    "load_mountain_zone",
    "load_population",
    "load_zonages",
    "normalise_dep",
    "osm_source",
    "provenance",
    "sha256_file",
]
