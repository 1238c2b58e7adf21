"""Write access results: GeoPackage (QGIS), CSV (Excel), offline map, run metadata.

Every table goes through :mod:`msapgeo.escape` (text cells that a spreadsheet would take
for a formula are neutralised) and every run is written through
:class:`msapgeo.fileio.OutputFolder` (the folder appears complete or not at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo import settings
from msapgeo.escape import html_text, safe_table
from msapgeo.fileio import OutputFolder, atomic_path, atomic_write_text
from msapgeo.maps import access_map, save_offline
from msapgeo.pipeline import AccessResult

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


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write layers into one GeoPackage, atomically (the file appears complete)."""
    with atomic_path(path, suffix=".gpkg") as tmp:
        tmp.unlink()
        for name, gdf in layers.items():
            clean_for_gdal(gdf).to_file(tmp, layer=name, driver="GPKG")
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
    m = access_map(result.origins, sites, edges=edges)
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


def _excel(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            d = safe_table(df)
            for c in d.columns:
                if d[c].dtype == bool or str(d[c].dtype) == "boolean":
                    d[c] = d[c].map({True: "yes", False: "no"}).astype(object)
                elif not pd.api.types.is_numeric_dtype(d[c]):
                    d[c] = d[c].astype(object).where(d[c].notna(), None)
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
                            c.number_format = "0.0"
            ws.auto_filter.ref = ws.dimensions


def _charts(diag: Any, out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from msapgeo.maps import CLASS_COLOURS, time_class, time_class_labels

    c = diag.communes
    th = list(diag.meta.get("share_thresholds_min", settings.thresholds_min))
    known = c[c["population"].notna()]
    cls = time_class(known["time_min"], th)
    labels = [*time_class_labels(th), "no time"]
    pops = [known.loc[(cls == k).to_numpy(), "population"].sum() for k in range(len(labels) - 1)]
    pops.append(known.loc[(cls == -1).to_numpy(), "population"].sum())
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.bar(labels, pops, color=[*CLASS_COLOURS[: len(labels) - 1], "#555555"])
    ax.set_ylabel("population (inhabitants)")
    ax.set_title("Population by road time to the nearest site")
    ax.tick_params(axis="x", labelsize=8)
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
    ax.set_xlabel("road time to the nearest site (min)")
    ax.set_ylabel("cumulative share of population (%)")
    ax.set_ylim(0, 101)
    ax.set_title("Cumulative share of population by minutes")
    fig.tight_layout()
    p2 = out / "cumulative_population_by_minutes.png"
    fig.savefig(p2)
    plt.close(fig)
    return {"chart_classes": p1, "chart_cumulative": p2}


def _table_html(df: pd.DataFrame, max_rows: int = 60) -> str:
    d = df.head(max_rows).copy()
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c]):
            d[c] = d[c].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}")
    more = (
        f"<p class='more'>{len(df) - max_rows} more rows in the Excel file.</p>"
        if len(df) > max_rows
        else ""
    )
    for c in d.columns:
        d[c] = d[c].map(html_text)
    d.columns = [html_text(c) for c in d.columns]
    return d.to_html(index=False, escape=False, na_rep="", border=0, classes="tbl") + more


def _people_html(diag: Any) -> str:
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
        if "difference_min" in people
        else people
    )
    epci = getattr(diag, "people_epci", None)
    return (
        "<h2>Every inhabitant: population-weighted times</h2>"
        "<p>Each commune's INSEE population spread over its buildings (200 m squares), "
        "routed like any origin; the town-hall time is set beside it. Communes where the "
        "town-hall method flatters most come first.</p>"
        + _table_html(table[cols], 400)
        + (_table_html(epci) if epci is not None else "")
    )


def diagnostic_html(diag: Any, charts: dict[str, Path], provenance: pd.DataFrame | None) -> str:
    """A self-contained diagnostic page: key figures, charts, tables, provenance, method."""
    import base64

    kf = diag.key_figures()
    th = diag.meta.get("thresholds_min", [20, 30])
    sh = diag.meta.get("share_thresholds_min", list(settings.thresholds_min))
    cards = [
        ("communes", f"{int(kf['communes'])}"),
        ("population counted", f"{kf['population']:,.0f}"),
        *[(f"within {x:g} min", f"{kf[f'share_within_{x:g}min_pct']:.1f} %") for x in sh],
        ("population-weighted mean", f"{kf['mean_time_min_popw']:.1f} min"),
        ("population-weighted median", f"{kf['median_time_min_popw']:.1f} min"),
        *[(f"gap communes > {x:g} min", f"{int(kf[f'gap_{x:g}min_communes'])}") for x in th],
    ]
    card_html = "".join(
        f"<div class='card'><div class='v'>{html_text(v)}</div>"
        f"<div class='k'>{html_text(k)}</div></div>"
        for k, v in cards
    )
    imgs = "".join(
        f"<img alt='{html_text(p.stem)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'/>"
        for p in charts.values()
    )
    notes = "".join(f"<li>{html_text(n)}</li>" for n in diag.notes) or "<li>none</li>"
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
            "site_type",
            "access_2sfca_h_per_1000",
            "exclusion",
        )
        if c in diag.communes.columns
    ]
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
    site_cols = [
        c
        for c in (
            "site_id",
            "name",
            "type_fs",
            "format_fs",
            "role",
            "weekly_hours",
            "hours_status",
            "snap_m",
            "exclusion",
        )
        if c in diag.sites.columns
    ]
    prov = _table_html(provenance) if provenance is not None and len(provenance) else "<p>—</p>"
    meta = diag.meta
    graph = meta.get("graph", {})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html_text(meta.get("title", "Diagnostic"))}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1150px; color: #222; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 10px; }}
.card {{ border: 1px solid #ccd; border-radius: 6px; padding: 8px 12px; min-width: 130px; }}
.card .v {{ font-size: 20px; font-weight: 600; }} .card .k {{ color: #555; font-size: 12px; }}
.tbl {{ border-collapse: collapse; font-size: 12px; }}
.tbl th, .tbl td {{ padding: 3px 6px; border-bottom: 1px solid #e4e4e4; text-align: left; }}
.tbl th {{ background: #1f4e78; color: white; position: sticky; top: 0; }}
img {{ max-width: 49%; }} .more {{ color: #666; font-size: 12px; }}
.note {{ background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 12px; }}
</style></head><body>
<h1>{html_text(meta.get("title", "Diagnostic"))}</h1>
<p>Road time from every commune to its nearest site. Profile
<b>{html_text(str(meta.get("profile", "legal")))}</b>; network
{html_text(graph.get("source_file", ""))} ({html_text(graph.get("osm_timestamp", ""))}).</p>
<div class="note"><b>Read this first</b><ul>{notes}</ul></div>
<h2>Key figures</h2><div class="cards">{card_html}</div>
<h2>Charts</h2>{imgs}
<h2>Worklist: gap communes beyond {th[-1]:g} min, ranked by population × minutes beyond</h2>
{_table_html(diag.worklist[work_cols])}
{_people_html(diag)}
<h2>EPCI</h2>{_table_html(epci)}
<h2>Communes</h2>{_table_html(diag.communes[commune_cols], 400)}
<h2>Sites</h2>{_table_html(pd.DataFrame(diag.sites[site_cols]), 200)}
<h2>Exclusions and flagged rows</h2>{_table_html(diag.exclusions, 200)}
<h2>Data vintages and provenance</h2>{prov}
<h2>Method</h2>
<ul>
<li>Road network: OpenStreetMap, drivable ways (osmnx's <i>drive</i> filter). Speeds: a
tagged <code>maxspeed</code> first; otherwise the French legal limit (code de la route
R413-2, décret 2018-487: 80 km/h on two-way rural roads, 50 km/h in built-up areas)
capped, in the <i>practical</i> and <i>mountain</i> profiles, by the practical speed of
the road class and context (Valhalla's default speeds, consistent with ONISR's observed
French speeds); junction and turn costs on a turn-expanded graph (signals, stops,
give-ways, priority to the right, turn slow-downs, no U-turn at dual-carriageway splits,
turn restrictions, destination-only streets at trip ends). Built-up areas: the way's tags,
commercial and retail landuse, and discs around village, town and city nodes. Each edge
records where its speed came from.</li>
<li>Origins: each commune's town hall (its polygon's representative point when unknown);
sites snapped to the nearest road vertex; the off-network leg is counted at
{settings.offnetwork_speed_kmh:g} km/h; points farther than
{settings.snap_tolerance_m:,.0f} m from a road are excluded.</li>
<li>Times: fastest route to the nearest fixed site, one multi-source Dijkstra on the reversed
graph; sites across the département border count; itinerant services (buses) are listed apart.</li>
<li>Within T minutes means time ≤ T; a gap commune has time &gt; T or no reachable site.
Population figures use communes of known population only.</li>
<li>Accessibility score: Gaussian two-step floating catchment (Dai 2010), supply = weekly
opening hours, demand = population, catchment 30 min; hours per week per 1,000 inhabitants.</li>
<li>Rural: INSEE density levels 5–7. Mountain: official zone de montagne list when given,
else <i>unknown</i>.</li>
</ul>
<p class="more">msapgeo — OpenStreetMap data © OpenStreetMap contributors (ODbL).</p>
</body></html>
"""


def write_diagnostic(
    diag: Any, out_dir: str | Path, *, provenance: pd.DataFrame | None = None
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
    diag: Any, out_dir: str | Path, *, provenance: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write the diagnostic outputs into a folder (see :func:`write_diagnostic`)."""
    from msapgeo.maps import diagnostic_map

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    th = diag.meta.get("thresholds_min", [20, 30])
    epci = diag.epci
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
    m = diagnostic_map(diag.communes, diag.sites, gap_threshold=th[-1], edges=edges, points=points)
    html_map = save_offline(m, out / "map.html")
    charts = _charts(diag, out)
    report = out / "report.html"
    atomic_write_text(report, diagnostic_html(diag, charts, provenance))
    return {"gpkg": gpkg, "xlsx": xlsx, "map": html_map, **charts, "report": report}
