"""Every inhabitant, not every town hall: population points per commune.

INSEE's Métric measures from chef-lieu to chef-lieu and counts a trip inside a commune as
zero; in a mountain commune that hides the people who live up the valley. Here each
commune's INSEE population is spread over where people live, and aggregated into
settlement points that are snapped and routed like any origin:

1. **Buildings** (:func:`msapgeo.network.read_buildings`): the population is spread over
   the commune's buildings in proportion to their footprint area, then summed per 200 m
   square of Lambert-93 (the size of INSEE's carroyage), the point of a square being the
   footprint-weighted centre of its buildings. *Limits*: extracts rebuilt from vector
   tiles carry no building type nor levels, so a tourist residence or a barn weighs like a
   home of the same footprint, and a tall building like a low one.
2. Where the extract maps no building in a commune: its ``place=*`` nodes, weighted by
   class (:data:`PLACE_WEIGHTS`).
3. Else: its town hall (the origin point), with the whole population.

With INSEE's gridded population (Filosofi 200 m squares, :func:`load_filosofi`), the
squares are used directly instead. Each point records ``origin_method``; the points of a
commune add up to its INSEE population exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from msapgeo import settings
from msapgeo.errors import InputError

#: Side (m) of the squares the building population is summed into (INSEE's carroyage).
CELL_M = 200.0

#: Relative weight of ``place=*`` nodes when a commune maps no building: an order of the
#: number of dwellings each class stands for (OSM wiki Key:place population bands).
PLACE_WEIGHTS: dict[str, float] = {
    "city": 50.0,
    "town": 20.0,
    "suburb": 5.0,
    "village": 5.0,
    "quarter": 3.0,
    "neighbourhood": 2.0,
    "hamlet": 1.0,
    "isolated_dwelling": 0.2,
}


def population_points(
    communes: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
    cell_m: float = CELL_M,
) -> gpd.GeoDataFrame:
    """Spread each commune's population over its settlements.

    Parameters
    ----------
    communes
        One row per commune: ``insee_com``, ``population``, a ``commune_geometry`` (WKT
        polygon) and the town-hall point as geometry (:func:`msapgeo.places.
        origins_from_communes`); other columns (``nom``, ``epci_nom``…) are carried.
    buildings
        :func:`msapgeo.network.read_buildings` output (``area_m2``, points).
    places
        ``place=*`` nodes (``place``, points).
    cell_m
        Side of the squares (m).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point: ``point_id``, the commune's columns, ``population`` (float,
        inhabitants), ``n_buildings``, ``origin_method`` (``buildings``, ``places`` or
        ``town hall``), point geometry (EPSG:4326).
    """
    for col in ("insee_com", "population", "commune_geometry"):
        if col not in communes.columns:
            raise InputError(f"communes: column {col!r} is missing (see origins_from_communes)")
    c = communes.reset_index(drop=True)
    polys = gpd.GeoDataFrame(
        {"_row": np.arange(len(c))},
        geometry=gpd.GeoSeries.from_wkt(c["commune_geometry"], crs=c.crs).values,
        crs=c.crs,
    ).to_crs(settings.default_crs)
    carry = [k for k in c.columns if k not in ("geometry", "commune_geometry", "population")]
    frames = []
    done = np.zeros(len(c), bool)
    if buildings is not None and len(buildings):
        b = gpd.sjoin(buildings[["area_m2", "geometry"]], polys, how="inner", predicate="within")
        if len(b):
            xy = b.geometry.to_crs(settings.metric_crs)
            df = pd.DataFrame(
                {
                    "_row": b["_row"].to_numpy(),
                    "w": b["area_m2"].to_numpy(float),
                    "x": xy.x.to_numpy(),
                    "y": xy.y.to_numpy(),
                }
            )
            df["cx"] = np.floor(df["x"] / cell_m).astype(np.int64)
            df["cy"] = np.floor(df["y"] / cell_m).astype(np.int64)
            df["wx"], df["wy"] = df["w"] * df["x"], df["w"] * df["y"]
            g = df.groupby(["_row", "cx", "cy"], sort=True).agg(
                w=("w", "sum"), wx=("wx", "sum"), wy=("wy", "sum"), n=("w", "size")
            )
            g = g.reset_index()
            frames.append(
                pd.DataFrame(
                    {
                        "_row": g["_row"],
                        "w": g["w"],
                        "x": g["wx"] / g["w"],
                        "y": g["wy"] / g["w"],
                        "n_buildings": g["n"],
                        "origin_method": "buildings",
                    }
                )
            )
            done[np.unique(g["_row"])] = True
    if places is not None and len(places) and not done.all():
        pl = places[places["place"].isin(list(PLACE_WEIGHTS))]
        pl = gpd.sjoin(pl[["place", "geometry"]], polys[~done], how="inner", predicate="within")
        if len(pl):
            xy = pl.geometry.to_crs(settings.metric_crs)
            frames.append(
                pd.DataFrame(
                    {
                        "_row": pl["_row"].to_numpy(),
                        "w": pl["place"].map(PLACE_WEIGHTS).to_numpy(float),
                        "x": xy.x.to_numpy(),
                        "y": xy.y.to_numpy(),
                        "n_buildings": 0,
                        "origin_method": "places",
                    }
                )
            )
            done[np.unique(pl["_row"])] = True
    rest = np.flatnonzero(~done)
    if len(rest):
        xy = c.geometry.iloc[rest].to_crs(settings.metric_crs)
        frames.append(
            pd.DataFrame(
                {
                    "_row": rest,
                    "w": 1.0,
                    "x": xy.x.to_numpy(),
                    "y": xy.y.to_numpy(),
                    "n_buildings": 0,
                    "origin_method": "town hall",
                }
            )
        )
    pts = pd.concat(frames, ignore_index=True).sort_values(["_row", "x", "y"], kind="stable")
    pop = pd.to_numeric(c["population"], errors="coerce").to_numpy(float)
    total_w = pts.groupby("_row")["w"].transform("sum").to_numpy()
    share = pts["w"].to_numpy() / total_w
    value = pop[pts["_row"].to_numpy()] * share
    # the points of a commune add up to its population exactly: the last takes the rest
    rows = pts["_row"].to_numpy()
    last = np.r_[rows[1:] != rows[:-1], True]
    sums = pd.Series(value).groupby(rows).cumsum().to_numpy()
    prev = np.where(last, sums - value, 0.0)
    value = np.where(last, pop[rows] - prev, value)
    out = c.iloc[rows][carry].reset_index(drop=True)
    out.insert(
        0,
        "point_id",
        [
            f"{cc}-{k}"
            for cc, k in zip(out["insee_com"], pts.groupby("_row").cumcount(), strict=True)
        ],
    )
    out["population"] = value
    out["n_buildings"] = pts["n_buildings"].to_numpy()
    out["origin_method"] = pts["origin_method"].to_numpy()
    geom = gpd.points_from_xy(pts["x"], pts["y"], crs=settings.metric_crs)
    return gpd.GeoDataFrame(out, geometry=geom, crs=settings.metric_crs).to_crs(
        settings.default_crs
    )


def load_filosofi(path: str | Path, *, communes: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Read INSEE's gridded population (Filosofi, 200 m squares) as population points.

    Parameters
    ----------
    path
        INSEE's file (CSV, or GeoPackage/shapefile with the same columns): ``Idcar_200m``
        (for example ``CRS3035RES200mN2029800E4252200``: the square's south-west corner in
        EPSG:3035), ``Ind`` (inhabitants) and ``lcog_geo`` (INSEE codes of the communes the
        square touches, concatenated; the first is taken).
    communes
        Keep the squares of these communes only.

    Returns
    -------
    geopandas.GeoDataFrame
        ``point_id`` (``Idcar_200m``), ``insee_com``, ``population``, ``n_buildings`` (0),
        ``origin_method`` = ``Filosofi 200 m``, the square's centre (EPSG:4326).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: Filosofi file not found")
    raw = pd.read_csv(p, dtype=str) if p.suffix.lower() == ".csv" else gpd.read_file(p)
    for col in ("Idcar_200m", "Ind", "lcog_geo"):
        if col not in raw.columns:
            raise InputError(f"{p}: column {col!r} is missing; is this INSEE's Filosofi layout?")
    m = raw["Idcar_200m"].astype(str).str.extract(r"RES(\d+)mN(\d+)E(\d+)")
    bad = m.isna().any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise InputError(
            f"{p} row {row}: Idcar_200m {raw['Idcar_200m'].iloc[row - 2]!r} unreadable"
        )
    size = m[0].astype(float)
    north = m[1].astype(float) + size / 2
    east = m[2].astype(float) + size / 2
    code = raw["lcog_geo"].astype(str).str[:5]
    out = gpd.GeoDataFrame(
        {
            "point_id": raw["Idcar_200m"].astype(str),
            "insee_com": code,
            "population": pd.to_numeric(raw["Ind"], errors="coerce").to_numpy(float),
            "n_buildings": 0,
            "origin_method": "Filosofi 200 m",
        },
        geometry=gpd.points_from_xy(east, north, crs="EPSG:3035"),
        crs="EPSG:3035",
    ).to_crs(settings.default_crs)
    if communes is not None:
        out = out[out["insee_com"].isin(list(communes))].reset_index(drop=True)
    return out


def _weighted_quantile(t: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(t)
    t, w = t[order], w[order]
    cw = np.cumsum(w)
    if cw[-1] <= 0:
        return float("nan")
    return float(t[np.searchsorted(cw, q * cw[-1], side="left")])


def people_indicators(
    points: pd.DataFrame,
    townhalls: pd.DataFrame | None = None,
    *,
    thresholds: Sequence[float] = (20.0, 30.0),
    by: str = "insee_com",
) -> pd.DataFrame:
    """Population-weighted travel times per group (commune, EPCI…).

    Parameters
    ----------
    points
        Routed population points (``population``, ``time_min``, the ``by`` column).
    townhalls
        The town-hall run (``insee_com``, ``time_min``) to set beside, when ``by`` is the
        commune: ``townhall_time_min`` and ``difference_min`` (weighted mean − town hall).
    thresholds
        Minutes.
    by
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``population``, ``population_routed``, ``n_points``,
        ``mean_time_min`` and ``p90_time_min`` (population-weighted over the routed
        points), ``population_beyond_<T>min`` and ``share_beyond_<T>min_pct``, and the
        ``origin_method`` of the group's points.
    """
    rows: list[dict[str, Any]] = []
    for key, g in points.groupby(by, sort=True):
        pop = pd.to_numeric(g["population"], errors="coerce").fillna(0).to_numpy(float)
        t = pd.to_numeric(g["time_min"], errors="coerce").to_numpy(float)
        ok = np.isfinite(t)
        row: dict[str, Any] = {
            by: key,
            "population": float(pop.sum()),
            "population_routed": float(pop[ok].sum()),
            "n_points": len(g),
            "mean_time_min": float(np.average(t[ok], weights=pop[ok]))
            if ok.any() and pop[ok].sum() > 0
            else float("nan"),
            "p90_time_min": _weighted_quantile(t[ok], pop[ok], 0.9) if ok.any() else float("nan"),
        }
        for th in thresholds:
            beyond = float(pop[ok & (t > th)].sum())
            row[f"population_beyond_{th:g}min"] = beyond
            row[f"share_beyond_{th:g}min_pct"] = 100 * beyond / pop.sum() if pop.sum() else 0.0
        if "origin_method" in g.columns:
            row["origin_method"] = "/".join(sorted(set(g["origin_method"].astype(str))))
        rows.append(row)
    out = pd.DataFrame(rows)
    if townhalls is not None and by == "insee_com" and len(out):
        ref = townhalls.drop_duplicates("insee_com")
        th_time = dict(zip(ref["insee_com"], ref["time_min"], strict=True))
        out["townhall_time_min"] = out["insee_com"].map(th_time).astype(float)
        out["difference_min"] = out["mean_time_min"] - out["townhall_time_min"]
    return out
