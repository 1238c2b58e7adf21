"""Command line: ``msapgeo access | diagnose | demo | graph``.

Errors of the library (missing data, bad inputs, corrupt OSM files) are printed as one
clear message on standard error with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from msapgeo import __version__, datasets, settings
from msapgeo.diagnostic import Diagnostic, demo_origins_with_parishes, run_diagnostic
from msapgeo.errors import InputError, MsapgeoError
from msapgeo.indicators import load_mountain_list
from msapgeo.pipeline import (
    AccessResult,
    covered_by_graph,
    demo_inputs,
    demo_places,
    departement_inputs,
    load_graph,
    run_access,
)
from msapgeo.places import read_points
from msapgeo.report import format_summary, write_access, write_diagnostic


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--tolerance-m",
        type=float,
        default=None,
        help=f"max snapping distance in m (default {settings.snap_tolerance_m:g})",
    )
    p.add_argument(
        "--offnetwork-kmh",
        type=float,
        default=None,
        help=f"speed of the off-network leg (default {settings.offnetwork_speed_kmh:g} km/h)",
    )
    p.add_argument(
        "--network-type", choices=["drive", "drive_service"], default=None, help="drivable filter"
    )
    p.add_argument("--no-cache", action="store_true", help="rebuild the graph, do not cache it")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _diag_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--thresholds", default="20,30", help="gap thresholds in minutes (default 20,30)"
    )
    p.add_argument("--no-antennas", action="store_true", help="leave antennas out of the sites")
    p.add_argument("--include-buses", action="store_true", help="count buses as fixed sites")


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
    parser = argparse.ArgumentParser(
        prog="msapgeo",
        description="Road time from communes to their nearest France services / MSAP.",
    )
    parser.add_argument("--version", action="version", version=f"msapgeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("access", help="nearest site for every origin, from files")
    a.add_argument("--osm", required=True, type=Path, help="OSM extract (.osm.pbf, .osm[.gz|.bz2])")
    a.add_argument("--origins", required=True, type=Path, help="CSV (lon/lat), GPKG or GeoJSON")
    a.add_argument("--sites", required=True, type=Path, help="CSV (lon/lat), GPKG or GeoJSON")
    a.add_argument("--origin-id", default=None, help="identifier column of the origins")
    a.add_argument("--site-id", default=None, help="identifier column of the sites")
    _common(a)

    d = sub.add_parser("diagnose", help="a French département through the data catalog")
    d.add_argument("dep", help="département code, e.g. 05")
    d.add_argument("--osm", type=Path, default=None, help="OSM extract covering the département")
    d.add_argument(
        "--neighbours",
        default=None,
        help="comma-separated départements whose sites count too (default: catalog's)",
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

    m = sub.add_parser("demo", help="the whole pipeline offline on the Andorra 2025 extract")
    m.add_argument("--osm", type=Path, default=None, help="another extract to run the demo on")
    _diag_options(m)
    _common(m)

    g = sub.add_parser("graph", help="build a routing graph and save it (.npz)")
    g.add_argument("--osm", required=True, type=Path)
    g.add_argument("--out", required=True, type=Path, help="target .npz file")
    g.add_argument("--network-type", choices=["drive", "drive_service"], default=None)
    g.add_argument("--quiet", action="store_true")
    return parser


def _apply_settings(args: argparse.Namespace) -> None:
    if getattr(args, "tolerance_m", None) is not None:
        settings.snap_tolerance_m = args.tolerance_m
    if getattr(args, "offnetwork_kmh", None) is not None:
        settings.offnetwork_speed_kmh = args.offnetwork_kmh
    if args.quiet:
        settings.progress = False


def _finish(
    result: AccessResult,
    out: Path,
    t0: float,
    diag: Diagnostic | None = None,
    sources: Sequence[str] = (),
) -> None:
    files = write_access(result, out)
    print(format_summary(result.summary()))
    print(f"graph: {result.graph!r}")
    if diag is not None:
        prov = datasets.provenance(sources) if sources else None
        files.update(
            {
                f"diagnostic {k}": v
                for k, v in write_diagnostic(diag, out / "diagnostic", provenance=prov).items()
            }
        )
        kf = diag.key_figures()
        th = diag.meta["thresholds_min"]
        print(
            "diagnostic: "
            + ", ".join(f"{int(kf[f'gap_{x:g}min_communes'])} gap communes > {x:g} min" for x in th)
        )
        for note in diag.notes:
            print(f"  note: {note}")
    print("written: " + ", ".join(str(p) for p in files.values()))
    print(f"done in {time.perf_counter() - t0:.1f} s")


def cmd_access(args: argparse.Namespace) -> None:
    """``msapgeo access``."""
    t0 = time.perf_counter()
    origins = read_points(args.origins, id_col=args.origin_id)
    sites = read_points(args.sites, id_col=args.site_id)
    graph = load_graph(args.osm, network_type=args.network_type, cache=not args.no_cache)
    inside = covered_by_graph(graph, origins.geometry.dropna())
    if not inside.any():
        raise InputError(
            f"{args.origins}: no origin lies within the area of {args.osm}; "
            "check the extract or the coordinates (lon/lat in WGS84)"
        )
    result = run_access(graph, origins, sites, site_id="id", meta={"command": "access"})
    _finish(result, args.out, t0)


def cmd_diagnose(args: argparse.Namespace) -> None:
    """``msapgeo diagnose``."""
    t0 = time.perf_counter()
    dep = datasets.normalise_dep(args.dep)
    neighbours = tuple(x.strip() for x in args.neighbours.split(",")) if args.neighbours else None
    origins, sites = departement_inputs(dep, neighbours=neighbours, vintage=args.fs_vintage)
    osm = datasets.fetch(datasets.osm_source(dep), path=args.osm)
    graph = load_graph(osm, network_type=args.network_type, cache=not args.no_cache)
    inside = covered_by_graph(graph, origins.geometry)
    if not inside.all():
        missing = origins.loc[~inside, ["insee_com", "nom"]]
        names = ", ".join(f"{c} {n}" for c, n in missing.itertuples(index=False))
        raise InputError(
            f"{osm}: the extract does not cover {len(missing)} of the {len(origins)} communes "
            f"of département {dep}: {names}"
        )
    mountain = load_mountain_list(args.mountain) if args.mountain else None
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
    assert diag.access is not None
    sources = [
        f"france_services_{args.fs_vintage}",
        f"communes_{dep}",
        "population_2021",
        "cog_2026_communes",
        "cog_2026_epci",
        "density_grid",
    ]
    _finish(diag.access, args.out, t0, diag, sources)


def cmd_demo(args: argparse.Namespace) -> None:
    """``msapgeo demo``: Andorra 2025, populated places to town halls and post offices."""
    t0 = time.perf_counter()
    osm, features = demo_inputs(args.osm, progress=settings.progress)
    graph = load_graph(
        osm, network_type=args.network_type, features=features, cache=not args.no_cache
    )
    origins, sites = demo_places(features)
    origins = demo_origins_with_parishes(origins, features)
    diag = run_diagnostic(
        graph,
        origins,
        sites,
        include_antennas=not args.no_antennas,
        include_buses=args.include_buses,
        thresholds=_thresholds(args.thresholds),
        meta={
            "command": "demo",
            "region": "Andorra 2025 (offline mountain test region)",
            "title": "Diagnostic — offline test region (Andorra 2025; parishes stand in for EPCI)",
        },
    )
    assert diag.access is not None
    _finish(diag.access, args.out, t0, diag, ["osm_andorra_2025"])


def cmd_graph(args: argparse.Namespace) -> None:
    """``msapgeo graph``."""
    from msapgeo.network import graph_from_osm

    g = graph_from_osm(args.osm, network_type=args.network_type)
    path = g.save(args.out)
    print(f"{g!r} written to {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``msapgeo`` command."""
    args = build_parser().parse_args(argv)
    _apply_settings(args)
    handlers = {
        "access": cmd_access,
        "diagnose": cmd_diagnose,
        "demo": cmd_demo,
        "graph": cmd_graph,
    }
    try:
        handlers[args.command](args)
    except MsapgeoError as exc:
        print(f"msapgeo: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
