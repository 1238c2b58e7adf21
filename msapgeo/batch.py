"""Many départements (or many scenarios) at once, on Dask.

Each département is one task: it loads its inputs through the data layer, loads or builds
its graph (from the disk cache, which every worker shares: a graph is never copied from
task to task) and runs the diagnostic; the results are gathered into one national table.
The tasks run on ``dask.distributed``: an embedded ``LocalCluster`` by default (no set-up),
or an existing cluster given by its scheduler address. A task that fails is retried
(``retries``), then reported with its error; the others are not lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from msapgeo import settings


@dataclass(frozen=True)
class DepartementTask:
    """One département to diagnose.

    Attributes
    ----------
    dep
        INSEE code.
    osm
        Its extract (``None``: the catalog's).
    neighbour_osm
        Its neighbours' extracts, assembled with it (:func:`msapgeo.pipeline.
        departement_extract`); empty: the département's extract alone.
    profile
        Speed profile.
    """

    dep: str
    osm: str | None = None
    neighbour_osm: tuple[str, ...] = ()
    profile: str = "practical"


def run_departement(task: DepartementTask, mirror: str | None = None) -> dict[str, Any]:
    """Diagnose one département (runs on a worker); returns its tables.

    Returns
    -------
    dict
        ``dep``, ``communes`` (GeoDataFrame), ``summary`` (one row), ``notes``.
    """
    import os

    if mirror:
        os.environ.setdefault("MSAPGEO_MIRROR", mirror)
    from msapgeo import datasets
    from msapgeo.diagnostic import run_diagnostic
    from msapgeo.pipeline import departement_extract, departement_inputs, load_graph

    settings.progress = False
    dep = datasets.normalise_dep(task.dep)
    origins, sites = departement_inputs(dep)
    if task.neighbour_osm:
        osm, notes = departement_extract(dep, task.osm, list(task.neighbour_osm))
    else:
        osm = datasets.fetch(datasets.osm_source(dep), path=task.osm)
        notes = []
    graph = load_graph(osm, profile=task.profile)
    diag = run_diagnostic(
        graph,
        origins,
        sites,
        density=datasets.load_density_grid(),
        meta={"departement": dep},
    )
    summary = diag.departement[diag.departement["split"] == "all"].copy()
    summary.insert(0, "insee_dep", dep)
    communes = diag.communes.copy()
    communes.insert(0, "insee_dep_run", dep)
    return {"dep": dep, "communes": communes, "summary": summary, "notes": [*notes, *diag.notes]}


@dataclass
class BatchResult:
    """The gathered results of a batch.

    Attributes
    ----------
    communes
        Every commune of every département that ran.
    summary
        One row per département that ran.
    failures
        ``insee_dep`` and ``error`` of the tasks that failed after their retries.
    notes
        Notes per département.
    """

    communes: gpd.GeoDataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    notes: dict[str, list[str]] = field(default_factory=dict)


def run_batch(
    tasks: Sequence[DepartementTask],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    retries: int = 1,
) -> BatchResult:
    """Run départements as Dask tasks and gather their results.

    Parameters
    ----------
    tasks
        One :class:`DepartementTask` per département.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); ``None`` starts an
        embedded ``LocalCluster`` of ``n_workers`` single-threaded worker processes.
    n_workers
        Workers of the embedded cluster.
    retries
        How many times a failed task is tried again before it is reported.

    Returns
    -------
    BatchResult
    """
    import os

    from dask.distributed import Client, LocalCluster, as_completed

    mirror = os.environ.get("MSAPGEO_MIRROR")
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = {
            client.submit(
                run_departement, t, mirror, key=f"msapgeo-diag-{t.dep}", retries=retries, pure=False
            ): t
            for t in tasks
        }
        results, failures = [], []
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                results.append(fut.result())
            except Exception as exc:  # reported, the other départements go on
                failures.append({"insee_dep": task.dep, "error": " ".join(str(exc).split())})
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    results.sort(key=lambda r: r["dep"])
    communes = (
        gpd.GeoDataFrame(pd.concat([r["communes"] for r in results], ignore_index=True))
        if results
        else gpd.GeoDataFrame()
    )
    summary = (
        pd.concat([r["summary"] for r in results], ignore_index=True) if results else pd.DataFrame()
    )
    return BatchResult(
        communes=communes,
        summary=summary,
        failures=pd.DataFrame(failures, columns=["insee_dep", "error"]),
        notes={r["dep"]: r["notes"] for r in results},
    )


def write_batch(result: BatchResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the national GeoPackage (communes, per-département summary) and workbook."""
    from msapgeo.fileio import OutputFolder
    from msapgeo.report import _excel, write_gpkg

    run = {"departements": sorted(result.notes), "failures": result.failures.to_dict("records")}
    with OutputFolder(out_dir, run) as folder:
        layers: dict[str, gpd.GeoDataFrame] = {}
        if len(result.communes):
            layers["communes"] = result.communes
        gpkg = write_gpkg(layers, folder.path / "national.gpkg") if layers else None
        xlsx = folder.path / "national.xlsx"
        _excel(
            xlsx,
            {
                "summary": result.summary,
                "communes": pd.DataFrame(result.communes.drop(columns="geometry", errors="ignore")),
                "failures": result.failures,
            },
        )
    out = {"xlsx": folder.final(xlsx)}
    if gpkg is not None:
        out["gpkg"] = folder.final(gpkg)
    return out
