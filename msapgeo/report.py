"""Write access results: GeoPackage (QGIS), CSV (Excel), offline map, run metadata.

Every table goes through :mod:`msapgeo.escape` (text cells that a spreadsheet would take
for a formula are neutralised) and every run is written through
:class:`msapgeo.fileio.OutputFolder` (the folder appears complete or not at all).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo import settings
from msapgeo.errors import InputError
from msapgeo.escape import html_text, safe_table
from msapgeo.fileio import OutputFolder, atomic_path, atomic_write_text
from msapgeo.fr import fr_number
from msapgeo.i18n import EN, english
from msapgeo.i18n import t as t_
from msapgeo.maps import access_map, save_offline
from msapgeo.pipeline import AccessResult

if TYPE_CHECKING:
    from msapgeo.comparison import Comparison
    from msapgeo.diagnostic import Diagnostic
    from msapgeo.whatif import Optimisation

#: CSV layouts: ``fr`` for French Excel (``;``, decimal comma, UTF-8 with BOM), ``machine``
#: for scripts (``,``, decimal point, UTF-8, full precision).
CSV_FORMATS: tuple[str, ...] = ("fr", "machine")

#: Columns that keep 6 decimals in the French CSV (coordinates); others keep 3.
_COORD_COLS = ("lon", "lat", "longitude", "latitude")

#: GeoPackage reserves ``fid``; GDAL compares column names without case.
_GPKG_RESERVED = ("fid",)


def write_csv(df: pd.DataFrame, path: str | Path, *, fmt: str = "fr") -> Path:
    """Write a table as CSV, text cells neutralised (:func:`msapgeo.escape.safe_table`).

    Parameters
    ----------
    df
        Table.
    path
        Target file, written atomically.
    fmt
        ``"fr"`` (default): ``;`` separator, decimal comma, 3 decimals (6 for
        coordinates), UTF-8 with BOM, so French Excel opens it in columns; ``"machine"``:
        ``,``, decimal point, full precision, UTF-8.
    """
    if fmt not in CSV_FORMATS:
        raise ValueError(f"fmt={fmt!r}: choose one of {CSV_FORMATS}")
    t = safe_table(pd.DataFrame(df))
    with atomic_path(path) as tmp:
        if fmt == "fr":
            for c in t.columns:
                if pd.api.types.is_float_dtype(t[c]):
                    t[c] = t[c].round(6 if str(c).lower() in _COORD_COLS else 3)
            t.to_csv(tmp, index=False, sep=";", decimal=",", encoding="utf-8-sig")
        else:
            t.to_csv(tmp, index=False, encoding="utf-8")
    return Path(path)


def clean_for_gdal(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make columns writable by GDAL: no objects, no nested values, no clashing names.

    A column named ``fid`` (reserved by GeoPackage) or equal to another one but for case
    (``ID`` beside ``id``) is renamed with a ``_source`` suffix.
    """
    out = gdf.copy()
    seen: set[str] = set()
    renames = {}
    for c in out.columns:
        if c == out.geometry.name:
            continue
        low = str(c).lower()
        if low in _GPKG_RESERVED or low in seen:
            new = f"{c}_source"
            while new.lower() in seen:
                new += "_"
            renames[c] = new
            low = new.lower()
        seen.add(low)
    out = out.rename(columns=renames)
    for c in out.columns:
        if c == out.geometry.name:
            continue
        col = out[c]
        if col.dtype == object or str(col.dtype).startswith(("string", "str")):
            out[c] = col.astype(object).where(col.notna(), None)
            out[c] = out[c].map(lambda v: v if v is None else str(v))
        elif col.dtype == bool:
            out[c] = col.astype(np.int8)
    return out


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, crs: str | None = None
) -> Path:
    """Write layers into one GeoPackage, atomically, with QGIS styles (``layer_styles``).

    Parameters
    ----------
    layers
        Layer name → GeoDataFrame.
    path
        Target file.
    crs
        Reproject every layer (e.g. ``"EPSG:2154"``, Lambert-93); default
        :data:`msapgeo.settings.output_crs`.
    """
    from msapgeo.qgis import default_styles, write_layer_styles

    target = crs or settings.output_crs
    with atomic_path(path, suffix=".gpkg") as tmp:
        tmp.unlink()
        for name, gdf in layers.items():
            g = gdf
            if target and g.crs is not None and g.geometry.notna().any():
                g = g.to_crs(target)
            clean_for_gdal(g).to_file(tmp, layer=name, driver="GPKG")
        write_layer_styles(tmp, default_styles(list(layers)))
    return Path(path)


def write_access_files(
    result: AccessResult, out: Path, *, csv_format: str = "fr"
) -> dict[str, Path]:
    """Write the access outputs into an existing folder (see :func:`write_access`)."""
    origins = result.origins.drop(columns=["commune_geometry"], errors="ignore")
    sites = result.sites
    edges = result.graph.edges_gdf()
    excl = result.exclusions
    excl_g = gpd.GeoDataFrame(excl, geometry=[None] * len(excl), crs=settings.default_crs)
    gpkg = write_gpkg(
        {"origins": origins, "sites": sites, "edges": edges, "exclusions": excl_g},
        out / "access.gpkg",
    )
    table = pd.DataFrame(origins.drop(columns=origins.geometry.name))
    pts = origins.geometry
    ok = pts.notna() & ~pts.is_empty
    table["lon"] = np.where(ok, pts.x.where(ok), np.nan)
    table["lat"] = np.where(ok, pts.y.where(ok), np.nan)
    csv = write_csv(table, out / "access.csv", fmt=csv_format)
    excl_csv = write_csv(excl, out / "exclusions.csv", fmt=csv_format)
    from msapgeo.diagnostic import speed_notes

    m = access_map(
        result.origins, sites, edges=edges, notes=speed_notes(result.graph, result.origins)
    )
    html_path = save_offline(m, out / "map.html")
    return {"gpkg": gpkg, "csv": csv, "exclusions": excl_csv, "map": html_path}


def run_record(result: AccessResult) -> dict[str, Any]:
    """What ``run.json`` says of an access run: summary and metadata."""
    return {"summary": _jsonable(result.summary()), "meta": _jsonable(result.meta)}


def write_access(
    result: AccessResult, out_dir: str | Path, *, csv_format: str = "fr"
) -> dict[str, Path]:
    """Write ``access.gpkg`` (layers origins, sites, edges, exclusions), ``access.csv``,
    ``exclusions.csv``, ``map.html`` and ``run.json``, as one complete folder.

    Parameters
    ----------
    result
        Output of :func:`msapgeo.pipeline.run_access`.
    out_dir
        Folder; replaced whole when it holds an earlier msapgeo run
        (:class:`msapgeo.fileio.OutputFolder`).
    csv_format
        ``"fr"`` (default) or ``"machine"`` (:func:`write_csv`).

    Returns
    -------
    dict
        Output name → final path.
    """
    with OutputFolder(out_dir, run_record(result)) as folder:
        files = write_access_files(result, folder.path, csv_format=csv_format)
    final = {k: folder.final(v) for k, v in files.items()}
    return {**final, "run": folder.out / "run.json"}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def format_summary(summary: dict[str, Any]) -> str:
    """Short human summary of :meth:`AccessResult.summary`."""
    return (
        f"origins: {summary['origins']} ({summary['origins_routed']} routed, "
        f"{summary['origins_excluded']} excluded, {summary['unreachable']} unreachable)\n"
        f"sites: {summary['sites']} ({summary['sites_routed']} on the network)\n"
        f"time to nearest site: median {summary['median_time_min']:.1f} min, "
        f"max {summary['max_time_min']:.1f} min"
    )


# --------------------------------------------------------------------------- diagnostic

_SHEETS_NOTE = "Units are in column names: _min minutes, _km kilometres, _pct percent, _h hours."


_INDICATOR_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^share_within_(\d+(?:\.\d+)?)min_pct$", "à moins de {0} min (%)"),
    (r"^share_beyond_(\d+(?:\.\d+)?)min_pct$", "part au-delà de {0} min (%)"),
    (r"^gap_(\d+(?:\.\d+)?)min_communes$", "communes au-delà de {0} min"),
    (r"^gap_(\d+(?:\.\d+)?)min_population$", "population au-delà de {0} min (hab.)"),
    (r"^gap_(\d+(?:\.\d+)?)min$", "au-delà de {0} min"),
    (r"^beyond_(\d+(?:\.\d+)?)min_min$", "minutes au-delà de {0} min"),
    (r"^population_beyond_(\d+(?:\.\d+)?)min$", "hab. au-delà de {0} min"),
    (r"^hours_(\w+)$", "heures le {0} (h)"),
)

_FR_EXTRA: dict[str, str] = {
    "mean_time_min_popw": "temps moyen pondéré (min)",
    "median_time_min_popw": "temps médian pondéré (min)",
    "communes_population_unknown": "communes de population inconnue",
    "population_excluded": "population exclue (hab.)",
    "excluded_communes": "communes exclues",
    "excluded": "exclue du calcul",
    "group": "groupe",
    "split": "découpage",
    "split_value": "valeur",
    "epci_siren": "SIREN de l'EPCI",
    "site_id": "identifiant du site",
    "site2_id": "2e site",
    "site_format": "format du site",
    "weekly_hours": "ouverture (h/sem.)",
    "under_24h": "moins de 24 h/sem.",
    "mountain_source": "source montagne",
    "point_source": "point d'origine",
    "point_note": "correction du point",
    "threshold_min": "seuil (min)",
    "note": "note",
    "key": "clé",
    "counted": "compté en",
    "points": "points",
    "model": "modèle (code)",
    "model_label": "modèle",
    "objective": "objectif",
    "objective_unit": "unité de l'objectif",
    "chosen": "sites choisis (identifiants)",
    "chosen_names": "sites choisis",
    "already_covered_population": "déjà couverts (hab.)",
    "already_covered_origins": "origines déjà couvertes",
    "gain_population": "gain (hab.)",
    "method": "méthode",
    "gap_pct": "écart à la borne (%)",
    "bound": "borne (relaxation)",
    "indicator": "indicateur",
    "minutes": "minutes",
}


#: English headers where the column name does not read well once its unit is spelt out.
EN_COLUMNS: dict[str, str] = {
    "insee_com": "commune code",
    "nom": "commune",
    "epci_nom": "EPCI",
    "epci_siren": "EPCI SIREN",
    "dens_label": "INSEE density grid",
    "access_2sfca_h_per_1000": "2SFCA accessibility (h/week per 1,000 inhab.)",
    "mean_time_min_popw": "population-weighted mean time (min)",
    "median_time_min_popw": "population-weighted median time (min)",
    "priority_pop_min": "priority (inhab. × min)",
    "site2_id": "2nd site",
    "site2_name": "2nd France services",
    "snap_m": "distance to the road (m)",
    "default_speed_km": "of which km at default speeds",
    "model_label": "model",
    "model": "model (code)",
}
_UNITS: tuple[tuple[str, str], ...] = (
    ("_hab_km2", " (inhab./km²)"),
    ("_pct", " (%)"),
    ("_min", " (min)"),
    ("_km", " (km)"),
    ("_m", " (m)"),
    ("_s", " (s)"),
    ("_h", " (h)"),
)


def en_header(column: str) -> str:
    """English label, with its unit, of an output column: :data:`EN_COLUMNS`, the English of
    a French label (:data:`msapgeo.i18n.EN`), else the name with its unit spelt out
    (``share_within_10min_pct`` → ``share within 10 min (%)``)."""
    if column in EN_COLUMNS:
        return EN_COLUMNS[column]
    if column in EN:
        return EN[column]
    name, unit = column, ""
    for suffix, label in _UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            name, unit = name[: -len(suffix)], label
            break
    name = re.sub(r"(\d+(?:\.\d+)?)min\b", r"\1 min", name).replace("_", " ")
    return f"{name}{unit}"


def fr_header(column: str) -> str:
    """French label, with its unit, of an output column (the column itself when unknown);
    English (:func:`en_header`) when :data:`msapgeo.settings.language` is ``"en"``."""
    if english():
        return en_header(column)
    if column in FR_COLUMNS:
        return FR_COLUMNS[column]
    if column in _FR_EXTRA:
        return _FR_EXTRA[column]
    for pattern, label in _INDICATOR_PATTERNS:
        m = re.match(pattern, column)
        if m:
            return label.format(m.group(1))
    return column


#: Sheet names of the workbook, in French.
FR_SHEETS: dict[str, str] = {
    "summary": "synthèse",
    "communes": "communes",
    "epci": "epci",
    "epci_splits": "epci par densité et montagne",
    "worklist": "priorités",
    "sites": "sites",
    "exclusions": "exclusions",
    "notes": "notes",
    "population": "population",
    "population_epci": "population par epci",
    "provenance": "sources",
    "failures": "échecs",
}


#: French labels of the categorical values of the workbook's columns (the CSV and the
#: GeoPackage keep the codes, for scripts).
FR_VALUES: dict[str, dict[str, str]] = {
    "role": {"principal": "principal", "antenna": "antenne", "itinerant": "itinérant"},
    "hours_status": {
        "ok": "24 h ou plus",
        "under 24 h": "moins de 24 h",
        "none published": "non publiés",
        "malformed": "illisibles",
    },
    "density_class": {"rural": "rural", "urban": "urbain", "unknown": "inconnue"},
    "mountain": {"yes": "oui", "no": "non", "unknown": "inconnu"},
    "rural_aav": {"yes": "oui", "no": "non", "unknown": "inconnu"},
}


def _excel(path: Path, sheets: dict[str, pd.DataFrame], *, french: bool = True) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for key, df in sheets.items():
            if french and english():
                name = key.replace("_", " ")
            else:
                name = FR_SHEETS.get(key, key) if french else key
            d = safe_table(df)
            for c in d.columns:
                if d[c].dtype == bool or str(d[c].dtype) == "boolean":
                    d[c] = (
                        d[c]
                        .map(
                            {True: "oui", False: "non"}
                            if french and not english()
                            else {True: "yes", False: "no"}
                        )
                        .astype(object)
                    )
                elif not pd.api.types.is_numeric_dtype(d[c]):
                    d[c] = d[c].astype(object).where(d[c].notna(), None)
                    if french and not english() and c in FR_VALUES:
                        labels = FR_VALUES[str(c)]
                        d[c] = d[c].map(lambda v, lab=labels: lab.get(v, v) if v else v)
            if french:
                d.columns = [fr_header(str(c)) for c in d.columns]
            d.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            for row in ws.iter_rows(min_row=1):
                for cell in row:
                    if cell.data_type == "f":  # never a formula from data
                        cell.data_type = "s"
            ws.freeze_panes = "B2"
            fill = PatternFill("solid", fgColor="1F4E78")
            for cell in ws[1]:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for i, col in enumerate(d.columns, start=1):
                values = [str(col), *map(str, d[col].head(200).tolist())]
                ws.column_dimensions[get_column_letter(i)].width = min(
                    45, max(8, max(len(v) for v in values) + 2)
                )
                if pd.api.types.is_float_dtype(d[col]):
                    for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
                        for c in cell:
                            c.number_format = "#,##0.0"
                elif pd.api.types.is_integer_dtype(d[col]):
                    for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
                        for c in cell:
                            c.number_format = "#,##0"
            ws.auto_filter.ref = ws.dimensions


# --------------------------------------------------------------------------- French report


def _fr_cell(value: Any, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, int | np.integer):
        return fr_number(value, 0)
    if isinstance(value, float | np.floating):
        if column.startswith(("population", "communes", "rank", "n_")) or column.endswith(
            ("_communes", "_population", "population_excluded")
        ):
            return fr_number(value, 0)
        return fr_number(value, 1)
    return str(value)


#: French labels of the report's and workbook's columns (units in the label).
FR_COLUMNS: dict[str, str] = {
    "insee_com": "code commune",
    "nom": "commune",
    "name": "nom",
    "epci_nom": "EPCI",
    "population": "population (hab.)",
    "density_class": "densité",
    "dens_label": "grille de densité INSEE",
    "mountain": "zone de montagne",
    "time_min": "temps (min)",
    "dist_km": "distance (km)",
    "default_speed_km": "dont km à vitesse par défaut",
    "time2_min": "temps au 2e site (min)",
    "site_name": "France services la plus proche",
    "site_type": "type",
    "site_format": "format",
    "site_address": "adresse",
    "site_hours_week": "ouverture (h/sem.)",
    "site2_name": "2e France services",
    "site2_type": "type du 2e site",
    "site2_format": "format du 2e site",
    "site2_address": "adresse du 2e site",
    "site2_hours_week": "ouverture du 2e site (h/sem.)",
    "access_2sfca_h_per_1000": "accessibilité 2SFCA (h/sem. pour 1 000 hab.)",
    "exclusion": "motif d'exclusion",
    "rank": "rang",
    "minutes_beyond": "minutes au-delà du seuil",
    "priority_pop_min": "priorité (hab. × min)",
    "unreachable": "aucun site accessible",
    "type_fs": "type",
    "format_fs": "format",
    "role": "rôle",
    "weekly_hours": "ouverture (h/sem.)",
    "hours_status": "horaires",
    "snap_m": "distance à la route (m)",
    "kind": "nature",
    "id": "identifiant",
    "reason": "motif",
    "communes": "communes",
    "townhall_time_min": "temps depuis la mairie (min)",
    "mean_time_min": "temps moyen pondéré (min)",
    "p90_time_min": "90e centile (min)",
    "difference_min": "écart à la mairie (min)",
    "population_beyond_20min": "hab. au-delà de 20 min",
    "population_beyond_30min": "hab. au-delà de 30 min",
    "origin_method": "méthode",
    "rural_aav": "hors aire d'attraction",
    "cateaav_label": "aire d'attraction des villes",
    "population_routed": "population calculée (hab.)",
    "n_points": "points",
    "share_beyond_20min_pct": "part au-delà de 20 min (%)",
    "share_beyond_30min_pct": "part au-delà de 30 min (%)",
}


def _cell_class(value: Any) -> str:
    numeric = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    return "num" if numeric else "txt"


def _table_fr(df: pd.DataFrame, max_rows: int = 60, empty: str = "Aucune ligne.") -> str:
    if df is None or not len(df):
        return f"<p class='empty'>{html_text(empty)}</p>"
    d = df.head(max_rows)
    head = "".join(f"<th>{html_text(FR_COLUMNS.get(str(c), str(c)))}</th>" for c in d.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{_cell_class(v)}'>{html_text(_fr_cell(v, str(c)))}</td>"
            for c, v in zip(d.columns, row, strict=True)
        )
        + "</tr>"
        for row in d.itertuples(index=False)
    )
    more = (
        f"<p class='more'>{len(df) - max_rows} autres lignes dans le classeur Excel.</p>"
        if len(df) > max_rows
        else ""
    )
    return f"<table class='tbl'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


#: Time classes of the report (minutes) and their labels.
REPORT_CLASSES: tuple[float, ...] = (10.0, 20.0, 30.0)


def time_class_table(communes: pd.DataFrame) -> pd.DataFrame:
    """Communes and population per time class (< 10, 10–20, 20–30, ≥ 30 min), excluded
    communes apart (never in a class)."""
    t = communes["time_min"].to_numpy(float)
    pop = pd.to_numeric(communes["population"], errors="coerce").fillna(0).to_numpy(float)
    ex = (
        communes["excluded"].astype(bool).to_numpy()
        if "excluded" in communes.columns
        else np.zeros(len(communes), bool)
    )
    edges = [0.0, *REPORT_CLASSES, np.inf]
    labels = [t_(x) for x in ("moins de 10 min", "10 à 20 min", "20 à 30 min", "30 min et plus")]
    rows = []
    counted = pop[~ex].sum()
    for lab, lo, hi in zip(labels, edges[:-1], edges[1:], strict=True):
        sel = ~ex & np.isfinite(t) & (t >= lo) & (t < hi)
        if hi == np.inf:
            sel |= ~ex & ~np.isfinite(t)  # no site reachable: beyond every threshold
        rows.append(
            {
                "classe": lab,
                "communes": int(sel.sum()),
                "population": float(pop[sel].sum()),
                "part de la population (%)": 100 * pop[sel].sum() / counted if counted else 0.0,
            }
        )
    rows.append(
        {
            "classe": t_("exclues du calcul (voir motifs)"),
            "communes": int(ex.sum()),
            "population": float(pop[ex].sum()),
            "part de la population (%)": float("nan"),
        }
    )
    return pd.DataFrame(rows)


def _static_map(diag: Diagnostic, out: Path, title: str) -> Path:
    """A4-friendly PNG map: communes by time class, sites, legend, scale, north, sources."""
    import datetime as dt

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from msapgeo.maps import CLASS_COLOURS, UNREACHABLE_COLOUR, time_class

    c = diag.communes.to_crs(settings.metric_crs)
    th = list(REPORT_CLASSES)
    cls = time_class(c["time_min"], th).to_numpy()
    colours = [CLASS_COLOURS[k] if k >= 0 else UNREACHABLE_COLOUR for k in cls]
    fig, ax = plt.subplots(figsize=(7.5, 6.2), dpi=110)
    c.plot(ax=ax, color=colours, edgecolor="#444444", linewidth=0.4)
    sites = diag.sites
    if len(sites):
        ok = sites[sites["exclusion"].isna()] if "exclusion" in sites.columns else sites
        ok = ok[ok.geometry.notna()].to_crs(settings.metric_crs)
        minx, miny, maxx, maxy = c.total_bounds
        pad = 0.05 * max(maxx - minx, maxy - miny)
        ok = ok.cx[minx - pad : maxx + pad, miny - pad : maxy + pad]
        ok.plot(ax=ax, color="#08519c", markersize=40, edgecolor="white", zorder=3)
    ax.set_axis_off()
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=10)
    labels = [
        t_(x)
        for x in ("moins de 10 min", "10 à 20 min", "20 à 30 min", "30 min et plus", "non calculé")
    ]
    handles: list[Any] = [Patch(facecolor=col, edgecolor="#444444") for col in CLASS_COLOURS[:4]]
    handles.append(Patch(facecolor=UNREACHABLE_COLOUR, edgecolor="#444444"))
    handles.append(
        Line2D([], [], marker="o", color="white", markerfacecolor="#08519c", markersize=8)
    )
    ax.legend(
        handles,
        [*labels, t_("France services")],
        loc="lower left",
        fontsize=7,
        frameon=True,
        title=t_("Temps de route"),
        title_fontsize=8,
    )
    # scale bar (10 km or 5 km) and north arrow
    minx, miny, maxx, maxy = ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1]
    span = maxx - minx
    bar = 10_000 if span > 40_000 else 5_000
    x0, y0 = maxx - 0.05 * span - bar, miny + 0.04 * (maxy - miny)
    ax.plot([x0, x0 + bar], [y0, y0], color="black", linewidth=3)
    ax.text(x0 + bar / 2, y0 + 0.012 * (maxy - miny), f"{bar // 1000} km", ha="center", fontsize=7)
    ax.annotate(
        "N",
        xy=(maxx - 0.05 * span, maxy - 0.05 * (maxy - miny)),
        xytext=(maxx - 0.05 * span, maxy - 0.14 * (maxy - miny)),
        arrowprops={"arrowstyle": "-|>", "color": "black"},
        ha="center",
        fontsize=9,
    )
    fig.text(
        0.01,
        0.01,
        t_(
            "Sources : © contributeurs OpenStreetMap (ODbL), ANCT, INSEE — msapgeo, {d}",
            d=dt.date.today().strftime("%Y-%m-%d" if english() else "%d/%m/%Y"),
        ),
        fontsize=6.5,
        color="#444444",
    )
    fig.tight_layout()
    path = out / "carte_temps_acces.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def _charts(diag: Diagnostic, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from msapgeo.maps import CLASS_COLOURS, time_class, time_class_labels

    c = diag.communes
    th = list(diag.meta.get("share_thresholds_min", settings.thresholds_min))
    known = c[c["population"].notna()]
    if "excluded" in known.columns:
        known = known[~known["excluded"].astype(bool)]
    cls = time_class(known["time_min"], th)
    labels = [*time_class_labels(th), t_("aucun site")]
    pops = [known.loc[(cls == k).to_numpy(), "population"].sum() for k in range(len(labels) - 1)]
    pops.append(known.loc[(cls == -1).to_numpy(), "population"].sum())
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.bar(labels, pops, color=[*CLASS_COLOURS[: len(labels) - 1], "#555555"])
    ax.set_ylabel(t_("population (habitants)"))
    ax.set_title(t_("Population par temps de route jusqu'au site le plus proche"))
    ax.tick_params(axis="x", labelsize=8)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: fr_number(v, 0)))
    fig.tight_layout()
    p1 = out / "population_by_time_class.png"
    fig.savefig(p1)
    plt.close(fig)

    t = known["time_min"].to_numpy(float)
    p = known["population"].to_numpy(float)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    if p.sum() > 0 and np.isfinite(t).any():
        order = np.argsort(np.where(np.isfinite(t), t, np.inf))
        ts, ps = t[order], np.cumsum(p[order]) / p.sum() * 100
        ok = np.isfinite(ts)
        ax.step(np.concatenate([[0], ts[ok]]), np.concatenate([[0], ps[ok]]), where="post")
    for x in th:
        ax.axvline(x, color="#999999", lw=0.8, ls="--")
    ax.set_xlabel(t_("temps de route jusqu'au site le plus proche (min)"))
    ax.set_ylabel(t_("part cumulée de la population (%)"))
    ax.set_ylim(0, 101)
    ax.set_title(t_("Part de la population selon le temps d'accès"))
    fig.tight_layout()
    p2 = out / "cumulative_population_by_minutes.png"
    fig.savefig(p2)
    plt.close(fig)
    return {"chart_classes": p1, "chart_cumulative": p2}


def _people_html(diag: Diagnostic) -> str:
    people = getattr(diag, "people", None)
    if people is None or not len(people):
        return ""
    cols = [
        c
        for c in (
            "insee_com",
            "nom",
            "population",
            "townhall_time_min",
            "mean_time_min",
            "p90_time_min",
            "difference_min",
            "population_beyond_20min",
            "population_beyond_30min",
            "origin_method",
        )
        if c in people.columns
    ]
    table = (
        people.sort_values("difference_min", ascending=False)
        if "difference_min" in people.columns
        else people
    )
    epci = getattr(diag, "people_epci", None)
    return (
        f"<h2>{html_text(t_('Tous les habitants : temps pondérés par la population'))}</h2>"
        + "<p>"
        + html_text(
            t_(
                "La population INSEE de chaque commune est répartie sur ses bâtiments (carreaux "
                "de 200 m) et chaque point est calculé comme une origine ; le temps depuis la "
                "mairie est donné à côté. Les communes que la méthode « mairie » avantage le "
                "plus viennent en premier."
            )
        )
        + "</p>"
        + _table_fr(table[cols], 400)
        + (_table_fr(epci) if epci is not None else "")
    )


def _img(path: Path, alt: str) -> str:
    import base64

    return (
        f"<img alt='{html_text(alt)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'/>"
    )


def diagnostic_html(
    diag: Diagnostic,
    charts: dict[str, Path],
    provenance: pd.DataFrame | None,
    static_map: Path | None = None,
) -> str:
    """A self-contained French report, printable on A4: key figures, map, time classes
    against the State's 30-minute promise, EPCI, worklist, excluded communes, sources."""
    kf = diag.key_figures()
    meta = diag.meta
    title = str(meta.get("title", "Diagnostic"))
    th = list(meta.get("thresholds_min", [20, 30]))
    classes = time_class_table(diag.communes)
    beyond30 = classes.iloc[3]
    within30 = 100 - float(beyond30["part de la population (%)"])
    promise = t_(
        "L'État s'est engagé à ce que chacun dispose d'une France services à moins de 30 "
        "minutes. Sur ce territoire, {s} % de la population (communes calculées) y est ; ",
        s=fr_number(within30, 1),
    ) + (
        t_(
            "{k} commune(s), {n} habitants, sont à 30 minutes ou plus.",
            k=int(beyond30["communes"]),
            n=fr_number(beyond30["population"]),
        )
        if beyond30["communes"]
        else t_("aucune commune n'est à 30 minutes ou plus.")
    )
    cards = [
        (t_("communes"), fr_number(kf["communes"])),
        (t_("population prise en compte"), fr_number(kf["population"])),
        *[
            (
                t_("à moins de {x} min", x=f"{x:g}"),
                fr_number(kf.get(f"share_within_{x:g}min_pct"), 1, "%"),
            )
            for x in meta.get("share_thresholds_min", settings.thresholds_min)
            if f"share_within_{x:g}min_pct" in kf
        ],
        (t_("temps moyen pondéré"), fr_number(kf["mean_time_min_popw"], 1, "min")),
        *[
            (t_("communes au-delà de {x} min", x=f"{x:g}"), fr_number(kf[f"gap_{x:g}min_communes"]))
            for x in th
        ],
        (t_("communes exclues du calcul"), fr_number(kf.get("excluded_communes", 0))),
    ]
    card_html = "".join(
        f"<div class='card'><div class='v'>{html_text(v)}</div>"
        f"<div class='k'>{html_text(k)}</div></div>"
        for k, v in cards
    )
    notes = "".join(f"<li>{html_text(n)}</li>" for n in diag.notes) or (
        f"<li>{html_text(t_('aucune'))}</li>"
    )
    commune_cols = [
        c
        for c in (
            "insee_com",
            "nom",
            "epci_nom",
            "population",
            "density_class",
            "mountain",
            "time_min",
            "dist_km",
            "site_name",
            "access_2sfca_h_per_1000",
        )
        if c in diag.communes.columns
    ]
    excluded = (
        diag.communes[diag.communes["excluded"].astype(bool)]
        if "excluded" in diag.communes.columns
        else diag.communes.iloc[:0]
    )
    work_cols = [
        c
        for c in (
            "rank",
            "insee_com",
            "nom",
            "population",
            "time_min",
            "minutes_beyond",
            "priority_pop_min",
            "unreachable",
        )
        if c in diag.worklist.columns
    ]
    epci = diag.epci[diag.epci["split"] == "all"] if len(diag.epci) else diag.epci
    epci_cols = [
        c
        for c in (
            "epci_nom",
            "communes",
            "population",
            *[f"share_within_{x:g}min_pct" for x in (10, 20, 30)],
            "mean_time_min_popw",
            *[f"gap_{x:g}min_communes" for x in th],
            "excluded_communes",
        )
        if c in epci.columns
    ]
    epci_fr = epci[epci_cols]
    site_cols = [
        c
        for c in ("name", "type_fs", "format_fs", "role", "weekly_hours", "exclusion")
        if c in diag.sites.columns
    ]
    excl_cols = [
        c for c in ("insee_com", "nom", "population", "exclusion") if c in excluded.columns
    ]
    imgs = "".join(_img(p, p.stem) for p in charts.values())
    map_html = _img(static_map, t_("carte des temps d'accès")) if static_map is not None else ""
    prov = _table_fr(provenance, 40) if provenance is not None else "<p>—</p>"
    graph = meta.get("graph", {}) or {}
    css = """
body { font: 11pt/1.45 system-ui, sans-serif; margin: 20px auto; max-width: 1000px; color: #222; }
h1 { font-size: 18pt; } h2 { font-size: 13pt; margin-top: 22px; border-bottom: 1px solid #ccc; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid #ccd; border-radius: 6px; padding: 6px 10px; min-width: 120px; }
.card .v { font-size: 15pt; font-weight: 600; } .card .k { color: #555; font-size: 9pt; }
.tbl { border-collapse: collapse; font-size: 8.5pt; width: 100%; table-layout: fixed; }
.tbl th, .tbl td { padding: 2px 4px; border-bottom: 1px solid #e4e4e4; text-align: left;
  overflow-wrap: anywhere; vertical-align: top; }
.tbl td.num { text-align: right; white-space: nowrap; }
.tbl th { background: #1f4e78; color: white; }
img { max-width: 100%; } .charts img { max-width: 49%; }
.more, .empty { color: #666; font-size: 9pt; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 4px 12px; }
.promise { background: #e8f1fb; border-left: 4px solid #1f4e78; padding: 8px 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; font-size: 9.5pt; }
  h2 { break-after: avoid; } tr, img, .card { break-inside: avoid; }
  thead { display: table-header-group; }
  .charts img { max-width: 49%; }
}
"""
    method = [
        t_(
            "Réseau routier : OpenStreetMap, voies carrossables (filtre drive d'osmnx). Vitesses "
            ": la limitation étiquetée (maxspeed) d'abord ; sinon la limite légale (code de la "
            "route R413-2, décret 2018-487 : 80 km/h hors agglomération, 50 km/h en "
            "agglomération) plafonnée, dans les profils practical et mountain, par la vitesse "
            "pratique de la classe de route et de son contexte (vitesses par défaut de Valhalla, "
            "cohérentes avec les vitesses observées par l'ONISR) ; coûts des carrefours et des "
            "virages sur un graphe étendu aux mouvements tournants (feux, stops, "
            "cédez-le-passage, priorité à droite, pas de demi-tour aux séparations de chaussées, "
            "interdictions de tourner, voies de desserte aux extrémités du trajet seulement). "
            "Agglomérations : étiquettes des voies, zones commerciales, disques autour des "
            "villages, bourgs et villes, et densité du réseau de rues."
        ),
        t_(
            "Origines : la mairie de chaque commune (contrôlée dans le polygone communal) ; sites "
            "rattachés au sommet routier le plus proche ; le trajet hors réseau compte à {v} "
            "km/h ; au-delà de {d} m d'une route, le point est exclu et listé.",
            v=fr_number(settings.offnetwork_speed_kmh, 0),
            d=fr_number(settings.snap_tolerance_m, 0),
        ),
        t_(
            "Temps : itinéraire le plus rapide vers le site fixe le plus proche (un Dijkstra "
            "multi-sources sur le graphe inversé) ; les sites des départements voisins comptent ; "
            "les bus France services sont listés à part."
        ),
        t_(
            "À moins de T minutes : temps ≤ T ; commune au-delà de T : temps > T ou aucun site "
            "accessible ; une commune exclue du calcul n'est jamais comptée au-delà."
        ),
        t_(
            "Accessibilité 2SFCA gaussienne (Dai 2010) : offre = heures d'ouverture "
            "hebdomadaires, demande = population, zone de 30 min ; heures par semaine pour "
            "1 000 habitants."
        ),
        t_(
            "Rural : niveaux 5 à 7 de la grille de densité INSEE ; hors aire d'attraction des "
            "villes (CATEAAV 30) donné à côté. Montagne : source indiquée dans chaque ligne."
        ),
    ]
    method_html = "".join(f"<li>{html_text(x)}</li>" for x in method)
    lang = "en" if english() else "fr"
    intro = t_(
        "Temps de route de chaque commune à la France services la plus proche. Profil de "
        "vitesse {p} ; réseau {f} {ts}.",
        p=meta.get("profile", "practical"),
        f=graph.get("source_file", ""),
        ts=graph.get("osm_timestamp", ""),
    )
    h = {
        "read": t_("À lire d'abord"),
        "key": t_("Chiffres clés"),
        "map": t_("Carte"),
        "promise": t_("Temps d'accès et engagement des 30 minutes"),
        "charts": t_("Graphiques"),
        "work": t_(
            "Communes prioritaires : au-delà de {t} min, par population × minutes", t=f"{th[-1]:g}"
        ),
        "epci": t_("EPCI"),
        "communes": t_("Communes"),
        "excluded": t_("Communes exclues du calcul (jamais comptées comme non desservies)"),
        "sites": t_("Sites"),
        "exclusions": t_("Exclusions et lignes signalées"),
        "sources": t_("Sources et millésimes"),
        "method": t_("Méthode"),
        "no_work": t_("Aucune commune au-delà de {t} minutes.", t=f"{th[-1]:g}"),
        "footer": t_("msapgeo — données OpenStreetMap © contributeurs OpenStreetMap (ODbL)."),
    }
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{html_text(title)}</title>
<style>{css}</style></head><body>
<h1>{html_text(title)}</h1>
<p>{html_text(intro)}</p>
<div class="note"><b>{html_text(h["read"])}</b><ul>{notes}</ul></div>
<h2>{html_text(h["key"])}</h2><div class="cards">{card_html}</div>
<h2>{html_text(h["map"])}</h2>{map_html}
<h2>{html_text(h["promise"])}</h2>
<p class="promise">{html_text(promise)}</p>
{_table_fr(classes)}
<h2>{html_text(h["charts"])}</h2><div class="charts">{imgs}</div>
<h2>{html_text(h["work"])}</h2>
{_table_fr(diag.worklist[work_cols], empty=h["no_work"])}
{_people_html(diag)}
<h2>{html_text(h["epci"])}</h2>{_table_fr(epci_fr)}
<h2>{html_text(h["communes"])}</h2>{_table_fr(diag.communes[commune_cols], 400)}
<h2>{html_text(h["excluded"])}</h2>
{_table_fr(excluded[excl_cols], empty=t_("Aucune commune exclue."))}
<h2>{html_text(h["sites"])}</h2>{_table_fr(pd.DataFrame(diag.sites[site_cols]), 200)}
<h2>{html_text(h["exclusions"])}</h2>{_table_fr(diag.exclusions, 200, empty=t_("Aucune."))}
<h2>{html_text(h["sources"])}</h2>{prov}
<h2>{html_text(h["method"])}</h2>
<ul>{method_html}</ul>
<p class="more">{html_text(h["footer"])}</p>
</body></html>
"""


def write_diagnostic(
    diag: Diagnostic, out_dir: str | Path, *, provenance: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write ``diagnostic.gpkg``, ``diagnostic.xlsx``, ``map.html``, PNG charts, ``report.html``
    and ``run.json``, as one complete folder (:class:`msapgeo.fileio.OutputFolder`).

    Parameters
    ----------
    diag
        :class:`msapgeo.diagnostic.Diagnostic`.
    out_dir
        Folder; replaced whole when it holds an earlier msapgeo run.
    provenance
        Data sources table (:func:`msapgeo.datasets.provenance`) for the report.
    """
    run = {"meta": _jsonable(diag.meta), "notes": list(diag.notes)}
    with OutputFolder(out_dir, run) as folder:
        files = write_diagnostic_files(diag, folder.path, provenance=provenance)
    return {**{k: folder.final(v) for k, v in files.items()}, "run": folder.out / "run.json"}


def write_diagnostic_files(
    diag: Diagnostic, out_dir: str | Path, *, provenance: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write the diagnostic outputs into a folder (see :func:`write_diagnostic`)."""
    from msapgeo.maps import diagnostic_map

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    th = diag.meta.get("thresholds_min", [20, 30])
    epci_all = diag.epci
    epci = epci_all[epci_all["split"] == "all"] if len(epci_all) else epci_all
    epci_splits = epci_all[epci_all["split"] != "all"] if len(epci_all) else epci_all
    if len(epci) and "epci_nom" in diag.communes.columns:
        shapes = diag.communes.dissolve(by="epci_nom")[["geometry"]].reset_index()
        epci_g = gpd.GeoDataFrame(
            epci.merge(shapes, on="epci_nom", how="left"),
            geometry="geometry",
            crs=settings.default_crs,
        )
    else:
        epci_g = gpd.GeoDataFrame(epci, geometry=[None] * len(epci), crs=settings.default_crs)
    layers = {"communes": diag.communes, "sites": diag.sites, "epci": epci_g}
    points = getattr(diag, "points", None)
    if points is not None:
        layers["population_points"] = points.drop(
            columns=["node_osmid", "snap_time_s"], errors="ignore"
        )
    iso = getattr(diag, "isochrones", None)
    if iso is not None:
        layers["isochrones"] = iso
    gpkg = write_gpkg(layers, out / "diagnostic.gpkg")
    people = getattr(diag, "people", None)
    people_epci = getattr(diag, "people_epci", None)

    summary = diag.departement.copy()
    notes = pd.DataFrame({"note": [*diag.notes, _SHEETS_NOTE]})
    communes_tbl = pd.DataFrame(diag.communes.drop(columns="geometry"))
    sites_tbl = pd.DataFrame(diag.sites.drop(columns="geometry"))
    xlsx = out / "diagnostic.xlsx"
    with atomic_path(xlsx, suffix=".xlsx") as tmp:
        _excel(
            tmp,
            {
                "summary": summary,
                "communes": communes_tbl,
                "epci": epci,
                "epci_splits": epci_splits,
                "worklist": diag.worklist,
                "sites": sites_tbl,
                "exclusions": diag.exclusions,
                "notes": notes,
                **({"population": people} if people is not None else {}),
                **({"population_epci": people_epci} if people_epci is not None else {}),
                **({"provenance": provenance} if provenance is not None else {}),
            },
        )
    access = getattr(diag, "access", None)
    edges = access.graph.edges_gdf() if access is not None else None
    m = diagnostic_map(
        diag.communes,
        diag.sites,
        gap_threshold=th[-1],
        edges=edges,
        points=points,
        dem=getattr(diag, "dem", None),
    )
    html_map = save_offline(m, out / "map.html")
    charts = _charts(diag, out)
    static = _static_map(diag, out, str(diag.meta.get("title", t_("Temps d'accès"))))
    report = out / "report.html"
    atomic_write_text(report, diagnostic_html(diag, charts, provenance, static))
    return {
        "gpkg": gpkg,
        "xlsx": xlsx,
        "map": html_map,
        **charts,
        "static_map": static,
        "report": report,
    }


# ------------------------------------------------------------------- before / after


def write_comparison(
    comp: Comparison,
    folder: str | Path,
    name: str,
    *,
    csv_format: str = "fr",
    title: str | None = None,
    edges: gpd.GeoDataFrame | None = None,
    closed_roads: gpd.GeoDataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    map_name: str = "map.html",
) -> list[Path]:
    """Write a :class:`msapgeo.comparison.Comparison` (evaluation, scenario, or one
    solution of the location models) into ``folder``.

    Files: ``{name}_communes.csv`` (one row per origin: times before and after, ``delta_min``,
    sites before and after), ``{name}_summary.csv`` (people and minutes), ``{name}.xlsx``
    (both, French headers), ``{name}.gpkg`` (origins, and the sites added or removed) and
    ``map_name`` (before/after, offline), plus one CSV per entry of ``tables``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(folder)
    communes = pd.DataFrame(comp.communes.drop(columns="geometry", errors="ignore"))
    paths = [
        write_csv(communes, out / f"{name}_communes.csv", fmt=csv_format),
        write_csv(comp.summary, out / f"{name}_summary.csv", fmt=csv_format),
        comp.to_excel(out / f"{name}.xlsx"),
    ]
    layers: dict[str, gpd.GeoDataFrame] = {}
    origins = comp.communes.drop(columns=["commune_geometry"], errors="ignore")
    if not isinstance(origins, gpd.GeoDataFrame) and "geometry" in origins.columns:
        origins = gpd.GeoDataFrame(origins, geometry="geometry", crs=settings.default_crs)
    if isinstance(origins, gpd.GeoDataFrame):
        layers["communes"] = origins
    added, removed = comp.site_changes()
    if len(added):
        layers["sites_added"] = added
    if len(removed):
        layers["sites_removed"] = removed
    if closed_roads is not None and len(closed_roads):
        layers["closed_roads"] = closed_roads
    if layers:
        paths.append(write_gpkg(layers, out / f"{name}.gpkg"))
    kwargs: dict[str, Any] = {"edges": edges, "closed_roads": closed_roads}
    if title is not None:
        kwargs["title"] = title
    paths.append(save_offline(comp.map(**kwargs), out / map_name))
    for table_name, table in (tables or {}).items():
        paths.append(write_csv(table, out / f"{table_name}.csv", fmt=csv_format))
    return paths


def write_optimisation(
    opt: Optimisation,
    folder: str | Path,
    *,
    name: str = "optimise",
    csv_format: str = "fr",
    model: str = "maximal_covering",
    k: int | None = None,
    threshold_min: float | None = None,
    title: str | None = None,
    edges: gpd.GeoDataFrame | None = None,
    map_name: str = "map.html",
) -> list[Path]:
    """Write a :class:`msapgeo.whatif.Optimisation`: ``{name}.csv`` (the models' table:
    objective with its unit, chosen sites by name, already covered, gain),
    ``{name}.gpkg`` (the sites chosen by ``model`` at ``k`` — default the largest — and
    ``threshold_min``) and that solution's before/after as :func:`write_comparison` files
    named ``{name}_effect``."""
    out = Path(folder)
    paths = [write_csv(opt.table, out / f"{name}.csv", fmt=csv_format)]
    best = opt.comparison(model, k=k, threshold_min=threshold_min)
    if best.sites_after is None or best.sites_before is None:
        raise InputError("the solution's comparison does not hold its sites before and after")
    chosen = best.site_changes()[0]
    paths.append(write_gpkg({f"chosen_{model}": chosen}, out / f"{name}.gpkg"))
    paths += write_comparison(
        best,
        out,
        f"{name}_effect",
        csv_format=csv_format,
        title=title,
        edges=edges,
        map_name=map_name,
    )
    return paths
