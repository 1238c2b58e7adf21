"""Write access results: GeoPackage (QGIS), CSV (Excel), folium map, run metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo import settings
from msapgeo.maps import access_map
from msapgeo.pipeline import AccessResult


def _clean(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make columns writable by GDAL (no objects, no nested values)."""
    out = gdf.copy()
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


def write_access(result: AccessResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``access.gpkg`` (layers origins, sites, edges, exclusions), ``access.csv``,
    ``exclusions.csv``, ``map.html`` and ``run.json``.

    Parameters
    ----------
    result
        Output of :func:`msapgeo.pipeline.run_access`.
    out_dir
        Folder, created if needed.

    Returns
    -------
    dict
        Output name → path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "access.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    origins = result.origins.drop(columns=["commune_geometry"], errors="ignore")
    sites = result.sites
    _clean(origins).to_file(gpkg, layer="origins", driver="GPKG")
    _clean(sites).to_file(gpkg, layer="sites", driver="GPKG")
    edges = result.graph.edges_gdf()
    _clean(edges).to_file(gpkg, layer="edges", driver="GPKG")
    excl = result.exclusions
    excl_g = gpd.GeoDataFrame(excl, geometry=[None] * len(excl), crs=settings.default_crs)
    _clean(excl_g).to_file(gpkg, layer="exclusions", driver="GPKG")

    table = pd.DataFrame(origins.drop(columns=origins.geometry.name))
    pts = origins.geometry
    ok = pts.notna() & ~pts.is_empty
    table["lon"] = np.where(ok, pts.x.where(ok), np.nan)
    table["lat"] = np.where(ok, pts.y.where(ok), np.nan)
    csv = out / "access.csv"
    table.to_csv(csv, index=False, encoding="utf-8-sig")
    excl_csv = out / "exclusions.csv"
    excl.to_csv(excl_csv, index=False, encoding="utf-8-sig")

    m = access_map(result.origins, sites, edges=edges)
    html_path = out / "map.html"
    m.save(str(html_path))

    run = out / "run.json"
    run.write_text(
        json.dumps(
            {"summary": result.summary(), "meta": _jsonable(result.meta)},
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return {"gpkg": gpkg, "csv": csv, "exclusions": excl_csv, "map": html_path, "run": run}


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
