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


REGION = """
import geopandas as gpd
import pandas as pd

import msapgeo as mg
from msapgeo import datasets, diagnostic, pipeline

mg.settings.progress = True
if DEP is None:
    osm_path, features = pipeline.demo_inputs(OSM_FILE)
    places, amenities = pipeline.demo_places(features)
    origins = diagnostic.demo_origins_with_parishes(places, features)
    sites = amenities[amenities["amenity"] == "townhall"].reset_index(drop=True)
    weight = "count"  # most places of the test region have no population tag
else:
    origins, sites = pipeline.departement_inputs(DEP)
    sites = diagnostic.select_sites(sites)
    sites = sites[sites["exclusion"].isna()].reset_index(drop=True)  # buses apart
    osm_path = datasets.fetch(datasets.osm_source(DEP), path=OSM_FILE)
    features = mg.read_features(osm_path)
    weight = "population"
graph = pipeline.load_graph(osm_path, features=features)
post = features.amenities[features.amenities["amenity"] == "post_office"].copy()
post.insert(0, "site_id", "post_office/" + post["osm_type"] + "/" + post["osm_id"].astype(str))
print(graph, f"{len(origins)} communes, {len(sites)} sites, {len(post)} post offices")
"""

NEW_SITES = [
    md("""
# Nouveaux sites France services: evaluate a candidate, then choose where the next ones go

A departmental council asks: *if we open a France services in this village, or in this post
office, who gains, and how much? Where should the next two go?*

With the default parameters the notebook runs on the offline test region (Andorra 2025:
town halls stand in for the existing sites, populated places for communes). Give a
département code and its extract to run it on real inputs.
"""),
    code(
        """
# Parameters
DEP = None  # département code such as "05"; None = offline test region
OSM_FILE = None  # the département's .osm.pbf
CANDIDATE_COMMUNE = None  # INSEE code (or place id) of the village; None = the worst-off
K = 2  # new sites to choose
THRESHOLD = 10  # minutes, for the covering models (30 is the State's promise)
OUT = "out/02_nouveaux_sites"
""",
        tags=["parameters"],
    ),
    code(REGION),
    md("## 1. Evaluate one candidate: a Maison in one village"),
    code("""
from msapgeo import planning, routing

now = routing.nearest_site(graph, origins, sites, site_id="site_id")
if CANDIDATE_COMMUNE is None:
    worst = now.dropna(subset=["time_min"]).sort_values("time_min", ascending=False)
    CANDIDATE_COMMUNE = str(worst.iloc[0]["insee_com"])
add = planning.sites_from_communes(origins, [CANDIDATE_COMMUNE])
ev = planning.evaluate(graph, origins, sites, add=add)
print("candidate:", add["name"].iloc[0])
ev.summary
"""),
    code("""
gains = ev.communes[ev.communes["gain_min"] > 0]
gains.sort_values("gain_min", ascending=False)[
    ["insee_com", "nom", "time_before_min", "time_after_min", "gain_min"]
].head(15)
"""),
    md("""
## 2. Where should the next sites go?

One origin × candidate matrix is routed once (candidates: the communes' town halls and the
post offices, since La Poste hosts many Maisons), then three models read it:
maximal covering, p-median and set covering. Existing sites are always kept.
"""),
    code("""
townhalls = planning.sites_from_communes(origins, origins["insee_com"].astype(str).tolist())
cands = pd.concat([townhalls, post[["site_id", "name", "geometry"]]], ignore_index=True)
cands = mg.snap(graph, gpd.GeoDataFrame(cands, crs="EPSG:4326"))
print(f"{cands['exclusion'].notna().sum()} candidates off the network left out")
cands = cands[cands["exclusion"].isna()].reset_index(drop=True)
m = planning.candidate_matrix(graph, origins, sites, cands, weight=weight)
results = planning.optimise(m, range(1, K + 1), [THRESHOLD])
results[["model", "k", "threshold_min", "objective", "bound", "gap_pct", "method", "chosen"]]
"""),
    code("""
best = planning.maximal_covering(m, K, THRESHOLD)
chosen = cands[cands["site_id"].isin(best.chosen)]
after = planning.evaluate(
    graph, origins, sites, add=chosen.drop(columns=["node_osmid", "snap_m", "snap_time_s"])
)
after.summary
"""),
    md("### Before / after map (works offline)"),
    code("""
from pathlib import Path

from msapgeo.maps import before_after_map, save_offline

before_g = after.communes.assign(time_min=after.communes["time_before_min"])
after_g = after.communes.assign(time_min=after.communes["time_after_min"])
sites_after = gpd.GeoDataFrame(pd.concat([sites, after.added], ignore_index=True), crs="EPSG:4326")
fmap = before_after_map(before_g, after_g, sites, sites_after)
Path(OUT).mkdir(parents=True, exist_ok=True)
save_offline(fmap, Path(OUT) / "map.html")
results.to_csv(Path(OUT) / "optimise.csv", index=False)
fmap
"""),
]

WINTER = [
    md("""
# Scénario hiver: what a closed pass changes

In the Alps, passes close in winter. This notebook closes roads (from the OSM tags for a
given date, and/or by name) and shows which communes lose access to their Maison or cross
the 20 and 30 minute thresholds, and how many people that is.

With the default parameters it runs on the offline test region (Andorra 2025), closing the
Port d'Envalira road and its tunnel: Grau Roig, on the Andorran side, loses its nearest
town hall (Pas de la Casa, across the pass), which keeps its own.
"""),
    code(
        """
# Parameters
DEP = None  # département code such as "05"; None = offline test region
OSM_FILE = None
DATE = "2027-01-15"  # winter closures read from the OSM tags for this day
CLOSE_NAMES = ["Port d'Envalira", "Túnel d'Envalira"]  # extra closures by road name
OUT = "out/03_scenario_hiver"
""",
        tags=["parameters"],
    ),
    code(REGION),
    md("## 1. Closures"),
    code("""
from msapgeo import scenarios

winter = scenarios.winter_closures(graph, DATE)
print(f"{len(winter.closed)} ways closed by their tags on {DATE}; "
      f"{len(winter.not_evaluated)} conditional tags not evaluated (not dates)")
g = winter.graph
closed = [winter.closed]
if CLOSE_NAMES:
    by_name = scenarios.close_roads(g, names=CLOSE_NAMES, reason="closed pass")
    g = by_name.graph
    closed.append(by_name.closed)
scenario = scenarios.Scenario(g, pd.concat(closed, ignore_index=True), winter.not_evaluated)
scenario.closed
"""),
    md("## 2. Who is affected"),
    code("""
before, after, communes, summary = scenarios.compare(
    graph, scenario, origins, sites, id_col="insee_com"
)
summary
"""),
    code("""
communes[["insee_com", "name", "site_before", "site_after", "time_before_min",
          "time_after_min", "delta_min", "loses_access"]]
"""),
    md("### Before / after map (works offline)"),
    code("""
from pathlib import Path

from msapgeo.maps import before_after_map, save_offline

Path(OUT).mkdir(parents=True, exist_ok=True)
communes.to_csv(Path(OUT) / "scenario_communes.csv", index=False)
scenario.closed.to_csv(Path(OUT) / "closed_ways.csv", index=False)
fmap = before_after_map(before, after, sites, sites, title="Time to the nearest site")
save_offline(fmap, Path(OUT) / "map.html")
fmap
"""),
]


def main() -> None:
    for name, cells in (
        ("01_diagnostic.ipynb", DIAGNOSTIC),
        ("02_nouveaux_sites.ipynb", NEW_SITES),
        ("03_scenario_hiver.ipynb", WINTER),
    ):
        nb = nbf.v4.new_notebook()
        nb.cells = cells
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbf.write(nb, HERE / name)


if __name__ == "__main__":
    main()
