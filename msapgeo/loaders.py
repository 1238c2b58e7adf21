"""Tidy loaders of the catalog's files.

Loaders return tidy frames: INSEE codes as 5-character strings, WGS84 geometries,
documented column names. Rows that cannot be used are kept with a reason in the
``exclusion`` column, never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo import settings
from msapgeo.catalog import communes_source, get_source, normalise_dep
from msapgeo.errors import InputError
from msapgeo.fetching import cache_dir, fetch
from msapgeo.fileio import atomic_path, sha256_file

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
        f"pas de coordonnées utilisables dans {Path(f).name}, ligne {i + 2}"
        for i in np.flatnonzero(~ok)
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
