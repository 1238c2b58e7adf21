"""Département assembly on real roads: the Chamonix extract cut in two along the EPCI
boundary, as département extracts are cut, then assembled again."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from msapgeo import datasets, settings
from msapgeo.extracts import assemble_extracts, clip_extract
from msapgeo.network import graph_from_osm
from msapgeo.regions import MONT_BLANC_EPCI, Region, load_region
from msapgeo.routing import od_matrix


@pytest.fixture(scope="module")
def region(mirror: Path) -> Region:
    return load_region("pays-du-mont-blanc")


@pytest.fixture(scope="module")
def halves(region: Region, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two 'départements': the Vallée de Chamonix EPCI (A) and the Pays du Mont-Blanc (B)."""
    folder = tmp_path_factory.mktemp("halves")
    polys = gpd.GeoSeries.from_wkt(region.origins["commune_geometry"], crs=settings.default_crs)
    epci = region.origins["epci_siren"].astype(str).to_numpy()
    shape = {
        "A": shapely.union_all(polys[epci == MONT_BLANC_EPCI[0]].to_numpy()),
        "B": shapely.union_all(polys[epci == MONT_BLANC_EPCI[1]].to_numpy()),
    }
    files = {k: clip_extract(region.osm, folder / f"{k}.osm.pbf", v) for k, v in shape.items()}
    return {"shape": shape, "files": files, "folder": folder}


def _matrix(osm: Path, region: Region, epci: str) -> tuple[np.ndarray, np.ndarray]:
    g = graph_from_osm(osm, progress=False)
    o = region.origins[region.origins["epci_siren"] == epci].reset_index(drop=True)
    s = region.sites[region.sites["site_id"].isin(["fs434", "fs829"])].reset_index(drop=True)
    s = s.assign(exclusion=s["exclusion"].astype("string"))
    m = od_matrix(g, o, s, site_id="site_id")
    assert m.dist_km is not None
    return m.time_min, m.dist_km


@pytest.mark.parametrize("dep", ["A", "B"])
def test_assembled_halves_equal_the_whole_file(
    region: Region, halves: dict[str, object], dep: str
) -> None:
    shapes: dict[str, shapely.Geometry] = halves["shape"]  # type: ignore[assignment]
    files: dict[str, Path] = halves["files"]  # type: ignore[assignment]
    folder: Path = halves["folder"]  # type: ignore[assignment]
    epci = MONT_BLANC_EPCI[0] if dep == "A" else MONT_BLANC_EPCI[1]
    area = (
        gpd.GeoSeries([shapes[dep]], crs=settings.default_crs)
        .to_crs(settings.metric_crs)
        .buffer(settings.assembly_buffer_km * 1000)
        .to_crs(settings.default_crs)
        .iloc[0]
    )
    assembled = assemble_extracts(
        [files[dep], files["B" if dep == "A" else "A"]], folder / f"{dep}-asm.osm.pbf", polygon=area
    )
    t_whole, d_whole = _matrix(region.osm, region, epci)
    t_asm, d_asm = _matrix(assembled, region, epci)
    t_clip, _ = _matrix(files[dep], region, epci)
    # origins × the two France services, one on each side of the cut
    np.testing.assert_array_equal(t_asm, t_whole)
    np.testing.assert_array_equal(d_asm, d_whole)
    assert np.isfinite(t_whole).all()
    # the clipped extract alone gets the cross-border trips wrong (or loses them)
    differs = ~np.isclose(np.nan_to_num(t_clip, nan=-1), t_whole)
    assert differs.any()


def test_neighbours_come_from_polygon_adjacency(mirror: Path) -> None:
    assert datasets.departement_neighbours("05") == ("04", "26", "38", "73")
    assert datasets.departement_neighbours("74") == ("01", "73")
    # every metropolitan département has neighbours (Corsica: each other)
    deps = datasets.load_departements()
    assert len(deps) == 96
    assert datasets.departement_neighbours("2A") == ("2B",)


def test_hautes_alpes_synthetic_network_with_its_neighbours(tmp_path: Path, mirror: Path) -> None:
    """The same on the SYNTHETIC Hautes-Alpes network (real town halls and France
    services, Delaunay edges): cut along the département borders, assembled again."""
    from msapgeo.pipeline import departement_inputs
    from tests.synthetic_network import write_synthetic_osm

    whole = write_synthetic_osm(tmp_path)
    deps = datasets.load_departements().set_index("insee_dep")
    nb = datasets.departement_neighbours("05")
    parts = {
        d: clip_extract(whole, tmp_path / f"{d}.osm.pbf", deps.loc[d, "geometry"])
        for d in ("05", *nb)
    }
    area = (
        gpd.GeoSeries([deps.loc["05", "geometry"]], crs=settings.default_crs)
        .to_crs(settings.metric_crs)
        .buffer(settings.assembly_buffer_km * 1000)
        .to_crs(settings.default_crs)
        .iloc[0]
    )
    assembled = assemble_extracts(
        [parts["05"], *(parts[d] for d in nb)], tmp_path / "05-asm.osm.pbf", polygon=area
    )
    origins, sites = departement_inputs("05")
    near = sites[sites["insee_dep"] == "05"].head(4)  # a few sites of 05 …
    # … and of its neighbours within the buffer (those beyond it are left out, with a reason)
    far = sites[(sites["insee_dep"] != "05") & sites.within(area)].head(4)
    assert len(far) == 4
    s = gpd.GeoDataFrame(pd.concat([near, far]), crs=sites.crs).reset_index(drop=True)

    def matrix(osm: Path) -> np.ndarray:
        g = graph_from_osm(osm, progress=False)
        return od_matrix(g, origins, s, site_id="site_id", distances=False).time_min

    t_whole = matrix(whole)
    t_asm = matrix(assembled)
    t_clip = matrix(parts["05"])
    finite = np.isfinite(t_whole)
    # within the buffer every trip of the whole network is kept
    np.testing.assert_array_equal(t_asm[finite], t_whole[finite])
    differs = ~np.isclose(np.nan_to_num(t_clip, nan=-1), np.nan_to_num(t_whole, nan=-1))
    assert differs.any()
