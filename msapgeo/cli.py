"""Command line: ``msapgeo access | diagnose | demo | evaluate | optimise | scenario | graph``.

Errors of the library (missing data, bad inputs, corrupt OSM files) are printed as one
clear message on standard error with exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from msapgeo import __version__, datasets, settings
from msapgeo.comparison import Comparison
from msapgeo.dem import DEM, estimate_mountain
from msapgeo.diagnostic import (
    Diagnostic,
    add_people,
    demo_origins_with_parishes,
    run_diagnostic,
)
from msapgeo.errors import InputError, MsapgeoError
from msapgeo.fileio import OutputFolder, check_output_folder
from msapgeo.graph import RoutingGraph
from msapgeo.i18n import t as t_
from msapgeo.indicators import load_mountain_list
from msapgeo.pipeline import (
    AccessResult,
    covered_by_graph,
    demo_inputs,
    demo_places,
    departement_extract,
    departement_inputs,
    load_graph,
    place_territories,
    run_access,
)
from msapgeo.places import read_points
from msapgeo.planning import (
    sites_from_communes,
    sites_from_points,
)
from msapgeo.regions import REGIONS, Region, extract_region, load_region
from msapgeo.report import (
    CSV_FORMATS,
    format_summary,
    run_record,
    write_access_files,
    write_comparison,
    write_diagnostic_files,
    write_optimisation,
)
from msapgeo.scenarios import closed_road_geometry


def _positive(text: str) -> float:
    """argparse type: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number")
    return value


def _positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of 1 or more")
    return value


def _date(text: str) -> str:
    """argparse type: a calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it YYYY-MM-DD, e.g. 2027-01-15"
        ) from None


def _existing_file(text: str) -> Path:
    """argparse type: a file that exists."""
    p = Path(text)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {what}; give an existing file")
    return p


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Examples kept as written, and every option's default shown."""


#: Examples of each command; they run offline on the data mirror (make demo's region).
EXAMPLES: dict[str, str] = {
    "msapgeo": "examples:\n  msapgeo demo --out out/demo\n  msapgeo demo --region andorra "
    "--out out/andorra\n  msapgeo evaluate --add 1.53,42.55 --out out/eval\n"
    '  msapgeo scenario --close-name "Túnel d\'Envalira" --out out/winter',
    "access": "example:\n  msapgeo access --osm andorra-latest-2025.osm.pbf --origins "
    "places.csv --sites sites.gpkg --sites-layer sites --out out/access",
    "diagnose": "example:\n  msapgeo diagnose 05 --osm hautes-alpes.osm.pbf --neighbour-osm "
    "alpes-de-haute-provence.osm.pbf isere.osm.pbf --out out/05",
    "demo": "examples:\n  msapgeo demo --out out/demo\n  msapgeo demo --region andorra "
    "--profile mountain --out out/andorra",
    "evaluate": "examples (offline test region, Andorra):\n  msapgeo evaluate --add 1.53,42.55 "
    "--out out/eval\n  msapgeo evaluate --remove townhall/node/4697188689 --out out/eval2",
    "optimise": "example (offline test region, Andorra):\n  msapgeo optimise --k 2 --threshold 10 "
    "--candidates post_offices --out out/opt",
    "scenario": "examples (offline test region, Andorra):\n  msapgeo scenario --close-name "
    '"Túnel d\'Envalira" --out out/closure\n'
    "  msapgeo scenario --winter 2027-01-15 --out out/winter",
    "graph": "example:\n  msapgeo graph --osm andorra-latest-2025.osm.pbf --out graphs/",
    "batch": "example:\n  msapgeo batch 05 04 --osm 05=hautes-alpes.osm.pbf "
    "04=alpes-de-haute-provence.osm.pbf --out out/national\n"
    "  msapgeo batch 05 04 26 38 73 --scheduler tcp://10.0.0.5:8786 --out out/national",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on standard error, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--gpkg-crs",
        default=None,
        help="CRS of the GeoPackage outputs, e.g. EPSG:2154 for Lambert-93 "
        f"(default {settings.output_crs})",
    )
    p.add_argument(
        "--csv-format",
        choices=CSV_FORMATS,
        default=None,
        help="CSV layout: fr (; and decimal comma, for French Excel) or machine "
        "(default fr; machine with --lang en)",
    )
    p.add_argument(
        "--lang",
        choices=("fr", "en"),
        default="fr",
        help="language of the outputs: labels, headers, legends, report (default fr)",
    )
    p.add_argument(
        "--tolerance-m",
        type=_positive,
        default=None,
        help=f"max snapping distance in m (default {settings.snap_tolerance_m:g})",
    )
    p.add_argument(
        "--offnetwork-kmh",
        type=_positive,
        default=None,
        help=f"speed of the off-network leg (default {settings.offnetwork_speed_kmh:g} km/h)",
    )
    p.add_argument(
        "--network-type", choices=["drive", "drive_service"], default=None, help="drivable filter"
    )
    p.add_argument("--no-cache", action="store_true", help="rebuild the graph, do not cache it")
    p.add_argument(
        "--profile",
        choices=["practical", "legal", "mountain", "insee"],
        default="practical",
        help="speeds: practical (practical speeds by road class and junction delays; "
        "default), legal (the law's limits), mountain (practical with curvature and slope) "
        "or insee (INSEE Métric's off-peak model)",
    )
    p.add_argument(
        "--dem",
        nargs="*",
        type=Path,
        default=None,
        help="SRTM .hgt/.hgt.zip or GeoTIFF tiles for the slope penalty and the DEM mountain "
        "estimate (the demo uses the Andorra tile of the catalog)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _diag_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--thresholds", default="20,30", help="gap thresholds in minutes (default 20,30)"
    )
    p.add_argument("--no-antennas", action="store_true", help="leave antennas out of the sites")
    p.add_argument("--include-buses", action="store_true", help="count buses as fixed sites")


def _dem(args: argparse.Namespace) -> DEM | None:
    return DEM.from_files(list(args.dem)) if getattr(args, "dem", None) else None


def _thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(sorted(float(x) for x in text.split(",") if x.strip()))
    except ValueError as exc:
        raise InputError(f"--thresholds {text!r}: give minutes separated by commas") from exc
    if not values or min(values) <= 0:
        raise InputError(f"--thresholds {text!r}: give positive minutes, e.g. 20,30")
    return values


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``msapgeo`` command."""
    parser = _Parser(
        prog="msapgeo",
        epilog=EXAMPLES["msapgeo"],
        formatter_class=_Help,
        description="Road time from communes to their nearest France services / MSAP.",
    )
    parser.add_argument("--version", action="version", version=f"msapgeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = sub.add_parser(
        "access",
        epilog=EXAMPLES["access"],
        formatter_class=_Help,
        help="nearest site for every origin, from files",
    )
    a.add_argument(
        "--osm", required=True, type=_existing_file, help="OSM extract (.osm.pbf, .osm[.gz|.bz2])"
    )
    a.add_argument(
        "--origins", required=True, type=_existing_file, help="CSV (lon/lat), GPKG or GeoJSON"
    )
    a.add_argument(
        "--sites", required=True, type=_existing_file, help="CSV (lon/lat), GPKG or GeoJSON"
    )
    a.add_argument("--origins-layer", default=None, help="layer of a multi-layer GeoPackage")
    a.add_argument("--sites-layer", default=None, help="layer of a multi-layer GeoPackage")
    a.add_argument("--origin-id", default=None, help="identifier column of the origins")
    a.add_argument("--site-id", default=None, help="identifier column of the sites")
    _common(a)

    d = sub.add_parser(
        "diagnose",
        epilog=EXAMPLES["diagnose"],
        formatter_class=_Help,
        help="a French département through the data catalog",
    )
    d.add_argument("dep", help="département code, e.g. 05")
    d.add_argument(
        "--osm", type=_existing_file, default=None, help="OSM extract covering the département"
    )
    d.add_argument(
        "--neighbours",
        default=None,
        help="comma-separated départements whose sites count too (default: catalog's)",
    )
    d.add_argument(
        "--neighbour-osm",
        nargs="*",
        type=_existing_file,
        default=None,
        help="extracts of the neighbouring départements, assembled with the département's "
        "(without --osm, the catalog's are fetched)",
    )
    d.add_argument(
        "--buffer-km",
        type=_positive,
        default=None,
        help=f"keep the neighbours' roads within this distance of the département "
        f"(default {settings.assembly_buffer_km:g} km)",
    )
    d.add_argument("--fs-vintage", default="2024", choices=["2024", "2020"])
    d.add_argument(
        "--mountain",
        type=Path,
        default=None,
        help="list of communes in zone de montagne (ANCT file or any table of INSEE codes)",
    )
    _diag_options(d)
    _common(d)

    m = sub.add_parser(
        "demo",
        epilog=EXAMPLES["demo"],
        formatter_class=_Help,
        help="a ready-made territory end to end: diagnostic, planning and winter scenario "
        "(default: the Pays du Mont-Blanc on real roads)",
    )
    m.add_argument(
        "--region",
        choices=sorted(REGIONS),
        default="pays-du-mont-blanc",
        help="territory (default pays-du-mont-blanc; andorra is the offline test region)",
    )
    m.add_argument(
        "--osm", type=_existing_file, default=None, help="another extract to run the demo on"
    )
    _diag_options(m)
    _common(m)

    region_help = "département code; without it the offline test region (Andorra 2025)"
    e = sub.add_parser(
        "evaluate",
        epilog=EXAMPLES["evaluate"],
        formatter_class=_Help,
        help="who gains if a site opens or closes (before/after)",
    )
    e.add_argument("--dep", default=None, help=region_help)
    e.add_argument("--osm", type=_existing_file, default=None, help="OSM extract of the region")
    e.add_argument(
        "--add",
        nargs="*",
        default=[],
        help="sites to add: LON,LAT, a commune code (its town hall) or a CSV/GPKG/GeoJSON file",
    )
    e.add_argument("--remove", nargs="*", default=[], help="site_id values to close")
    _common(e)

    o = sub.add_parser(
        "optimise",
        epilog=EXAMPLES["optimise"],
        formatter_class=_Help,
        help="where the next sites should go (covering, p-median)",
    )
    o.add_argument("--dep", default=None, help=region_help)
    o.add_argument("--osm", type=_existing_file, default=None, help="OSM extract of the region")
    o.add_argument("--k", type=_positive_int, default=2, help="new sites (models run for 1..k)")
    o.add_argument("--threshold", type=_positive, default=30.0, help="coverage threshold, minutes")
    o.add_argument(
        "--candidates",
        default="townhalls",
        help="townhalls (of the communes), post_offices (amenity=post_office in the extract) "
        "or a CSV/GPKG/GeoJSON file",
    )
    o.add_argument(
        "--weight",
        choices=["population", "count"],
        default=None,
        help="demand weight (default: population; count on the test region)",
    )
    o.add_argument(
        "--method",
        choices=["auto", "exact", "heuristic"],
        default="auto",
        help="exact (HiGHS MILP), heuristic (greedy and swaps) or auto (exact when small)",
    )
    _common(o)

    s = sub.add_parser(
        "scenario",
        epilog=EXAMPLES["scenario"],
        formatter_class=_Help,
        help="road closures and winter passes: who loses access",
    )
    s.add_argument("--dep", default=None, help=region_help)
    s.add_argument("--osm", type=_existing_file, default=None, help="OSM extract of the region")
    s.add_argument("--close-way", nargs="*", type=int, default=[], help="OSM way ids")
    s.add_argument("--close-name", nargs="*", default=[], help="exact way names")
    s.add_argument("--close-ref", nargs="*", default=[], help="road refs, e.g. D 902")
    s.add_argument(
        "--close-polygon", type=_existing_file, default=None, help="GeoJSON/GPKG polygon(s)"
    )
    s.add_argument(
        "--winter", type=_date, default=None, help="date (YYYY-MM-DD): closures from OSM tags"
    )
    _common(s)

    b = sub.add_parser(
        "batch",
        epilog=EXAMPLES["batch"],
        formatter_class=_Help,
        help="the diagnostic of many départements on Dask, gathered into one national output",
    )
    b.add_argument("deps", nargs="+", help="département codes, e.g. 05 04 26")
    b.add_argument(
        "--osm",
        nargs="*",
        default=[],
        help="extracts as DEP=FILE (default: the catalog's extract of each département)",
    )
    b.add_argument(
        "--scheduler", default=None, help="address of a Dask scheduler (default: a local cluster)"
    )
    b.add_argument("--workers", type=_positive_int, default=2, help="local cluster's workers")
    b.add_argument("--retries", type=int, default=1, help="tries again before reporting")
    _common(b)

    g = sub.add_parser(
        "graph",
        epilog=EXAMPLES["graph"],
        formatter_class=_Help,
        help="build a routing graph and save it (.npz)",
    )
    g.add_argument("--osm", required=True, type=_existing_file, help="OSM extract")
    g.add_argument(
        "--out",
        required=True,
        type=Path,
        help="target .npz file; a folder receives <extract name>.npz",
    )
    g.add_argument(
        "--network-type",
        choices=["drive", "drive_service"],
        default=None,
        help="drivable filter (osmnx's network types)",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


_SETTINGS = (
    "snap_tolerance_m",
    "offnetwork_speed_kmh",
    "progress",
    "profile",
    "output_crs",
    "language",
    "network_type",
)


def _apply_settings(args: argparse.Namespace) -> None:
    lang = getattr(args, "lang", None) or "fr"
    settings.language = lang
    if hasattr(args, "csv_format") and args.csv_format is None:
        args.csv_format = "machine" if lang == "en" else "fr"
    if getattr(args, "tolerance_m", None) is not None:
        settings.snap_tolerance_m = args.tolerance_m
    if getattr(args, "offnetwork_kmh", None) is not None:
        settings.offnetwork_speed_kmh = args.offnetwork_kmh
    if args.quiet:
        settings.progress = False
    if getattr(args, "gpkg_crs", None):
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(args.gpkg_crs)
        except CRSError as exc:
            raise InputError(f"--gpkg-crs {args.gpkg_crs!r}: not a CRS ({exc})") from exc
        settings.output_crs = args.gpkg_crs


def _finish(
    result: AccessResult,
    out: Path,
    t0: float,
    diag: Diagnostic | None = None,
    sources: Sequence[str] = (),
    csv_format: str = "fr",
    extra: Callable[[Path], list[str]] | None = None,
) -> None:
    run = run_record(result)
    extra_lines: list[str] = []
    prov = datasets.provenance(sources) if (diag is not None and sources) else None
    with OutputFolder(out, run) as folder:
        files = write_access_files(result, folder.path, csv_format=csv_format)
        if diag is not None:
            folder.run["diagnostic"] = {"notes": list(diag.notes)}
            files.update(
                {
                    f"diagnostic {k}": v
                    for k, v in write_diagnostic_files(
                        diag, folder.path / "diagnostic", provenance=prov
                    ).items()
                }
            )
        if extra is not None:
            extra_lines = extra(folder.path)
    print(format_summary(result.summary()))
    print(f"graph: {result.graph!r}")
    if result.graph.meta.get("profile") == "mountain":
        rep = result.graph.meta.get("profile_report", {})
        print(f"profile mountain: {rep.get('curvature')}; slope: {rep.get('slope')}")
    if diag is not None:
        kf = diag.key_figures()
        th = diag.meta["thresholds_min"]
        print(
            "diagnostic: "
            + ", ".join(f"{int(kf[f'gap_{x:g}min_communes'])} gap communes > {x:g} min" for x in th)
        )
        for note in diag.notes:
            print(f"  note: {note}")
    for line in extra_lines:
        print(line)
    written = sorted(str(p) for p in folder.out.rglob("*") if p.is_file())
    print(f"written ({len(written)} files, listed with their SHA-256 in {out}/run.json): ")
    print("  " + "\n  ".join(written))
    print(f"done in {time.perf_counter() - t0:.1f} s")


def cmd_access(args: argparse.Namespace) -> None:
    """``msapgeo access``."""
    t0 = time.perf_counter()
    origins = read_points(args.origins, id_col=args.origin_id, layer=args.origins_layer)
    sites = read_points(args.sites, id_col=args.site_id, layer=args.sites_layer)
    for label, pts in (("origins", origins), ("sites", sites)):
        for note in pts.attrs.get("notes", []):
            print(f"  note ({label}): {note}")
    graph = load_graph(
        args.osm,
        network_type=args.network_type,
        cache=not args.no_cache,
        profile=args.profile,
        dem=_dem(args),
    )
    inside = covered_by_graph(graph, origins.geometry.dropna())
    if not inside.any():
        raise InputError(
            f"{args.origins}: no origin lies within the area of {args.osm}; "
            "check the extract or the coordinates (lon/lat in WGS84)"
        )
    result = run_access(graph, origins, sites, site_id="id", meta={"command": "access"})
    _finish(result, args.out, t0, csv_format=args.csv_format)


def cmd_diagnose(args: argparse.Namespace) -> None:
    """``msapgeo diagnose``."""
    t0 = time.perf_counter()
    dep = datasets.normalise_dep(args.dep)
    neighbours = tuple(x.strip() for x in args.neighbours.split(",")) if args.neighbours else None
    origins, sites = departement_inputs(dep, neighbours=neighbours, vintage=args.fs_vintage)
    if args.osm is not None and not args.neighbour_osm:
        osm = args.osm
        extract_notes = [
            f"only {Path(args.osm).name} is in the graph: the neighbouring départements' roads "
            "are not (give their extracts with --neighbour-osm), so trips that leave the "
            "département and the neighbours' sites beyond its roads may be missing or wrong"
        ]
    else:
        osm, extract_notes = departement_extract(
            dep,
            args.osm,
            args.neighbour_osm,
            buffer_km=args.buffer_km,
            neighbours=neighbours,
        )
    dem = _dem(args)
    graph = load_graph(
        osm, network_type=args.network_type, cache=not args.no_cache, profile=args.profile, dem=dem
    )
    inside = covered_by_graph(graph, origins.geometry)
    if not inside.all():
        missing = origins.loc[~inside, ["insee_com", "nom"]]
        names = ", ".join(f"{c} {n}" for c, n in missing.itertuples(index=False))
        raise InputError(
            f"{osm}: the extract does not cover {len(missing)} of the {len(origins)} communes "
            f"of département {dep}: {names}"
        )
    if args.mountain:
        mountain = load_mountain_list(args.mountain)
    elif dem is not None:
        territories = gpd.GeoDataFrame(
            origins[["insee_com"]],
            geometry=gpd.GeoSeries.from_wkt(origins["commune_geometry"]),
            crs="EPSG:4326",
        )
        mountain = estimate_mountain(dem, territories)
    else:
        mountain = None
    diag = run_diagnostic(
        graph,
        origins,
        sites,
        density=datasets.load_density_grid(),
        mountain=mountain,
        include_antennas=not args.no_antennas,
        include_buses=args.include_buses,
        thresholds=_thresholds(args.thresholds),
        meta={"departement": dep, "title": f"Diagnostic France services — département {dep}"},
    )
    diag.notes[:0] = extract_notes
    assert diag.access is not None
    diag.dem = dem
    sources = [
        f"france_services_{args.fs_vintage}",
        f"communes_{dep}",
        "population_2021",
        "cog_2026_communes",
        "cog_2026_epci",
        "density_grid",
    ]
    _finish(diag.access, args.out, t0, diag, sources, csv_format=args.csv_format)


def cmd_demo(args: argparse.Namespace) -> None:
    """``msapgeo demo``: a ready-made territory end to end (diagnostic, planning, winter)."""
    t0 = time.perf_counter()
    if args.osm is not None:
        _demo_on_extract(args, t0)
        return
    region = load_region(args.region, progress=settings.progress)
    dem = _dem(args) or region.dem
    if dem is not None:
        region.dem = dem
    graph = region.graph(profile=args.profile, cache=not args.no_cache)
    mountain = region.mountain
    if mountain is None and dem is not None:
        mountain = estimate_mountain(dem, place_territories(region.origins))
    diag = run_diagnostic(
        graph,
        region.origins,
        region.sites,
        density=region.density,
        mountain=mountain,
        zonages=region.zonages,
        include_antennas=not args.no_antennas,
        include_buses=args.include_buses,
        thresholds=_thresholds(args.thresholds),
        meta={"command": "demo", "region": region.label, "title": f"Diagnostic — {region.label}"},
    )
    diag.notes[:0] = region.notes
    assert diag.access is not None
    diag.dem = dem
    points = region.population_points()
    if points is not None:
        add_people(diag, graph, points)
    extra = _demo_planning_and_winter(region, graph, diag, args)
    _finish(
        diag.access, args.out, t0, diag, region.sources, csv_format=args.csv_format, extra=extra
    )


def _demo_planning_and_winter(
    region: Region, graph: RoutingGraph, diag: Diagnostic, args: argparse.Namespace
) -> Callable[[Path], list[str]]:
    """Planning (post offices, then town halls, as candidates; coverage in people when the
    region has population points) and the region's winter scenario, by the Region's
    methods; written by :mod:`msapgeo.report`."""
    points = diag.points
    plans = []
    for kind in ("post_offices", "townhalls"):
        n = len(region.routable_candidates(kind, profile=args.profile))
        if n:
            opt = region.optimise(
                k=min(2, n),
                threshold_min=(20.0, 30.0),
                candidates=kind,
                origins=points,
                profile=args.profile,
            )
            plans.append((kind, opt))
    winter = region.scenario(profile=args.profile) if region.winter is not None else None
    if winter is not None and points is not None:  # the same closure counted in people
        people = region.scenario(profile=args.profile, origins=points)
        winter.summary = pd.concat(
            [
                winter.summary.assign(counted="communes (mairies)"),
                people.summary.rename(columns={"communes": "points"}).assign(
                    counted="points de population"
                ),
            ],
            ignore_index=True,
        )
    edges = graph.edges_gdf()

    def write(folder: Path) -> list[str]:
        lines = []
        plan_dir = folder / "planning"
        plan_dir.mkdir()
        for kind, opt in plans:
            write_optimisation(
                opt,
                plan_dir,
                name=f"optimise_{kind}",
                csv_format=args.csv_format,
                threshold_min=20.0,
                title=t_("Nouveaux sites ({kind}) : temps avant et après", kind=kind),
                edges=edges,
                map_name=f"map_{kind}.html",
            )
            best = opt.comparison("maximal_covering", threshold_min=20.0)
            new = best.site_changes()[0]
            lines.append(
                f"planning ({kind}): best site for 20 min coverage: "
                + ", ".join(new.get("name", new["site_id"]).astype(str))
            )
        if winter is not None and region.winter is not None:
            sc, what = winter.scenario, region.winter[1]
            w_dir = folder / "scenario"
            w_dir.mkdir()
            write_comparison(
                winter,
                w_dir,
                "scenario",
                csv_format=args.csv_format,
                title=t_("Hiver : ") + what,
                edges=edges,
                closed_roads=closed_road_geometry(graph, sc.closed, edges),
                tables={"closed_ways": sc.closed},
            )
            communes = winter.communes
            lost = communes.loc[communes["loses_access"].astype(bool), "name"].astype(str)
            worse = communes.loc[communes["delta_min"] > 0.05]
            slower = ", ".join(
                f"{n} (+{d:.1f} min)"
                for n, d in worse[["name", "delta_min"]].itertuples(index=False)
            )
            lines.append(
                f"winter scenario: {len(sc.closed)} ways closed ({what}); losing access: "
                f"{', '.join(lost) or 'none'}; slower: {slower or 'none'}"
            )
        return lines

    return write


def _demo_on_extract(args: argparse.Namespace, t0: float) -> None:
    """The demo on another extract: its populated places to its town halls and post offices."""
    osm, features = demo_inputs(args.osm, progress=settings.progress)
    dem = _dem(args)
    graph = load_graph(
        osm,
        network_type=args.network_type,
        features=features,
        cache=not args.no_cache,
        profile=args.profile,
        dem=dem,
    )
    origins, sites = demo_places(features)
    origins = demo_origins_with_parishes(origins, features)
    mountain = estimate_mountain(dem, place_territories(origins)) if dem is not None else None
    diag = run_diagnostic(
        graph,
        origins,
        sites,
        mountain=mountain,
        include_antennas=not args.no_antennas,
        include_buses=args.include_buses,
        thresholds=_thresholds(args.thresholds),
        meta={
            "command": "demo",
            "region": f"{Path(args.osm).name} (places to town halls and post offices)",
            "title": f"Diagnostic — {Path(args.osm).name}",
        },
    )
    assert diag.access is not None
    diag.dem = dem
    _finish(diag.access, args.out, t0, diag, [], csv_format=args.csv_format)


def cmd_graph(args: argparse.Namespace) -> None:
    """``msapgeo graph``."""
    from msapgeo.network import graph_from_osm

    out = Path(args.out)
    if out.is_dir() or str(args.out).endswith(("/", "\\")):
        out = out / (args.osm.name.split(".")[0] + ".npz")
    elif out.parent.exists() and not out.parent.is_dir():
        raise InputError(f"--out {out}: {out.parent} is a file")
    if args.quiet:
        settings.progress = False
    g = graph_from_osm(args.osm, network_type=args.network_type)
    path = g.save(out)
    print(f"{g!r} written to {path}")


def _region(args: argparse.Namespace) -> Region:
    """The territory of the planning commands: a département (``--dep``), an extract
    (``--osm``), or the offline test region, where town halls stand in for sites."""
    dem = _dem(args)
    if args.network_type:
        settings.network_type = args.network_type  # restored by main()
    if args.dep:
        return load_region(
            dep=args.dep, osm=args.osm, profile=args.profile, dem=dem, progress=settings.progress
        )
    if args.osm:
        region = extract_region(args.osm, dem=dem, progress=settings.progress)
        region.profile = args.profile
    else:
        region = load_region("andorra", profile=args.profile, dem=dem, progress=settings.progress)
    region.sites = region.candidates["townhalls"]
    region.label += t_(" ; les mairies tiennent lieu de France services")
    return region


_LONLAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def _parse_add(specs: Sequence[str], origins: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frames = []
    codes = []
    for spec in specs:
        m = _LONLAT.match(spec)
        if Path(spec).is_file():
            pts = read_points(spec)
            pts["site_id"] = "candidate/" + pts["id"].astype(str)
            frames.append(pts)
        elif m:
            frames.append(
                sites_from_points(
                    [(float(m.group(1)), float(m.group(2)))], prefix=f"candidate/{spec.strip()}#"
                )
            )
        else:
            codes.append(spec)
    if codes:
        frames.append(sites_from_communes(origins, codes))
    if not frames:
        raise InputError("--add: give LON,LAT, a commune code or a file")
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def cmd_evaluate(args: argparse.Namespace) -> None:
    """``msapgeo evaluate``."""
    t0 = time.perf_counter()
    r = _region(args)
    add = _parse_add(args.add, r.origins) if args.add else None
    ev = r.evaluate(add=add, remove=args.remove)
    _write_comparison_run(args, r, ev, "evaluation", t0, t_("Nouveau site : temps avant et après"))


def _write_comparison_run(
    args: argparse.Namespace,
    r: Region,
    comp: Comparison,
    name: str,
    t0: float,
    title: str,
    *,
    header: str = "",
    **files: Any,
) -> None:
    """Write a before/after (``evaluate``, ``scenario``) as one output folder and say it."""
    edges = r.graph().edges_gdf()
    if "closed" in files:
        files["closed_roads"] = closed_road_geometry(r.graph(), files.pop("closed"), edges)
    with OutputFolder(args.out, {"command": args.command, "region": r.label}) as folder:
        written = write_comparison(
            comp,
            folder.path,
            name,
            csv_format=args.csv_format,
            title=title,
            edges=edges,
            **files,
        )
    print(f"region: {r.label}{header}")
    print(comp.summary.to_string(index=False))
    print(comp.plain_summary())
    print(f"written: {args.out}/" + ", ".join(p.name for p in written))
    print(f"done in {time.perf_counter() - t0:.1f} s")


def cmd_optimise(args: argparse.Namespace) -> None:
    """``msapgeo optimise``."""
    t0 = time.perf_counter()
    r = _region(args)
    kind = args.candidates
    if kind not in ("townhalls", "post_offices"):
        if not Path(kind).is_file():
            raise InputError(f"--candidates {kind!r}: townhalls, post_offices or an existing file")
        cands = read_points(kind)
        cands["site_id"] = "candidate/" + cands["id"].astype(str)
        r.candidates["file"] = cands
        kind = "file"
    elif kind == "townhalls":
        r.candidates["townhalls"] = (
            sites_from_communes(
                r.origins, r.origins["insee_com"].astype(str).tolist(), code_col="insee_com"
            )
            if "insee_com" in r.origins.columns
            else r.candidates["townhalls"]
        )
    plans = r.optimise(
        k=args.k,
        threshold_min=args.threshold,
        candidates=kind,
        method=args.method,
        weight=args.weight,
    )
    with OutputFolder(args.out, {"command": "optimise", "region": r.label}) as folder:
        written = write_optimisation(
            plans,
            folder.path,
            csv_format=args.csv_format,
            k=args.k,
            title=t_("Nouveaux sites (couverture maximale) : temps avant et après"),
            edges=r.graph().edges_gdf(),
        )
    print(f"region: {r.label}")
    for note in plans.notes:
        print(f"  note: {note}")
    cols = [
        "model",
        "k",
        "threshold_min",
        "objective",
        "objective_unit",
        "already_covered_population",
        "gain_population",
        "chosen_names",
    ]
    table = plans.table
    print(table[[c for c in cols if c in table.columns]].to_string(index=False))
    print(f"written: {args.out}/" + ", ".join(p.name for p in written))
    print(f"done in {time.perf_counter() - t0:.1f} s")


def cmd_scenario(args: argparse.Namespace) -> None:
    """``msapgeo scenario``."""
    t0 = time.perf_counter()
    r = _region(args)
    polygon = None
    if args.close_polygon:
        try:
            poly = gpd.read_file(args.close_polygon)
        except Exception as exc:
            raise InputError(
                f"--close-polygon {args.close_polygon}: not a readable GeoJSON/GeoPackage ({exc})"
            ) from exc
        if poly.crs is None:
            raise InputError(f"{args.close_polygon}: the layer has no CRS")
        polygon = poly.to_crs(settings.default_crs).union_all()
    asked = args.close_way or args.close_name or args.close_ref or polygon is not None
    if not asked and not args.winter:
        raise InputError("give --close-way, --close-name, --close-ref, --close-polygon or --winter")
    comp = r.scenario(
        close=polygon,
        way_ids=args.close_way or (),
        names=args.close_name or (),
        refs=args.close_ref or (),
        winter=args.winter,
    )
    sc = comp.scenario
    _write_comparison_run(
        args,
        r,
        comp,
        "scenario",
        t0,
        t_("Fermeture : temps avant et après"),
        header=f"; {len(sc.closed)} ways closed",
        closed=sc.closed,
        tables={"closed_ways": sc.closed, "not_evaluated": sc.not_evaluated},
    )


def cmd_batch(args: argparse.Namespace) -> None:
    """``msapgeo batch``."""
    from msapgeo.batch import DepartementTask, run_batch, write_batch

    t0 = time.perf_counter()
    files: dict[str, str] = {}
    for spec in args.osm:
        dep, sep, path = spec.partition("=")
        if not sep or not path:
            raise InputError(f"--osm {spec!r}: write DEP=FILE, e.g. 05=hautes-alpes.osm.pbf")
        if not Path(path).is_file():
            raise InputError(f"--osm {spec!r}: {path} does not exist")
        files[datasets.normalise_dep(dep)] = path
    deps = [datasets.normalise_dep(d) for d in args.deps]
    tasks = [DepartementTask(d, files.get(d), profile=args.profile) for d in deps]
    res = run_batch(tasks, scheduler=args.scheduler, n_workers=args.workers, retries=args.retries)
    written = write_batch(res, args.out)
    print(f"départements: {len(res.notes)} done, {len(res.failures)} failed")
    for row in res.failures.itertuples(index=False):
        print(f"  failed {row.insee_dep}: {row.error}")
    print("written: " + ", ".join(str(p) for p in written.values()))
    print(f"done in {time.perf_counter() - t0:.1f} s")


def _site_names(sites: pd.DataFrame) -> dict[str, str]:
    """Site id → name (the id where the site has no name)."""
    names = sites.get("name", sites["site_id"]).astype(str)
    return dict(zip(sites["site_id"], names, strict=True))


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an unusable ``--out`` before any work is done."""
    if args.command != "graph" and getattr(args, "out", None) is not None:
        check_output_folder(args.out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``msapgeo`` command.

    Returns the exit status: 0 on success, 2 on a usage or input error (one line on
    standard error), 130 when interrupted. Global settings are restored on return.
    """
    saved = {k: getattr(settings, k) for k in _SETTINGS}
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    handlers = {
        "access": cmd_access,
        "diagnose": cmd_diagnose,
        "demo": cmd_demo,
        "graph": cmd_graph,
        "evaluate": cmd_evaluate,
        "optimise": cmd_optimise,
        "scenario": cmd_scenario,
        "batch": cmd_batch,
    }
    try:
        _apply_settings(args)
        _check_out(args)
        handlers[args.command](args)
    except MsapgeoError as exc:
        print(f"msapgeo: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("msapgeo: interrupted; earlier outputs are left as they were", file=sys.stderr)
        return 130
    finally:
        for k, v in saved.items():
            setattr(settings, k, v)
    return 0


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
