"""Elevation: SRTM ``.hgt`` tiles (zipped or not), GeoTIFF, and the DEM mountain estimate.

SRTM tiles are named after their south-west corner (``N42E001.hgt``) and hold a square
grid of big-endian 16-bit integers, 1201 × 1201 (3 arc-seconds) or 3601 × 3601
(1 arc-second), rows from north to south; ``-32768`` marks voids. GeoTIFF files are read
with rasterio when it is installed.

Mountain handicap estimated from elevation
------------------------------------------
Article 3 of the loi n° 85-30 du 9 janvier 1985 (loi Montagne) and article R113-14 of the
code rural define the zone de montagne by handicaps from: an altitude of at least 700 m
(600 m in the Vosges), slopes of at least 20 % over most of the territory, or the
combination of an altitude of at least 500 m with slopes of at least 15 %.
:func:`estimate_mountain` applies these thresholds to the DEM cells inside each territory:
median altitude, and the share of cells whose slope reaches 20 % (15 %), "most" meaning
at least half. The result is labelled ``estimated (DEM)`` everywhere and never mixed up
with the official list.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from msapgeo.errors import InputError

MOUNTAIN_ALTITUDE_M = 700.0
MOUNTAIN_SLOPE = 0.20
COMBINED_ALTITUDE_M = 500.0
COMBINED_SLOPE = 0.15
ESTIMATED_LABEL = "estimated (DEM)"

_HGT = re.compile(r"([NS])(\d{2})([EW])(\d{3})", re.IGNORECASE)


@dataclass
class Raster:
    """A north-up elevation grid in WGS84.

    Attributes
    ----------
    z
        Elevations (m), NaN for voids; row 0 is the north edge.
    west, north
        Coordinates of the centre of the north-west cell (degrees).
    dx, dy
        Cell size (degrees, positive).
    name
        Source file name.
    """

    z: np.ndarray
    west: float
    north: float
    dx: float
    dy: float
    name: str

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Bilinear elevation (m) at points; NaN outside the grid or next to a void."""
        col = (np.asarray(lon, float) - self.west) / self.dx
        row = (self.north - np.asarray(lat, float)) / self.dy
        ny, nx = self.z.shape
        c0 = np.floor(col).astype(np.int64)
        r0 = np.floor(row).astype(np.int64)
        inside = (c0 >= 0) & (r0 >= 0) & (c0 < nx - 1) & (r0 < ny - 1)
        out = np.full(len(col), np.nan)
        if not inside.any():
            return out
        c, r = c0[inside], r0[inside]
        fc, fr = col[inside] - c, row[inside] - r
        z = self.z
        top = z[r, c] * (1 - fc) + z[r, c + 1] * fc
        bottom = z[r + 1, c] * (1 - fc) + z[r + 1, c + 1] * fc
        out[inside] = top * (1 - fr) + bottom * fr
        return out


def read_hgt(path: str | Path) -> Raster:
    """Read an SRTM ``.hgt`` or ``.hgt.zip`` tile.

    Raises
    ------
    InputError
        The name has no tile corner, or the size is not an SRTM grid.
    """
    p = Path(path)
    m = _HGT.search(p.name)
    if not m:
        raise InputError(f"{p}: an SRTM tile is named after its corner, like N42E001.hgt")
    if p.suffix.lower() == ".zip":
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".hgt")]
            if not names:
                raise InputError(f"{p}: no .hgt file inside the zip")
            data = zf.read(names[0])
    else:
        data = p.read_bytes()
    n = round((len(data) / 2) ** 0.5)
    if n * n * 2 != len(data) or n not in (1201, 3601):
        raise InputError(f"{p}: {len(data)} bytes is not a 1201² or 3601² SRTM grid")
    z = np.frombuffer(io.BytesIO(data).getbuffer(), dtype=">i2").reshape(n, n).astype(float)
    z[z == -32768] = np.nan
    lat0 = int(m.group(2)) * (1 if m.group(1).upper() == "N" else -1)
    lon0 = int(m.group(4)) * (1 if m.group(3).upper() == "E" else -1)
    step = 1.0 / (n - 1)
    return Raster(z=z, west=lon0, north=lat0 + 1, dx=step, dy=step, name=p.name)


def read_geotiff(path: str | Path) -> Raster:  # pragma: no cover - needs rasterio
    """Read a north-up GeoTIFF DEM in WGS84 with rasterio."""
    try:
        import rasterio
    except ImportError as exc:
        raise InputError(f"{path}: reading GeoTIFF needs rasterio (pip install rasterio)") from exc
    with rasterio.open(path) as ds:
        if ds.crs is None or ds.crs.to_epsg() != 4326:
            raise InputError(f"{path}: reproject the DEM to EPSG:4326 first")
        z = ds.read(1).astype(float)
        if ds.nodata is not None:
            z[z == ds.nodata] = np.nan
        t = ds.transform
        return Raster(z, t.c + t.a / 2, t.f + t.e / 2, t.a, -t.e, Path(path).name)


class DEM:
    """Several rasters sampled as one (the first that has a value wins)."""

    def __init__(self, rasters: list[Raster]) -> None:
        if not rasters:
            raise InputError("a DEM needs at least one tile")
        self.rasters = rasters

    @classmethod
    def from_files(cls, paths: list[str | Path]) -> DEM:
        """Read ``.hgt``, ``.hgt.zip`` and ``.tif`` files."""
        rasters = []
        for p in paths:
            s = str(p).lower()
            rasters.append(read_geotiff(p) if s.endswith((".tif", ".tiff")) else read_hgt(p))
        return cls(rasters)

    @property
    def names(self) -> list[str]:
        """Source files."""
        return [r.name for r in self.rasters]

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Elevation (m) at points, NaN where no tile covers them."""
        out = np.full(len(np.asarray(lon)), np.nan)
        for r in self.rasters:
            todo = np.isnan(out)
            if not todo.any():
                break
            out[todo] = r.sample(np.asarray(lon)[todo], np.asarray(lat)[todo])
        return out


def _cell_slopes(r: Raster) -> np.ndarray:
    lat = r.north - np.arange(r.z.shape[0]) * r.dy
    dy_m = r.dy * 111_195.0
    dx_m = r.dx * 111_195.0 * np.cos(np.radians(lat))[:, None]
    gy, gx = np.gradient(r.z)
    return np.asarray(np.hypot(gx / dx_m, gy / dy_m))


def estimate_mountain(
    dem: DEM, territories: gpd.GeoDataFrame, *, id_col: str = "insee_com"
) -> pd.DataFrame:
    """Estimate the mountain handicap of territories from elevation (loi Montagne criteria).

    Parameters
    ----------
    dem
        Elevation tiles covering the territories.
    territories
        Polygons (commune territories, or buffers around places) with ``id_col``.
    id_col
        Identifier column.

    Returns
    -------
    pandas.DataFrame
        ``insee_com``, ``altitude_median_m``, ``share_slope20_pct``, ``share_slope15_pct``,
        ``mountain`` (``yes``/``no``, ``unknown`` without DEM coverage) and
        ``mountain_source`` = ``estimated (DEM)``.
    """
    t = territories.to_crs("EPSG:4326")
    rows = []
    slopes = [_cell_slopes(r) for r in dem.rasters]
    for key, geom in zip(t[id_col].astype(str), t.geometry, strict=True):
        alts: list[np.ndarray] = []
        sl: list[np.ndarray] = []
        for r, s in zip(dem.rasters, slopes, strict=True):
            minx, miny, maxx, maxy = geom.bounds
            c0 = max(int(np.floor((minx - r.west) / r.dx)), 0)
            c1 = min(int(np.ceil((maxx - r.west) / r.dx)) + 1, r.z.shape[1])
            r0 = max(int(np.floor((r.north - maxy) / r.dy)), 0)
            r1 = min(int(np.ceil((r.north - miny) / r.dy)) + 1, r.z.shape[0])
            if c0 >= c1 or r0 >= r1:
                continue
            cols, rows_ = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
            lon = r.west + cols * r.dx
            lat = r.north - rows_ * r.dy
            inside = shapely.contains_xy(geom, lon, lat)
            if not inside.any():
                continue
            alts.append(r.z[r0:r1, c0:c1][inside])
            sl.append(s[r0:r1, c0:c1][inside])
        z = np.concatenate(alts) if alts else np.zeros(0)
        s = np.concatenate(sl) if sl else np.zeros(0)
        ok = np.isfinite(z) & np.isfinite(s)
        if ok.sum() < 3:
            rows.append(
                {
                    id_col: key,
                    "altitude_median_m": np.nan,
                    "share_slope20_pct": np.nan,
                    "share_slope15_pct": np.nan,
                    "mountain": "unknown",
                    "mountain_source": f"{ESTIMATED_LABEL}: no DEM coverage",
                }
            )
            continue
        alt = float(np.median(z[ok]))
        s20 = float((s[ok] >= MOUNTAIN_SLOPE).mean())
        s15 = float((s[ok] >= COMBINED_SLOPE).mean())
        yes = (
            alt >= MOUNTAIN_ALTITUDE_M or s20 >= 0.5 or (alt >= COMBINED_ALTITUDE_M and s15 >= 0.5)
        )
        rows.append(
            {
                id_col: key,
                "altitude_median_m": alt,
                "share_slope20_pct": 100 * s20,
                "share_slope15_pct": 100 * s15,
                "mountain": "yes" if yes else "no",
                "mountain_source": ESTIMATED_LABEL,
            }
        )
    return pd.DataFrame(rows)
