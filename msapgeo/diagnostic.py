"""The SDAASP diagnostic: sites selection, opening hours, one routing run, indicators.

Routing happens once here (nearest site and the origin × site matrix for the 2SFCA);
:mod:`msapgeo.indicators` only reads the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from msapgeo import settings
from msapgeo.errors import InputError
from msapgeo.fr import fr_number
from msapgeo.graph import RoutingGraph
from msapgeo.hours import parse_site_hours
from msapgeo.i18n import EN
from msapgeo.i18n import t as t_
from msapgeo.indicators import (
    GAP_THRESHOLDS,
    aggregate,
    commune_indicators,
    gap_worklist,
    site_supply,
)
from msapgeo.network import OSMFeatures
from msapgeo.pipeline import AccessResult, exclusions_table, run_access
from msapgeo.routing import od_matrix, route_default_share

#: ``format_fs`` values of itinerant services (buses), reported apart by default.
ITINERANT_FORMATS: tuple[str, ...] = ("Bus_équivalent", "Itinérante")


@dataclass
class Diagnostic:
    """Everything a departmental council reads, ready for :func:`msapgeo.report.write_diagnostic`.

    Attributes
    ----------
    communes
        One row per commune (polygon geometry when known, else its origin point).
    sites
        Every site given, with weekly hours, ``role`` and ``exclusion``.
    departement, epci
        Indicator tables (:func:`msapgeo.indicators.aggregate`).
    worklist
        Gap communes at the main threshold, ranked.
    exclusions
        Every excluded or flagged row with its reason (communes, sites, hour strings).
    hours_issues
        Malformed opening-hour strings, row by row.
    notes
        Caveats printed in every report (unknown flags, unknown populations…).
    meta
        Vintages, provenance, thresholds, profile.
    access
        The underlying access run.
    """

    communes: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    departement: pd.DataFrame
    epci: pd.DataFrame
    worklist: pd.DataFrame
    exclusions: pd.DataFrame
    hours_issues: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    access: AccessResult | None = None
    #: Population-weighted times per commune and per EPCI from population points
    #: (:mod:`msapgeo.population`), when the run has them; ``points`` are the routed points.
    people: pd.DataFrame | None = None
    people_epci: pd.DataFrame | None = None
    points: gpd.GeoDataFrame | None = None
    #: Zones within 10, 20, 30 minutes of the nearest site (:mod:`msapgeo.isochrones`).
    isochrones: gpd.GeoDataFrame | None = None
    #: Elevation tiles of the run (:class:`msapgeo.dem.DEM`), for the maps' relief.
    dem: Any = None

    def key_figures(self) -> dict[str, float]:
        """Headline numbers of the département row (split ``all``)."""
        row = self.departement[self.departement["split"] == "all"].iloc[0]
        return {k: row[k] for k in row.index if k not in ("group", "split", "split_value")}


BUS_REASON = "service itinérant (bus) : listé à part, non compté comme site fixe"
ANTENNA_REASON = "antenne laissée de côté par option (include_antennas=False)"


def select_sites(
    sites: gpd.GeoDataFrame, *, include_antennas: bool = True, include_buses: bool = False
) -> gpd.GeoDataFrame:
    """Mark which France services rows count as fixed sites.

    Adds ``role`` (``principal``, ``antenna``, ``itinerant``, ``site``) and sets
    ``exclusion`` on itinerant rows (unless ``include_buses``) and on antennas when
    ``include_antennas`` is false. Nothing is removed.
    """
    out = sites.copy()
    fmt = (
        out["format_fs"].astype(str)
        if "format_fs" in out.columns
        else pd.Series("", index=out.index)
    )
    typ = out["type_fs"].astype(str) if "type_fs" in out.columns else pd.Series("", index=out.index)
    bus = fmt.isin(ITINERANT_FORMATS).to_numpy()
    ant = (typ == "Antenne").to_numpy()
    role = np.where(
        bus,
        "itinerant",
        np.where(ant, "antenna", np.where(typ == "Principal", "principal", "site")),
    )
    out["role"] = role
    excl = (
        np.array([None if pd.isna(v) else str(v) for v in out["exclusion"]], dtype=object)
        if "exclusion" in out.columns
        else np.full(len(out), None, dtype=object)
    )
    # the reasons this function gives are its own: a second call with other options
    # takes them back (a region's sites are selected once with the defaults)
    own = np.isin(
        excl.astype(str), [BUS_REASON, ANTENNA_REASON, EN[BUS_REASON], EN[ANTENNA_REASON]]
    )
    excl[own] = None
    free = pd.isna(excl)
    if not include_buses:
        excl[bus & free] = t_(BUS_REASON)
    if not include_antennas:
        excl[ant & ~bus & free] = t_(ANTENNA_REASON)
    out["exclusion"] = pd.Series(excl, index=out.index, dtype="string")
    return out


def run_diagnostic(
    graph: RoutingGraph,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    density: pd.DataFrame | None = None,
    mountain: pd.DataFrame | None = None,
    zonages: pd.DataFrame | None = None,
    include_antennas: bool = True,
    include_buses: bool = False,
    thresholds: Sequence[float] = GAP_THRESHOLDS,
    share_thresholds: Sequence[float] | None = None,
    epci_col: str = "epci_nom",
    id_col: str = "insee_com",
    meta: dict[str, Any] | None = None,
) -> Diagnostic:
    """Run the diagnostic of a territory.

    Parameters
    ----------
    graph
        Routing graph.
    origins
        Communes as points (:func:`msapgeo.places.origins_from_communes`) with
        ``population`` and the EPCI column; a ``commune_geometry`` WKT column gives the
        polygons of the map.
    sites
        France services rows (or any sites with ``site_id`` and ``name``).
    density, mountain, zonages
        Optional context tables (flags are ``unknown`` without them).
    include_antennas, include_buses
        Which rows count as fixed sites.
    thresholds
        Gap thresholds (minutes); the last one orders the worklist.
    share_thresholds
        Thresholds of the population shares (default :data:`msapgeo.settings.thresholds_min`).
    epci_col
        Column grouping communes into EPCI.
    id_col
        Commune identifier.
    meta
        Metadata carried to the outputs.
    """
    share = tuple(share_thresholds or settings.thresholds_min)
    chosen = select_sites(sites, include_antennas=include_antennas, include_buses=include_buses)
    hours, issues = parse_site_hours(chosen)
    chosen = chosen.join(hours)
    res = run_access(graph, origins, chosen, site_id="site_id", meta=meta)
    routed = res.sites
    od = od_matrix(graph, res.origins, routed, site_id="site_id", distances=False)
    supply, supply_note = site_supply(chosen)
    communes = commune_indicators(
        res.origins,
        chosen,
        density=density,
        mountain=mountain,
        zonages=zonages,
        od_time_min=od.time_min,
        supply=supply,
        thresholds=thresholds,
        id_col=id_col,
    )
    if epci_col in res.origins.columns and epci_col not in communes.columns:
        communes[epci_col] = res.origins[epci_col].to_numpy()
    geom = _commune_geometry(res.origins)
    communes_g = gpd.GeoDataFrame(communes, geometry=geom, crs=settings.default_crs)
    pts = res.origins.geometry
    communes_g["lon"] = pts.x.to_numpy()
    communes_g["lat"] = pts.y.to_numpy()
    dep = aggregate(communes, None, share_thresholds=share, gap_thresholds=thresholds)
    epci = (
        aggregate(communes, epci_col, share_thresholds=share, gap_thresholds=thresholds)
        if epci_col in communes.columns
        else pd.DataFrame()
    )
    worklist = gap_worklist(communes, threshold=thresholds[-1])
    exclusions = pd.concat(
        [
            exclusions_table(commune=res.origins, site=routed),
            pd.DataFrame(
                {
                    "kind": t_("horaires d'ouverture"),
                    "id": issues["site_id"],
                    "name": issues["name"],
                    "reason": issues["day"] + " = " + issues["value"] + ": " + issues["reason"],
                }
            ),
        ],
        ignore_index=True,
    )
    notes = [
        *speed_notes(graph, res.origins),
        *_notes(communes, density, mountain, supply_note, chosen),
    ]
    communes["profile"] = graph.meta.get("profile", "legal")
    info = {
        **res.meta,
        "thresholds_min": list(thresholds),
        "share_thresholds_min": list(share),
        "include_antennas": include_antennas,
        "include_buses": include_buses,
        "rural_levels": [5, 6, 7],
    }
    site_cols = routed.drop(columns=[c for c in ("commune_geometry",) if c in routed.columns])
    return Diagnostic(
        communes=communes_g,
        sites=gpd.GeoDataFrame(site_cols, geometry="geometry", crs=settings.default_crs),
        departement=dep,
        epci=epci,
        worklist=worklist,
        exclusions=exclusions,
        hours_issues=issues,
        notes=notes,
        isochrones=_isochrones(graph, res.sites),
        meta=info,
        access=res,
    )


def _commune_geometry(origins: gpd.GeoDataFrame) -> gpd.GeoSeries:
    pts = origins.geometry
    if "commune_geometry" not in origins.columns:
        return pts
    polys = shapely.from_wkt(origins["commune_geometry"].fillna("").replace("", None).to_numpy())
    geoms = np.where(pd.isna(polys), np.asarray(pts.values), polys)
    return gpd.GeoSeries(list(geoms), index=origins.index, crs=settings.default_crs)


def _isochrones(graph: RoutingGraph, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    from msapgeo.isochrones import isochrones

    ok = sites[sites["exclusion"].isna()] if "exclusion" in sites.columns else sites
    if not len(ok):
        return None
    return isochrones(graph, ok)


def add_people(
    diag: Diagnostic,
    graph: RoutingGraph,
    points: gpd.GeoDataFrame,
    *,
    thresholds: Sequence[float] | None = None,
) -> Diagnostic:
    """Route population points to the diagnostic's sites and add the indicators on people.

    Parameters
    ----------
    diag
        A diagnostic whose ``access`` holds the town-hall run.
    graph
        The same routing graph.
    points
        :func:`msapgeo.population.population_points` (or :func:`~msapgeo.population.
        load_filosofi`) output.
    thresholds
        Minutes (default: the diagnostic's gap thresholds).

    Returns
    -------
    Diagnostic
        The same object with ``points``, ``people`` (per commune, the town-hall time
        beside the population-weighted mean and p90) and ``people_epci`` set, and a note.
    """
    from msapgeo.population import people_indicators
    from msapgeo.routing import nearest_site

    if diag.access is None:
        raise InputError("add_people needs a diagnostic with its access run")
    th = tuple(thresholds or diag.meta.get("thresholds_min", GAP_THRESHOLDS))
    routed = nearest_site(graph, points, diag.access.sites, site_id="site_id", second=False)
    people = people_indicators(routed, diag.access.origins, thresholds=th)
    names = diag.communes.set_index("insee_com")
    for col in ("nom", "epci_nom"):
        if col in names.columns:
            people.insert(1, col, people["insee_com"].map(names[col].to_dict()))
    epci = (
        people_indicators(
            routed.assign(epci_nom=routed["insee_com"].map(names["epci_nom"].to_dict())),
            thresholds=th,
            by="epci_nom",
        )
        if "epci_nom" in names.columns
        else None
    )
    # the whole territory, as one more row of the EPCI table
    whole = people_indicators(
        routed.assign(epci_nom="ensemble du territoire"), thresholds=th, by="epci_nom"
    )
    epci = whole if epci is None else pd.concat([epci, whole], ignore_index=True)
    lost = routed["exclusion"].notna()
    methods = routed.groupby("insee_com")["origin_method"].first().value_counts().to_dict()
    diag.points, diag.people, diag.people_epci = routed, people, epci
    diag.notes.append(
        t_(
            "tous les habitants : {n} points de population ({how}) ; {k} points ({p} "
            "habitants) sont trop loin d'une route et ne sont pas calculés",
            n=fr_number(len(routed)),
            how=", ".join(
                t_("{n} communes par {m}", n=n, m=t_(str(m))) for m, n in methods.items()
            ),
            k=int(lost.sum()),
            p=fr_number(routed.loc[lost, "population"].sum()),
        )
    )
    return diag


def speed_notes(graph: RoutingGraph, routes: pd.DataFrame | None = None) -> list[str]:
    """What a reader must know of the speeds: the profile, the share of tagged km of the
    network and, given the run's routes, the share of the km driven at default speeds."""
    profile = graph.meta.get("profile", "legal")
    what = {
        "practical": "vitesses pratiques par classe de route et contexte, coûts des carrefours "
        "et des virages",
        "legal": "limites légales seules (majorant des vitesses), sans coût aux carrefours",
        "mountain": "vitesses pratiques, carrefours et virages, courbure et pente",
        "insee": "modèle Métric de l'INSEE (heures creuses)",
    }.get(str(profile), str(profile))
    share = graph.meta.get("maxspeed_tagged_share")
    out = [t_("profil de vitesse « {p} » : {what}", p=profile, what=t_(what))]
    if share is not None:
        if share <= 0:
            out.append(
                t_(
                    "le réseau ne porte aucune limitation de vitesse (maxspeed) : toutes les "
                    "vitesses sont des valeurs par défaut selon la classe de route"
                )
            )
        else:
            out.append(
                t_(
                    "{s} % de la longueur du réseau porte une limitation de vitesse (maxspeed) "
                    "; le reste suit les valeurs par défaut de sa classe de route",
                    s=fr_number(100 * share, 0),
                )
            )
    run = route_default_share(routes) if routes is not None else None
    if run is not None:
        out.append(
            t_(
                "sur les trajets calculés (vers le site le plus proche), {s} % des kilomètres "
                "parcourus le sont à une vitesse par défaut de la classe de route, et non à une "
                "limitation de vitesse étiquetée",
                s=fr_number(100 * run, 0),
            )
        )
    return out


def _notes(
    communes: pd.DataFrame,
    density: pd.DataFrame | None,
    mountain: pd.DataFrame | None,
    supply_note: str | None,
    sites: pd.DataFrame,
) -> list[str]:
    notes = []
    unknown_pop = int(communes["population"].isna().sum())
    if unknown_pop:
        notes.append(
            t_(
                "{k} des {n} communes n'ont pas de population connue : elles restent dans les "
                "tableaux et les cartes mais hors de tout chiffre de population",
                k=unknown_pop,
                n=len(communes),
            )
        )
    if density is None:
        notes.append(
            t_(
                "pas de grille de densité fournie : la classe de densité est « unknown » pour "
                "chaque commune"
            )
        )
    elif (communes["density_class"] == "unknown").any():
        n = int((communes["density_class"] == "unknown").sum())
        notes.append(t_("{n} communes absentes de la grille de densité (« unknown »)", n=n))
    if (
        mountain is not None
        and "mountain_source" in mountain.columns
        and (mountain["mountain_source"].astype(str).str.startswith("estimated (DEM)").any())
    ):
        notes.append(
            t_(
                "zone de montagne estimée par le MNT selon les seuils de la loi Montagne (700 m, "
                "pentes de 20 %, ou 500 m et 15 %) : une estimation, pas la liste officielle"
            )
        )
    if mountain is None:
        notes.append(
            t_(
                "pas de classement en zone de montagne fourni : l'indicateur montagne est "
                "« unknown », jamais deviné"
            )
        )
    if supply_note:
        notes.append(supply_note)
    if "role" in sites.columns:
        n_bus = int((sites["role"] == "itinerant").sum())
        if n_bus:
            notes.append(
                t_(
                    "{n} services itinérants (bus) listés à part, non calculés comme sites fixes",
                    n=n_bus,
                )
            )
    return notes


def demo_origins_with_parishes(
    origins: gpd.GeoDataFrame, features: OSMFeatures, admin_level: str = "7"
) -> gpd.GeoDataFrame:
    """Give the test region's places an EPCI stand-in: the parish (``admin_level=7``) they lie in.

    Adds ``insee_com`` (= ``id``), ``nom``, ``epci_siren`` (parish OSM id) and ``epci_nom``
    (parish name, ``outside any parish`` when none contains the place).
    """
    b = features.boundaries
    parishes = b[b["admin_level"] == admin_level][["osm_id", "name", "geometry"]]
    joined = gpd.sjoin(origins, parishes, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    out = origins.copy()
    out["insee_com"] = out["id"]
    out["nom"] = out["name"]
    out["epci_siren"] = joined["osm_id_right"].astype("Int64").astype("string").to_numpy()
    out["epci_nom"] = joined["name_right"].fillna("outside any parish").to_numpy()
    return out
