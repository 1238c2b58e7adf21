"""The inputs of a run: a département's communes and France services, its extract
assembled with its neighbours', the places and amenities of any extract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from msapgeo import datasets, settings
from msapgeo.errors import InputError
from msapgeo.fileio import sha256_file
from msapgeo.graph import RoutingGraph
from msapgeo.network import OSMFeatures, read_features
from msapgeo.places import origins_from_communes


def demo_places(features: OSMFeatures) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Origins and sites of the offline test region, read from the extract itself.

    Origins are the populated ``place=*`` nodes (:data:`msapgeo.settings.
    populated_place_values`) with their ``population`` tag when present; sites are the
    town halls and post offices (nodes, and areas at a representative point).

    Returns
    -------
    (origins, sites)
        ``origins``: ``id`` (``node/<osm id>``), ``name``, ``place``, ``population``;
        ``sites``: ``site_id`` (``<amenity>/<osm type>/<osm id>``), ``name``,
        ``amenity``, ``operator``.
    """
    pl = features.places
    origins = pl[pl["place"].isin(settings.populated_place_values)].copy()
    origins.insert(0, "id", "node/" + origins["osm_id"].astype(str))
    origins = origins.drop(columns=["population_tag"]).reset_index(drop=True)
    am = features.amenities.copy()
    am.insert(0, "site_id", am["amenity"] + "/" + am["osm_type"] + "/" + am["osm_id"].astype(str))
    return origins, am.reset_index(drop=True)


def covered_by_graph(
    graph: RoutingGraph, points: gpd.GeoSeries, margin_m: float = 2_000
) -> np.ndarray:
    """Tell which points lie inside the extent of the graph (convex hull plus a margin)."""
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([graph.vx_lon, graph.vx_lat])))
    hull_m = gpd.GeoSeries([hull], crs=settings.default_crs).to_crs(settings.metric_crs)
    zone = hull_m.buffer(margin_m).iloc[0]
    pts = points.to_crs(settings.metric_crs)
    return np.asarray(pts.within(zone))


def departement_inputs(
    dep: str, *, neighbours: tuple[str, ...] | None = None, vintage: str = "2024"
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Origins (communes of the département) and sites (France services of it and its neighbours).

    Parameters
    ----------
    dep
        Département code.
    neighbours
        Départements whose sites count too (default: the départements whose polygons
        touch ``dep``'s, :func:`msapgeo.datasets.departement_neighbours`).
    vintage
        France services list vintage.

    Returns
    -------
    (origins, sites)
        Origins at town halls (``point_source`` recorded) with INSEE population 2021 and
        EPCI (COG 2026); sites with ``type_fs`` and ``format_fs``.
    """
    dep = datasets.normalise_dep(dep)
    nb = datasets.departement_neighbours(dep) if neighbours is None else neighbours
    communes = datasets.load_communes(dep)
    pop = datasets.load_population("2021")[["insee_com", "population"]]
    epci = datasets.load_population("2026")[["insee_com", "epci_siren", "epci_nom"]]
    origins = (
        origins_from_communes(communes)
        .merge(pop, on="insee_com", how="left")
        .merge(epci, on="insee_com", how="left")
    )
    fs = datasets.load_france_services(vintage)
    sites = fs[fs["insee_dep"].isin([dep, *nb])].reset_index(drop=True)
    return gpd.GeoDataFrame(origins, geometry="geometry", crs=settings.default_crs), sites


def departement_extract(
    dep: str,
    osm: str | Path | None = None,
    neighbour_osm: Sequence[str | Path] | None = None,
    *,
    buffer_km: float | None = None,
    neighbours: Sequence[str] | None = None,
) -> tuple[Path, list[str]]:
    """The extract to route a département on: its own and its neighbours', assembled.

    The département's extract (``osm`` or the catalog's) is merged with its neighbours'
    (``neighbour_osm`` or the catalog's, :func:`msapgeo.datasets.departement_neighbours`)
    and clipped to a buffer of ``buffer_km`` around the département
    (:func:`msapgeo.extracts.assemble_extracts`); the result is cached. A neighbour whose
    extract cannot be had is named in the returned notes: cross-border trips through it
    are then missing.

    Returns
    -------
    (path, notes)
    """
    from msapgeo.errors import DataNotFoundError
    from msapgeo.extracts import assemble_extracts

    dep = datasets.normalise_dep(dep)
    own = datasets.fetch(datasets.osm_source(dep), path=osm)
    notes: list[str] = []
    others: list[Path] = []
    if neighbour_osm:
        others = [Path(p) for p in neighbour_osm]
    else:
        for nb in neighbours if neighbours is not None else datasets.departement_neighbours(dep):
            try:
                others.append(datasets.fetch(datasets.osm_source(nb)))
            except (DataNotFoundError, InputError) as exc:
                notes.append(
                    f"the roads of neighbouring département {nb} are not in the graph (its "
                    f"extract could not be obtained: {str(exc).splitlines()[0]}); trips "
                    "through it and its sites are missing"
                )
    if not others:
        return own, notes
    buf = settings.assembly_buffer_km if buffer_km is None else buffer_km
    deps = datasets.load_departements()
    shape = deps.loc[deps["insee_dep"] == dep, "geometry"]
    if shape.empty:
        raise InputError(f"département {dep}: no polygon to clip its neighbours' extracts to")
    area = (
        gpd.GeoSeries(shape.values, crs=settings.default_crs)
        .to_crs(settings.metric_crs)
        .buffer(buf * 1000)
        .to_crs(settings.default_crs)
        .iloc[0]
    )
    key = hashlib.sha256(
        json.dumps([sha256_file(p) for p in [own, *others]] + [buf]).encode()
    ).hexdigest()[:16]
    out = datasets.cache_dir() / "assembled" / f"{dep}-{key}.osm.pbf"
    if not out.is_file():
        assemble_extracts([own, *others], out, polygon=area)
    notes.append(
        f"graph of département {dep} assembled with {len(others)} neighbouring extract(s), "
        f"clipped to {buf:g} km around it"
    )
    return out, notes


def demo_inputs(
    osm_path: str | Path | None = None, *, progress: bool | None = None
) -> tuple[Path, OSMFeatures]:
    """The Andorra 2025 extract (through the data layer) and its features."""
    p = Path(osm_path) if osm_path else datasets.fetch("osm_andorra_2025")
    return p, read_features(p, progress=progress)


def place_territories(places: gpd.GeoDataFrame, radius_m: float = 1_000.0) -> gpd.GeoDataFrame:
    """Disc of ``radius_m`` around each place: the territory proxy of places without polygons."""
    m = places.to_crs(settings.metric_crs)
    return gpd.GeoDataFrame(
        places.drop(columns="geometry"), geometry=m.buffer(radius_m).to_crs(settings.default_crs)
    )
