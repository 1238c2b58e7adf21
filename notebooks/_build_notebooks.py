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

Ce carnet répond à la première question du SDAASP : **combien de temps faut-il, par la
route, pour aller de chaque commune à la France services la plus proche, et quelles
communes, quels habitants, en sont trop loin ?**

Il s'exécute de haut en bas, sans connexion. Par défaut, il porte sur le **Pays du
Mont-Blanc** (Haute-Savoie) : les 14 communes de deux EPCI sur les vraies routes
OpenStreetMap de la vallée (un extrait reconstruit depuis des tuiles vectorielles : pas de
limitations de vitesse, toutes les vitesses sont des valeurs par défaut selon la classe de
route). `REGION = "andorra"` donne la région de test d'Andorre.
"""),
    code(
        """
# Paramètres
REGION = "pays-du-mont-blanc"  # ou "andorra"
PROFILE = "practical"  # "practical" (défaut), "legal", "mountain" ou "insee"
OUT = "out/01_diagnostic"
""",
        tags=["parameters"],
    ),
    code("""
import msapgeo as mg

mg.settings.progress = False
region = mg.load_region(REGION)
print(region.label)
for note in region.notes:
    print("-", note)
"""),
    md("""
## Le diagnostic

Temps de route de chaque commune (depuis sa mairie, contrôlée dans le polygone communal)
et de chaque habitant (la population INSEE répartie sur les bâtiments, en carreaux de
200 m) jusqu'à la France services la plus proche, avec les sites des départements voisins.
"""),
    code("""
diag = region.diagnostic(profile=PROFILE)
for note in diag.notes:
    print("note :", note)
cols = ["insee_com", "nom", "population", "time_min", "dist_km", "site_name"]
diag.communes[[c for c in cols if c in diag.communes.columns]].sort_values(
    "time_min", ascending=False
)
"""),
    md("""
## Tous les habitants

Le temps depuis la mairie à côté du temps moyen pondéré par la population et de son
90e centile : les communes que la méthode « mairie » avantage le plus d'abord.
"""),
    code("""
if diag.people is not None:
    display(diag.people.sort_values("difference_min", ascending=False).round(1))
"""),
    md("""
## Carte et livrables

La carte fonctionne hors ligne (fond construit à partir des routes et des communes) ; les
livrables sont écrits d'un bloc : GeoPackage (styles QGIS inclus), classeur Excel en
français, carte, rapport imprimable en A4.
"""),
    code("""
files = mg.write_diagnostic(diag, OUT)
for name, path in files.items():
    print(f"{name:16s} {path}")
mg.diagnostic_map(diag.communes, diag.sites, isochrones=diag.isochrones)
"""),
]

NEW_SITES = [
    md("""
# Où ouvrir les prochaines France services ?

Couverture maximale, p-médiane et couverture totale parmi des sites candidats (par défaut
les bureaux de poste de la région, partenaires de nombreuses France services rurales),
puis l'effet d'un nouveau site, en habitants et en minutes.
"""),
    code(
        """
# Paramètres
REGION = "pays-du-mont-blanc"
K = 2  # nombre de nouveaux sites
THRESHOLD = 20.0  # seuil de couverture, minutes
CANDIDATES = "post_offices"  # ou "townhalls"
OUT = "out/02_nouveaux_sites"
""",
        tags=["parameters"],
    ),
    code("""
from pathlib import Path

import msapgeo as mg

mg.settings.progress = False
region = mg.load_region(REGION)
plans = region.optimise(k=K, threshold_min=THRESHOLD, candidates=CANDIDATES)
Path(OUT).mkdir(parents=True, exist_ok=True)
mg.write_csv(plans.table, Path(OUT) / "optimise.csv", fmt="machine")
plans.table[["model", "k", "threshold_min", "objective", "objective_unit", "chosen_names"]]
"""),
    md("""
## L'effet du meilleur site

Chaque solution est livrée avec son avant / après (une `Comparison`, comme
`region.evaluate`). Ici le site choisi par la couverture maximale pour `K = 1` : qui
gagne du temps, et combien.
"""),
    code("""
ev = plans.comparison("maximal_covering", k=1)
print(ev.plain_summary())
mg.save_offline(ev.map(title="Nouveau site : temps avant et après"), Path(OUT) / "map.html")
ev.summary
"""),
]

WINTER = [
    md("""
# Scénario d'hiver : un col fermé

Qui perd l'accès, ou passe au-delà des seuils, quand une route de montagne ferme ? Par
défaut : la D1506 fermée au col des Montets ; Vallorcine ne dépend plus alors que de la
Suisse, que l'extrait ne contient pas. `WINTER_DATE` lit plutôt les fermetures
saisonnières étiquetées dans OpenStreetMap.
"""),
    code(
        """
# Paramètres
REGION = "pays-du-mont-blanc"
WINTER_DATE = None  # "2027-01-15" : fermetures saisonnières des étiquettes OSM
OUT = "out/03_scenario_hiver"
""",
        tags=["parameters"],
    ),
    code("""
from pathlib import Path

import msapgeo as mg

mg.settings.progress = False
region = mg.load_region(REGION)
before, after, communes, summary = region.scenario(winter=WINTER_DATE)
Path(OUT).mkdir(parents=True, exist_ok=True)
mg.write_csv(communes, Path(OUT) / "scenario_communes.csv", fmt="machine")
summary
"""),
    code("""
g = region.graph()
mg.save_offline(
    mg.before_after_map(before, after, region.fixed_sites, region.fixed_sites,
                        title="Hiver : avant et après", edges=g.edges_gdf()),
    Path(OUT) / "map.html",
)
communes
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
