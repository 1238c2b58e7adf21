"""Write the notebooks from their cell sources (kept here so diffs stay readable).

Run ``python notebooks/_build_notebooks.py`` after editing; the .ipynb files are committed
without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent


def md(text: str) -> nbf.NotebookNode:
    return nbf.v4.new_markdown_cell(text.strip())


def code(text: str, tags: list[str] | None = None) -> nbf.NotebookNode:
    cell = nbf.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


DIAGNOSTIC = [
    md("""
# Diagnostic d'accessibilité aux France services

This notebook answers the SDAASP's first question: **how long does it take, by road, to get
from each commune to its nearest France services site, and which communes are too far?**

It runs top to bottom. With the default parameters it uses the offline mountain test region
(the Andorra 2025 OpenStreetMap extract: its populated places stand in for communes, its
town halls and post offices for sites, its parishes for EPCI). Give a département code and
its OSM extract in the parameters cell and the same cells run the real diagnostic: communes
at their town halls, INSEE populations, the density grid, EPCI, and the France services of
the département and of its neighbours.
"""),
    code(
        """
# Parameters
DEP = None  # département code such as "05"; None = offline test region (Andorra 2025)
OSM_FILE = None  # the département's .osm.pbf; None = catalog (download) or the test region
THRESHOLDS = (20, 30)  # gap thresholds, minutes
MOUNTAIN_FILE = None  # official list of communes in zone de montagne, if you have it
INCLUDE_ANTENNAS = True
INCLUDE_BUSES = False  # buses are itinerant: reported apart by default
OUT = "out/01_diagnostic"
""",
        tags=["parameters"],
    ),
    code("""
from pathlib import Path

import pandas as pd

import msapgeo as mg
from msapgeo import datasets, diagnostic, indicators, pipeline, report

mg.settings.progress = True
pd.set_option("display.max_columns", 30)
"""),
    md("""
## 1. Inputs

Origins are communes (their town hall), sites are France services rows. Every row that
cannot be used is kept with its reason and shows up in the `exclusions` table at the end.
"""),
    code("""
if DEP is None:
    osm_path, features = pipeline.demo_inputs(OSM_FILE)
    origins, sites = pipeline.demo_places(features)
    origins = diagnostic.demo_origins_with_parishes(origins, features)
    density = None
    title = "Diagnostic — offline test region (Andorra 2025)"
    sources = ["osm_andorra_2025"]
else:
    origins, sites = pipeline.departement_inputs(DEP)
    osm_path = datasets.fetch(datasets.osm_source(DEP), path=OSM_FILE)
    features = None
    density = datasets.load_density_grid()
    title = f"Diagnostic France services — département {DEP}"
    sources = ["france_services_2024", f"communes_{DEP}", "population_2021",
               "cog_2026_communes", "cog_2026_epci", "density_grid"]
mountain = indicators.load_mountain_list(MOUNTAIN_FILE) if MOUNTAIN_FILE else None
print(f"{len(origins)} communes, {len(sites)} sites, extract {osm_path}")
"""),
    md("""
## 2. Road network

The OSM extract becomes a drivable directed graph with the French speed model (legal limits,
80 km/h on rural two-way roads, 50 km/h in built-up areas, tagged `maxspeed` first). It is
cached, so the second run is instant.
"""),
    code("""
graph = pipeline.load_graph(osm_path, features=features)
graph
"""),
    code("""
edges = graph.edges_gdf()
edges.groupby("speed_source")["length_m"].sum().div(1000).round(1).rename("km")
"""),
    md("""
## 3. Diagnostic

One routing run gives each commune its nearest site (and the second nearest); the indicators
are computed from it.
"""),
    code("""
diag = diagnostic.run_diagnostic(
    graph, origins, sites,
    density=density, mountain=mountain,
    include_antennas=INCLUDE_ANTENNAS, include_buses=INCLUDE_BUSES,
    thresholds=THRESHOLDS, meta={"title": title},
)
for note in diag.notes:
    print("note:", note)
pd.Series(diag.key_figures()).round(1)
"""),
    md(
        "### The council's worklist\n\n"
        "Gap communes, ranked by population × minutes beyond the threshold."
    ),
    code("""
diag.worklist.head(15)
"""),
    md("### By EPCI"),
    code("""
diag.epci[diag.epci["split"] == "all"]
"""),
    md("### Map (works offline)"),
    code("""
from msapgeo.maps import diagnostic_map

diagnostic_map(diag.communes, diag.sites, gap_threshold=THRESHOLDS[-1])
"""),
    md("## 4. Outputs: GeoPackage (QGIS), Excel, offline map, charts and report"),
    code("""
files = report.write_diagnostic(diag, Path(OUT), provenance=datasets.provenance(sources))
for name, path in files.items():
    print(f"{name:20s} {path}")
"""),
    code("""
diag.exclusions
"""),
]


def main() -> None:
    nb = nbf.v4.new_notebook()
    nb.cells = DIAGNOSTIC
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbf.write(nb, HERE / "01_diagnostic.ipynb")


if __name__ == "__main__":
    main()
