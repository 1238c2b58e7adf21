"""Ready-made territories: the inputs of a run on a real extract, assembled in one call.

* ``pays-du-mont-blanc``: the 14 communes of the CC de la Vallée de Chamonix-Mont-Blanc
  and the CC Pays du Mont-Blanc (Haute-Savoie, 74) on the real OpenStreetMap roads of the
  Chamonix extract (rebuilt from vector tiles: no ``maxspeed``, synthetic ids, untagged
  roundabouts), INSEE populations, density grid, zone de montagne, aires d'attraction,
  COG 2026 EPCI, and the France services of the 2024 list in 74 and its neighbours.
* ``andorra``: the offline test region (Andorra 2025 extract): populated places, town
  halls and post offices, parishes as EPCI, DEM mountain estimate.
* any département by its code (``load_region(dep="05")``): its communes, the France
  services of it and its neighbours, its extract assembled with the neighbours' roads.

Nothing is dropped: town-hall points outside their commune are replaced (and say so),
sites beyond the extract's road network are kept with their reason and straight-line
distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from msapgeo import datasets, settings
from msapgeo.dem import DEM, estimate_mountain
from msapgeo.diagnostic import select_sites
from msapgeo.errors import InputError
from msapgeo.fr import fr_number
from msapgeo.graph import RoutingGraph
from msapgeo.i18n import t as t_
from msapgeo.network import OSMFeatures, read_features
from msapgeo.pipeline import covered_by_graph, demo_places, load_graph, place_territories
from msapgeo.places import SNAP_COLUMNS, check_town_halls, origins_from_communes

#: EPCI (SIREN) of the Pays du Mont-Blanc territory.
MONT_BLANC_EPCI: tuple[str, ...] = ("200023372", "200034882")

#: The Col des Montets (D1506, between Argentière and Vallorcine), WGS84.
COL_DES_MONTETS: tuple[float, float] = (6.9236, 46.0031)

#: Radius (m) of the winter closure around the Col des Montets: the D1506 from
#: Trélechamp to Le Buet, the section closed when avalanches threaten.
MONTETS_CLOSURE_M = 1_500.0

#: Columns a routing run adds to its origins, dropped before routing them again.
RESULT_COLUMNS: tuple[str, ...] = (
    "site_id",
    "time_min",
    "dist_km",
    "default_speed_km",
    "reachable",
    "site2_id",
    "time2_min",
)

#: Exclusion reason of a site outside the extract's road network.
BEYOND_EXTRACT = "au-delà du réseau routier de l'extrait"

#: Sites farther than this from the territory (straight line, km) are not considered.
SITE_SEARCH_KM = 60.0


@dataclass
class Region:
    """The inputs of a territory.

    Attributes
    ----------
    name, label
        Short name and the label printed in outputs.
    osm, features
        The OSM extract and what :func:`msapgeo.network.read_features` read from it.
    origins
        Communes (or places) as points, with population and EPCI.
    sites
        Sites with ``site_id``; rows that cannot be routed carry an ``exclusion``.
    candidates
        Candidate sites for the planning, by kind (``post_offices``, ``townhalls``).
    density, mountain, zonages
        Context tables (``None`` when not available).
    dem
        Elevation tiles, when available.
    winter
        Polygon (WGS84) of the winter closure of the scenario, and its description.
    winter_refs
        Road refs closed inside that polygon (every drivable way there when empty).
    notes
        What a reader must know about the inputs.
    sources
        Catalog names of the data used (provenance tables).
    profile
        Speed profile of the region's runs (default :data:`msapgeo.settings.profile`).
    """

    name: str
    label: str
    osm: Path
    features: OSMFeatures
    origins: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    candidates: dict[str, gpd.GeoDataFrame]
    density: pd.DataFrame | None = None
    mountain: pd.DataFrame | None = None
    zonages: pd.DataFrame | None = None
    dem: DEM | None = None
    winter: tuple[shapely.Geometry, str] | None = None
    winter_refs: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    profile: str | None = None
    _graphs: dict[str, RoutingGraph] = field(default_factory=dict, repr=False, compare=False)

    def population_points(self) -> gpd.GeoDataFrame | None:
        """The communes' populations spread over their buildings (:mod:`msapgeo.population`);
        ``None`` when the origins are not communes with polygons and populations."""
        from msapgeo.network import read_buildings
        from msapgeo.population import population_points

        o = self.origins
        if "commune_geometry" not in o.columns or o["population"].isna().all():
            return None
        buildings = read_buildings(self.osm, progress=False)
        return population_points(o, buildings=buildings, places=self.features.places)

    def graph(self, *, profile: str | None = None, cache: bool = True) -> RoutingGraph:
        """The routing graph of the extract with a speed profile (cached on disk and here)."""
        key = profile or self.profile or settings.profile
        if key not in self._graphs or not cache:
            density = commune_density(self.origins) if key == "insee" else None
            self._graphs[key] = load_graph(
                self.osm,
                features=self.features,
                profile=key,
                dem=self.dem,
                cache=cache,
                density=density,
            )
        return self._graphs[key]

    @property
    def fixed_sites(self) -> gpd.GeoDataFrame:
        """The sites that can be routed (no exclusion)."""
        s = self.sites
        return s[s["exclusion"].isna()].reset_index(drop=True) if "exclusion" in s else s

    # ------------------------------------------------------------------ the workflow
    def access(self, *, profile: str | None = None) -> Any:
        """Nearest site of every origin (:func:`msapgeo.pipeline.run_access`)."""
        from msapgeo.pipeline import run_access

        return run_access(self.graph(profile=profile), self.origins, self.sites, site_id="site_id")

    def diagnostic(self, *, profile: str | None = None, people: bool = True) -> Any:
        """The SDAASP diagnostic (:func:`msapgeo.diagnostic.run_diagnostic`), with the
        population points when the region has buildings (:meth:`population_points`)."""
        from msapgeo.diagnostic import add_people, run_diagnostic

        g = self.graph(profile=profile)
        diag = run_diagnostic(
            g,
            self.origins,
            self.sites,
            density=self.density,
            mountain=self.mountain,
            zonages=self.zonages,
            meta={"region": self.label, "title": f"Diagnostic — {self.label}"},
        )
        diag.notes[:0] = self.notes
        diag.dem = self.dem
        points = self.population_points() if people else None
        if points is not None:
            add_people(diag, g, points)
        return diag

    def evaluate(
        self,
        add: Any = None,
        remove: Sequence[str] = (),
        *,
        profile: str | None = None,
    ) -> Any:
        """Who gains if sites open or close (:func:`msapgeo.planning.evaluate`).

        ``add``: commune codes (their town halls), ``(lon, lat)`` pairs, or a GeoDataFrame
        of sites with ``site_id``.
        """
        from msapgeo.planning import evaluate, sites_from_communes, sites_from_points

        new = None
        if add is not None and not isinstance(add, gpd.GeoDataFrame):
            items = list(add)
            codes = [a for a in items if isinstance(a, str)]
            pairs = [tuple(a) for a in items if not isinstance(a, str)]
            parts = []
            if codes:
                parts.append(sites_from_communes(self.origins, codes))
            if pairs:
                parts.append(sites_from_points(pairs))
            new = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=settings.default_crs)
        elif add is not None:
            new = add
        return evaluate(
            self.graph(profile=profile), self.origins, self.fixed_sites, add=new, remove=remove
        )

    def optimise(
        self,
        k: int = 2,
        threshold_min: float | Sequence[float] = 30.0,
        *,
        candidates: str = "post_offices",
        profile: str | None = None,
        method: str = "auto",
        weight: str | None = None,
        origins: gpd.GeoDataFrame | None = None,
    ) -> Any:
        """Maximal covering, p-median and set covering for 1..k new sites among the
        region's candidates (:mod:`msapgeo.locations`), and the before/after of each
        solution. Returns a :class:`msapgeo.whatif.Optimisation`: ``.table`` (one row per
        model, ``k`` and threshold), ``.comparison(model, k)`` (a
        :class:`msapgeo.comparison.Comparison` like :meth:`evaluate`'s) and ``.notes``
        (candidates left out and why).

        ``threshold_min``: one threshold or several (the coverage models are solved at
        each); ``candidates``: a key of :attr:`candidates` (``post_offices``,
        ``townhalls``); ``weight``: ``population`` or ``count`` (default: population when
        known); ``method``: ``auto``, ``exact`` or ``greedy``; ``origins``: what to cover
        (default the region's origins; the population points count coverage in people).
        """
        from msapgeo.locations import candidate_matrix, optimise
        from msapgeo.places import snap
        from msapgeo.whatif import evaluate_plans

        if candidates not in self.candidates:
            raise InputError(f"candidates {candidates!r}: choose one of {sorted(self.candidates)}")
        if k < 1:
            raise InputError(f"k={k}: give at least one new site")
        g = self.graph(profile=profile)
        snapped = snap(g, self.candidates[candidates])
        off = snapped[snapped["exclusion"].notna()]
        cands = snapped[snapped["exclusion"].isna()].reset_index(drop=True)
        if not len(cands):
            raise InputError(f"no {candidates} candidate lies on the network")
        o = self.origins if origins is None else origins
        o = o.drop(columns=[*SNAP_COLUMNS, *RESULT_COLUMNS], errors="ignore")
        if weight is None:
            weight = "population" if o["population"].notna().any() else "count"
        origin_id = "point_id" if "point_id" in o.columns else None
        m = candidate_matrix(g, o, self.fixed_sites, cands, weight=weight, origin_id=origin_id)
        if k > m.n_candidates:
            raise InputError(f"k={k} is larger than the {m.n_candidates} candidates")
        names = dict(zip(cands["site_id"], _site_names(cands), strict=True))
        ths = [float(threshold_min)] if np.isscalar(threshold_min) else list(threshold_min)  # type: ignore[arg-type]
        table = optimise(m, range(1, k + 1), ths, method=method, names=names)
        table.insert(0, "candidates", candidates)
        table.insert(1, "candidates_off_network", len(off))
        plans = evaluate_plans(g, o, self.fixed_sites, cands, table)
        plans.notes = [
            f"{m.n_candidates} candidats ({candidates}), {len(m.origin_ids)} origines, "
            f"pondération {weight}",
            *m.notes,
        ]
        if len(off):
            plans.notes.append(
                f"{len(off)} candidat(s) hors du réseau laissé(s) de côté : "
                + "; ".join(f"{a}: {b}" for a, b in off[["site_id", "exclusion"]].to_numpy())
            )
        return plans

    def routable_candidates(self, kind: str, *, profile: str | None = None) -> gpd.GeoDataFrame:
        """The candidates of ``kind`` that lie on the network (snapped; the others are
        named in :meth:`optimise`'s notes)."""
        from msapgeo.places import snap

        if kind not in self.candidates:
            raise InputError(f"candidates {kind!r}: choose one of {sorted(self.candidates)}")
        cands = snap(self.graph(profile=profile), self.candidates[kind])
        return cands[cands["exclusion"].isna()].reset_index(drop=True)

    def scenario(
        self,
        *,
        close: shapely.Geometry | Sequence[str] | None = None,
        way_ids: Sequence[int] = (),
        names: Sequence[str] = (),
        refs: Sequence[str] = (),
        winter: str | None = None,
        profile: str | None = None,
        origins: gpd.GeoDataFrame | None = None,
    ) -> Any:
        """Road closures, then the before/after (of the region's origins, or of
        ``origins``: the population points count the closure in people).

        ``close``: a polygon (WGS84) or road names/refs; or ``way_ids``, ``names``,
        ``refs`` given apart; ``winter``: the ways OSM tags close on that date
        (YYYY-MM-DD), with the others. With nothing given: the region's winter closure.
        Returns a :class:`msapgeo.comparison.Comparison` (unpacks as before, after,
        communes, summary; ``.map()``, ``.plain_summary()``, ``.to_excel()``); its
        ``scenario`` attribute is the :class:`msapgeo.scenarios.Scenario` (closed ways,
        tags not evaluated)."""
        from msapgeo.scenarios import closure, compare

        g = self.graph(profile=profile)
        names, refs, polygon = list(names), list(refs), None
        if isinstance(close, shapely.Geometry):
            polygon = close
        elif close is not None:
            known = set(g.way_name)
            names += [c for c in close if c in known]
            refs += [c for c in close if c not in known]
        if not (way_ids or names or refs or polygon is not None or winter is not None):
            if self.winter is None:
                raise InputError("scenario: give close= (polygon, names or refs) or winter=")
            sc = self.winter_closure(g)
        else:
            sc = closure(g, way_ids=way_ids, names=names, refs=refs, polygon=polygon, winter=winter)
        o = self.origins if origins is None else origins
        o = o.drop(columns=[*SNAP_COLUMNS, *RESULT_COLUMNS], errors="ignore")
        id_col = "point_id" if origins is not None and "point_id" in o.columns else "insee_com"
        comp = compare(g, sc, o, self.fixed_sites, id_col=id_col)
        comp.scenario = sc
        return comp

    def winter_closure(self, graph: RoutingGraph) -> Any:
        """The region's winter closure on ``graph``: the ways of :attr:`winter_refs` (all
        ways when empty) crossing the :attr:`winter` polygon (a :class:`~msapgeo.scenarios.
        Scenario`)."""
        from msapgeo.scenarios import close_roads

        if self.winter is None:
            raise InputError(f"region {self.name!r} has no winter closure")
        polygon, what = self.winter
        sc = close_roads(graph, polygon=polygon, reason=what)
        if self.winter_refs:
            ids = sc.closed.loc[sc.closed["ref"].isin(self.winter_refs), "osm_way_id"]
            sc = close_roads(graph, way_ids=ids.tolist(), reason=what)
        return sc

    def isochrones(
        self, thresholds: Sequence[float] = (10.0, 20.0, 30.0), *, profile: str | None = None
    ) -> gpd.GeoDataFrame:
        """Zones within each threshold of the nearest site (:mod:`msapgeo.isochrones`)."""
        from msapgeo.isochrones import isochrones

        return isochrones(self.graph(profile=profile), self.fixed_sites, thresholds)


def _site_names(sites: gpd.GeoDataFrame) -> list[str]:
    """A readable name per site: its name and commune, else its id."""
    name = sites["name"].fillna("").astype(str) if "name" in sites else sites["site_id"]
    where = sites["nom"].fillna("").astype(str) if "nom" in sites else None
    out = []
    for i, n in enumerate(name):
        label = n or str(sites["site_id"].iloc[i])
        if where is not None and where.iloc[i] and where.iloc[i] not in label:
            label = f"{label} ({where.iloc[i]})"
        out.append(label)
    return out


def commune_density(origins: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Commune polygons with ``density_hab_km2`` (population ÷ area), when both are known."""
    if "commune_geometry" not in origins.columns or "population" not in origins.columns:
        return None
    polys = gpd.GeoSeries.from_wkt(origins["commune_geometry"], crs=origins.crs)
    area_km2 = polys.to_crs(settings.metric_crs).area.to_numpy() / 1e6
    pop = pd.to_numeric(origins["population"], errors="coerce").to_numpy(float)
    return gpd.GeoDataFrame(
        {"insee_com": origins["insee_com"].to_numpy(), "density_hab_km2": pop / area_km2},
        geometry=polys.values,
        crs=origins.crs,
    )


def _post_offices(features: OSMFeatures) -> gpd.GeoDataFrame:
    am = features.amenities
    post = am[am["amenity"] == "post_office"].copy()
    ids = "post_office/" + post["osm_type"].astype(str) + "/" + post["osm_id"].astype(str)
    post.insert(0, "site_id", ids.astype(object))
    return post.reset_index(drop=True)


def _candidates(features: OSMFeatures, origins: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Candidate sites of a territory of communes: its post offices and its town halls."""
    return {"post_offices": _post_offices(features), "townhalls": _townhall_candidates(origins)}


def _townhall_candidates(origins: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    c = origins[["insee_com", "nom", "geometry"]].copy()
    c.insert(0, "site_id", "mairie/" + c["insee_com"].astype(str))
    c["name"] = "Mairie de " + c["nom"].astype(str)
    return gpd.GeoDataFrame(c.reset_index(drop=True), geometry="geometry", crs=origins.crs)


def sites_near(
    territory: shapely.Geometry,
    sites: gpd.GeoDataFrame,
    graph_extent: RoutingGraph | None = None,
    max_km: float = SITE_SEARCH_KM,
) -> gpd.GeoDataFrame:
    """Sites within ``max_km`` of a territory, those beyond the graph flagged with a reason.

    Returns the sites with ``dist_to_territory_km`` (straight line, Lambert-93) and an
    ``exclusion`` for every site outside the extract's road network.
    """
    s = sites.copy()
    terr = gpd.GeoSeries([territory], crs=settings.default_crs).to_crs(settings.metric_crs)
    d_km = s.geometry.to_crs(settings.metric_crs).distance(terr.iloc[0]).to_numpy() / 1000
    s["dist_to_territory_km"] = np.round(d_km, 1)
    s = s[d_km <= max_km].copy()
    if graph_extent is not None and len(s):
        inside = covered_by_graph(graph_extent, s.geometry)
        excl = np.array(
            s["exclusion"].astype(object).where(s["exclusion"].notna(), None), dtype=object
        )
        for i in np.flatnonzero(~inside):
            if excl[i] is None:
                excl[i] = f"{t_(BEYOND_EXTRACT)} (" + t_(
                    "{d} km du territoire à vol d'oiseau) : non calculé",
                    d=fr_number(s["dist_to_territory_km"].iloc[i], 1),
                )
        s["exclusion"] = pd.Series(excl, index=s.index, dtype="string")
    return s.reset_index(drop=True)


def pays_du_mont_blanc(*, progress: bool | None = None) -> Region:
    """The 14 communes of the Pays du Mont-Blanc on the real roads of the Chamonix extract."""
    osm = datasets.fetch("osm_chamonix_2022")
    features = read_features(osm, progress=progress)
    pop26 = datasets.load_population("2026")
    members = pop26[pop26["epci_siren"].isin(MONT_BLANC_EPCI)]
    codes = set(members["insee_com"].astype(str))
    communes = datasets.load_communes("74")
    communes = communes[communes["insee_com"].isin(codes)].reset_index(drop=True)
    if len(communes) != len(codes):
        raise InputError(
            f"communes of département 74: {len(communes)} of the {len(codes)} communes of the "
            "Pays du Mont-Blanc EPCI found"
        )
    pop = datasets.load_population("2021")[["insee_com", "population"]]
    origins = (
        origins_from_communes(communes)
        .merge(pop, on="insee_com", how="left")
        .merge(members[["insee_com", "epci_siren", "epci_nom"]], on="insee_com", how="left")
    )
    origins = gpd.GeoDataFrame(origins, geometry="geometry", crs=settings.default_crs)
    am = features.amenities
    origins = check_town_halls(origins, am[am["amenity"] == "townhall"], features.places)
    territory = shapely.union_all(communes.geometry.to_numpy())
    fs = datasets.load_france_services("2024")
    fs = fs[fs["insee_dep"].isin(["74", *datasets.departement_neighbours("74")])]
    graph = load_graph(osm, features=features, profile="legal")
    sites = select_sites(sites_near(territory, fs, graph))  # buses listed, not fixed sites
    # the winter closure: the D1506 over the Col des Montets
    col = gpd.GeoSeries([shapely.Point(*COL_DES_MONTETS)], crs=settings.default_crs)
    disc = col.to_crs(settings.metric_crs).buffer(MONTETS_CLOSURE_M).to_crs(settings.default_crs)
    winter = (
        disc.iloc[0],
        f"D1506 fermée au col des Montets (ses voies à moins de "
        f"{MONTETS_CLOSURE_M / 1000:g} km du col, de Trélechamp au Buet)".replace(".", ","),
    )
    fixed = origins["point_note"].astype(str).str.len() > 0
    notes = [
        t_(
            "Réseau routier : données OpenStreetMap réelles de la vallée de Chamonix / "
            "Mont-Blanc, reconstruites depuis des tuiles vectorielles OpenMapTiles (2022) : "
            "aucune limitation de vitesse (no maxspeed), chaque vitesse est une valeur par "
            "défaut selon la classe de route ; identifiants synthétiques, giratoires non "
            "étiquetés."
        ),
        t_("{n} point(s) de mairie hors de leur commune remplacé(s) : ", n=int(fixed.sum()))
        + "; ".join(
            f"{c} {n}: {t}"
            for c, n, t in origins.loc[fixed, ["insee_com", "nom", "point_note"]].itertuples(
                index=False
            )
        )
        if fixed.any()
        else t_("Chaque point de mairie est dans sa commune."),
        t_("Montagne : ") + datasets.MOUNTAIN_SOURCE_2026 + ".",
        t_(
            "France services de la liste 2024 en Haute-Savoie et dans les départements voisins "
            "à moins de {km} km ; celles au-delà des routes de l'extrait sont listées avec leur "
            "distance à vol d'oiseau et ne sont pas calculées (l'extrait ne couvre que les deux "
            "EPCI).",
            km=f"{SITE_SEARCH_KM:g}",
        ),
    ]
    return Region(
        name="pays-du-mont-blanc",
        label=t_(
            "Pays du Mont-Blanc (74) : CC de la Vallée de Chamonix-Mont-Blanc et CC Pays du "
            "Mont-Blanc, routes réelles (extrait OpenStreetMap de Chamonix)"
        ),
        osm=osm,
        features=features,
        origins=origins,
        sites=sites,
        candidates=_candidates(features, origins),
        density=datasets.load_density_grid(),
        mountain=datasets.load_mountain_zone(),
        zonages=datasets.load_zonages(),
        dem=None,
        winter=winter,
        winter_refs=("D 1506",),
        notes=notes,
        sources=[
            "osm_chamonix_2022",
            "france_services_2024",
            "communes_74",
            "population_2021",
            "cog_2026_communes",
            "density_grid",
            "zone_montagne_2026",
            "insee_zonages_2023",
        ],
    )


def extract_region(
    osm: str | Path,
    *,
    name: str | None = None,
    label: str | None = None,
    dem: DEM | None = None,
    sources: Sequence[str] = (),
    progress: bool | None = None,
) -> Region:
    """Any extract as a region: its populated places (``place=*``) as origins, its town
    halls and post offices as sites, administrative areas (``admin_level`` 7) as EPCI,
    the DEM mountain estimate when ``dem`` is given."""
    from msapgeo.diagnostic import demo_origins_with_parishes
    from msapgeo.osmread import _check_file

    path = _check_file(osm)
    features = read_features(path, progress=progress)
    places, sites = demo_places(features)
    origins = demo_origins_with_parishes(places, features)
    mountain = estimate_mountain(dem, place_territories(origins)) if dem is not None else None
    townhalls = sites[sites["amenity"] == "townhall"].reset_index(drop=True)
    return Region(
        name=name or path.name,
        label=label or t_("{f} (lieux habités vers mairies et bureaux de poste)", f=path.name),
        osm=path,
        features=features,
        origins=origins,
        sites=sites,
        candidates={"post_offices": _post_offices(features), "townhalls": townhalls},
        mountain=mountain,
        dem=dem,
        notes=[],
        sources=list(sources),
    )


def andorra(*, progress: bool | None = None) -> Region:
    """The offline test region: Andorra 2025, places to town halls and post offices."""
    return extract_region(
        datasets.fetch("osm_andorra_2025"),
        name="andorra",
        label=t_("région de test hors ligne (Andorre 2025 ; les paroisses tiennent lieu d’EPCI)"),
        dem=DEM.from_files([datasets.fetch("srtm_N42E001")]),
        sources=["osm_andorra_2025", "srtm_N42E001"],
        progress=progress,
    )


def departement_region(
    dep: str | int,
    *,
    osm: str | Path | None = None,
    neighbour_osm: Sequence[str | Path] = (),
    buffer_km: float | None = None,
    neighbours: Sequence[str] | None = None,
    vintage: str = "2024",
    progress: bool | None = None,
) -> Region:
    """A département as a region: its communes at their town halls, the France services
    of it and of its neighbours, its extract assembled with the neighbours' roads.

    Parameters
    ----------
    dep
        Département code (``"05"``, ``5``, ``"2A"``).
    osm
        The département's extract (default: the catalog's, downloaded once and cached).
    neighbour_osm
        Extracts of the neighbouring départements, assembled with it inside a buffer of
        ``buffer_km`` (:func:`msapgeo.pipeline.departement_extract`). With ``osm`` and no
        neighbours' extracts, only ``osm`` is routed, and a note says so.
    buffer_km
        Buffer around the département (default :data:`msapgeo.settings.assembly_buffer_km`).
    neighbours
        Départements whose sites count (default: those whose polygons touch ``dep``'s).
    vintage
        France services list.
    progress
        Progress bars.

    Returns
    -------
    Region
        With the density grid, the zone de montagne and the INSEE zonings when the data
        layer can supply them (each missing one is named in ``notes``).
    """
    from msapgeo.errors import DataNotFoundError
    from msapgeo.pipeline import departement_extract, departement_inputs

    code = datasets.normalise_dep(dep)
    nb = tuple(neighbours) if neighbours is not None else None
    origins, sites = departement_inputs(code, neighbours=nb, vintage=vintage)
    sites = select_sites(sites)  # buses listed apart, not fixed sites
    notes: list[str] = []
    if osm is not None and not neighbour_osm:
        path = Path(osm)
        notes.append(
            f"seul {path.name} est dans le graphe : les routes des départements voisins n'y "
            "sont pas (donner leurs extraits), les trajets qui sortent du département et les "
            "sites voisins au-delà de ses routes peuvent manquer"
        )
    else:
        path, extract_notes = departement_extract(
            code, osm, list(neighbour_osm) or None, buffer_km=buffer_km, neighbours=nb
        )
        notes += extract_notes
    features = read_features(path, progress=progress)
    context: dict[str, Any] = {}
    for key, loader in (
        ("density", datasets.load_density_grid),
        ("mountain", datasets.load_mountain_zone),
        ("zonages", datasets.load_zonages),
    ):
        try:
            context[key] = loader()
        except DataNotFoundError as exc:
            context[key] = None
            notes.append(f"{key} : non disponible ({str(exc).splitlines()[0]})")
    name = datasets.departement_name(code)
    return Region(
        name=f"departement-{code}",
        label=f"{name} ({code})",
        osm=path,
        features=features,
        origins=origins,
        sites=sites,
        candidates=_candidates(features, origins),
        density=context["density"],
        mountain=context["mountain"],
        zonages=context["zonages"],
        notes=notes,
        sources=[
            f"france_services_{vintage}",
            f"communes_{code}",
            "population_2021",
            "cog_2026_communes",
            "cog_2026_epci",
            "density_grid",
            "zone_montagne_2026",
            "insee_zonages_2023",
        ],
    )


REGIONS: dict[str, Any] = {"pays-du-mont-blanc": pays_du_mont_blanc, "andorra": andorra}


def load_region(
    name: str | None = None,
    *,
    dep: str | int | None = None,
    osm: str | Path | None = None,
    neighbour_osm: Sequence[str | Path] = (),
    buffer_km: float | None = None,
    profile: str | None = None,
    dem: DEM | None = None,
    progress: bool | None = None,
) -> Region:
    """A territory, ready to run: a ready-made one by name (:data:`REGIONS`:
    ``pays-du-mont-blanc``, the default, and ``andorra``, the offline test region) or a
    département by code (:func:`departement_region`).

    Parameters
    ----------
    name
        Ready-made territory.
    dep
        Département code, instead of ``name``.
    osm, neighbour_osm, buffer_km
        The département's extract and its neighbours' (:func:`departement_region`).
    profile
        Speed profile of the region's runs (default :data:`msapgeo.settings.profile`).
    dem
        Elevation tiles (slope of the ``mountain`` profile, mountain estimate).
    progress
        Progress bars.

    Examples
    --------
    >>> import msapgeo as mg
    >>> region = mg.load_region("andorra")  # doctest: +SKIP
    >>> hautes_alpes = mg.load_region(dep="05", osm="hautes-alpes.osm.pbf")  # doctest: +SKIP
    """
    if profile is not None:
        from msapgeo.profiles import PROFILES

        if profile not in PROFILES:
            raise InputError(f"profile {profile!r}: choose one of {PROFILES}")
    if dep is not None:
        if name is not None:
            raise InputError("give a region name or a département (dep=…), not both")
        region = departement_region(
            dep, osm=osm, neighbour_osm=neighbour_osm, buffer_km=buffer_km, progress=progress
        )
    else:
        key = name or "pays-du-mont-blanc"
        if key not in REGIONS:
            raise InputError(f"region {key!r}: choose one of {sorted(REGIONS)}")
        if osm is not None or neighbour_osm:
            raise InputError(f"region {key!r} has its own extract; osm= is for a département")
        region = REGIONS[key](progress=progress)
    region.profile = profile
    if dem is not None:
        region.dem = dem
    return region
