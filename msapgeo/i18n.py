"""Output language: French by default, English as an option.

:data:`msapgeo.settings.language` (``"fr"`` or ``"en"``, ``--lang`` on the command line)
chooses the language of every label msapgeo writes: map titles, legends, layer names and
popups, workbook sheets and headers, the report, exclusion reasons, change summaries,
model names; and the number format (:func:`msapgeo.fr.fr_number`: ``24 678,5`` or
``24,678.5``). The French text is the key: :func:`t` returns it as it is in French and
its entry of :data:`EN` in English (a test checks that every text passed to :func:`t` in
the package has one). Texts that come from the data (names, addresses, a region's
description) are never translated.
"""

from __future__ import annotations

from typing import Any

from msapgeo import settings

#: English of every French output text, keyed by the French text (with ``{}`` fields).
EN: dict[str, str] = {
    # maps
    "{a} à {b} min": "{a} to {b} min",
    "Type": "Type",
    "Adresse": "Address",
    "Ouverture": "Opening",
    "h par semaine": "h per week",
    " (2e site)": " (2nd site)",
    "Code commune": "Commune code",
    "Temps": "Time",
    "Distance": "Distance",
    "Site le plus proche": "Nearest site",
    "2e site": "2nd site",
    "Population": "Population",
    "hab.": "inhab.",
    "Exclu": "Excluded",
    "Format": "Format",
    "Rôle": "Role",
    "fermé": "closed",
    "Ouverture hebdomadaire": "Weekly opening",
    "Limites communales": "Commune boundaries",
    "limite communale": "commune boundary",
    "Routes principales": "Main roads",
    "route principale": "main road",
    "Fond OpenStreetMap (en ligne)": "OpenStreetMap background (online)",
    "Rechercher une commune, un site…": "Search a commune, a site…",
    "Aucun résultat": "No result",
    "© contributeurs OpenStreetMap (ODbL), ANCT, INSEE": (
        "© OpenStreetMap contributors (ODbL), ANCT, INSEE"
    ),
    "{n} points regroupés en {c} carrés de {side} km (médiane des temps)": (
        "{n} points grouped in {c} squares of {side} km (median time)"
    ),
    "{n} points : médiane {t}": "{n} points: median {t}",
    "Temps médian": "Median time",
    "Temps maximal": "Maximum time",
    "Temps de route jusqu'au site le plus proche": "Driving time to the nearest site",
    "Sites": "Sites",
    "site": "site",
    "site exclu": "excluded site",
    "Temps de route": "Driving time",
    "Relief (MNT)": "Relief (DEM)",
    "relief ombré (MNT)": "shaded relief (DEM)",
    "Temps d'accès à la France services la plus proche": (
        "Access time to the nearest France services"
    ),
    "Isochrone : {label}": "Isochrone: {label}",
    "Isochrones (10, 20, 30 min)": "Isochrones (10, 20, 30 min)",
    "France services": "France services",
    "pas de temps (exclue, non comptée)": "no time (excluded, not counted)",
    "commune à plus de {t} min": "commune beyond {t} min",
    "site exclu (voir rapport)": "excluded site (see report)",
    "Temps de route avant et après": "Driving time before and after",
    "Routes fermées": "Closed roads",
    "route fermée": "closed road",
    "Avant : origines": "Before: origins",
    "Après : origines": "After: origins",
    "avant — ": "before — ",
    "après — ": "after — ",
    "Sites maintenus": "Kept sites",
    "Sites ajoutés": "Added sites",
    "Sites fermés": "Closed sites",
    "site maintenu": "kept site",
    "site ajouté": "added site",
    "site fermé": "closed site",
    "Temps de route (couche « après » affichée)": "Driving time (the “after” layer shown)",
    "Origines (classe de temps)": "Origins (time class)",
    "Communes (classe de temps)": "Communes (time class)",
    "pas de temps (exclu)": "no time (excluded)",
    "pas de temps": "no time",
    "Communes": "Communes",
    "Population (points)": "Population (points)",
    "Fermeture : temps avant et après": "Closure: time before and after",
    # change summaries and plans
    "nouvellement à moins de": "newly within",
    "ne sont plus à moins de": "no longer within",
    "temps moyen pondéré par la population, avant": "population-weighted mean time before",
    "temps moyen pondéré par la population, après": "population-weighted mean time after",
    "évolution du temps moyen pondéré (après − avant)": (
        "change in population-weighted mean time (after − before)"
    ),
    "habitants qui gagnent du temps : leur gain moyen": (
        "inhabitants who gain time: their mean gain"
    ),
    "habitants qui perdent du temps : leur perte moyenne": (
        "inhabitants who lose time: their mean loss"
    ),
    "origines qui changent de site le plus proche": "origins changing nearest site",
    "origines qui perdent l'accès à tout site": "origins losing access to every site",
    "origines qui retrouvent l'accès à un site": "origins gaining access to a site",
    "{n} habitants {verb} en moyenne {m} min": "{n} inhabitants {verb} {m} min on average",
    "gagnent": "gain",
    "perdent": "lose",
    "{k} origine(s), {n} habitants, perdent tout accès": (
        "{k} origin(s), {n} inhabitants, lose all access"
    ),
    "Aucun habitant ne gagne ni ne perd de temps.": "No inhabitant gains or loses time.",
    "habitants couverts (sites existants compris)": "inhabitants covered (existing sites included)",
    "temps total pondéré par la population (habitants × minutes)": (
        "population-weighted total time (inhabitant-minutes)"
    ),
    "sites nécessaires au total (existants compris)": "sites needed in total (existing included)",
    "couverture maximale": "maximal covering",
    "p-médiane (temps moyen minimal)": "p-median (least mean time)",
    "couverture totale (nombre minimal de sites)": "set covering (fewest sites)",
    # exclusion reasons
    "pas de coordonnées": "no coordinates",
    "trop loin du réseau routier": "too far from the road network",
    "coordonnées hors de l'emprise du système métrique": "coordinates outside the metric CRS",
    "le graphe n'a pas de réseau routier fortement connexe": (
        "the graph has no strongly connected road network"
    ),
    "aucun site accessible par la route depuis ce point": (
        "no site reachable by road from this origin"
    ),
    "au-delà du réseau routier de l'extrait": "beyond the road network of the extract",
    "{d} km du territoire à vol d'oiseau) : non calculé": (
        "{d} km from the territory, straight line): not routed"
    ),
    "service itinérant (bus) : listé à part, non compté comme site fixe": (
        "itinerant service (bus): reported apart, not counted as a fixed site"
    ),
    "antenne laissée de côté par option (include_antennas=False)": (
        "antenna left out by option (include_antennas=False)"
    ),
    "horaires d'ouverture": "opening hours",
    # diagnostic notes
    "profil de vitesse « {p} » : {what}": "speed profile “{p}”: {what}",
    "vitesses pratiques par classe de route et contexte, coûts des carrefours et des virages": (
        "practical speeds by road class and context, junction and turn costs"
    ),
    "limites légales seules (majorant des vitesses), sans coût aux carrefours": (
        "legal limits only (an upper bound of speeds), no junction cost"
    ),
    "vitesses pratiques, carrefours et virages, courbure et pente": (
        "practical speeds, junctions and turns, curvature and slope"
    ),
    "modèle Métric de l'INSEE (heures creuses)": "INSEE's Métric model (off-peak)",
    "le réseau ne porte aucune limitation de vitesse (maxspeed) : toutes les vitesses sont des "
    "valeurs par défaut selon la classe de route": (
        "the network carries no speed limit (maxspeed): every speed is a default of the road class"
    ),
    "{s} % de la longueur du réseau porte une limitation de vitesse (maxspeed) ; le reste "
    "suit les valeurs par défaut de sa classe de route": (
        "{s} % of the network's length carries a speed limit (maxspeed); the rest follows "
        "the defaults of its road class"
    ),
    "sur les trajets calculés (vers le site le plus proche), {s} % des kilomètres parcourus "
    "le sont à une vitesse par défaut de la classe de route, et non à une limitation de "
    "vitesse étiquetée": (
        "on the routed trips (to the nearest site), {s} % of the kilometres driven are at a "
        "default speed of the road class, not at a tagged speed limit"
    ),
    "tous les habitants : {n} points de population ({how}) ; {k} points ({p} habitants) sont "
    "trop loin d'une route et ne sont pas calculés": (
        "every inhabitant: {n} population points ({how}); {k} points ({p} inhabitants) are too "
        "far from a road and are not routed"
    ),
    "{n} communes par {m}": "{n} communes by {m}",
    "buildings": "buildings",
    "places": "places",
    "townhall": "town hall",
    "{k} des {n} communes n'ont pas de population connue : elles restent dans les tableaux "
    "et les cartes mais hors de tout chiffre de population": (
        "{k} of the {n} communes have no known population: they stay in the tables and maps "
        "but out of every population figure"
    ),
    "pas de grille de densité fournie : la classe de densité est « unknown » pour chaque "
    "commune": "no density grid given: the density class is “unknown” for every commune",
    "{n} communes absentes de la grille de densité (« unknown »)": (
        "{n} communes missing from the density grid (“unknown”)"
    ),
    "zone de montagne estimée par le MNT selon les seuils de la loi Montagne (700 m, pentes "
    "de 20 %, ou 500 m et 15 %) : une estimation, pas la liste officielle": (
        "mountain zone estimated from the DEM with the thresholds of the loi Montagne (700 m, "
        "20 % slopes, or 500 m and 15 %): an estimate, not the official list"
    ),
    "pas de classement en zone de montagne fourni : l'indicateur montagne est « unknown », "
    "jamais deviné": (
        "no mountain-zone classification given: the mountain flag is “unknown”, never guessed"
    ),
    "{n} services itinérants (bus) listés à part, non calculés comme sites fixes": (
        "{n} itinerant services (buses) listed apart, not routed as fixed sites"
    ),
    "aucun site ne publie ses horaires : le 2SFCA compte chaque site pour une offre de 1": (
        "no site publishes its hours: the 2SFCA counts each site as a supply of 1"
    ),
    # report
    "Accessibilité 2SFCA gaussienne (Dai 2010) : offre = heures d'ouverture hebdomadaires, "
    "demande = population, zone de 30 min ; heures par semaine pour 1 000 habitants.": (
        "Gaussian 2SFCA accessibility (Dai 2010): supply = weekly opening hours, demand = "
        "population, 30-minute catchment; hours per week per 1,000 inhabitants."
    ),
    "Aucune commune au-delà de {t} minutes.": "No commune beyond {t} minutes.",
    "Aucune commune exclue.": "No commune excluded.",
    "Aucune.": "None.",
    "Carte": "Map",
    "Chiffres clés": "Key figures",
    "Communes exclues du calcul (jamais comptées comme non desservies)": (
        "Communes excluded from the computation (never counted as unserved)"
    ),
    "Communes prioritaires : au-delà de {t} min, par population × minutes": (
        "Priority communes: beyond {t} min, by population × minutes"
    ),
    "EPCI": "EPCI",
    "Exclusions et lignes signalées": "Exclusions and flagged rows",
    "Graphiques": "Charts",
    "L'État s'est engagé à ce que chacun dispose d'une France services à moins de 30 minutes. "
    "Sur ce territoire, {s} % de la population (communes calculées) y est ; ": (
        "The State has committed to a France services within 30 minutes of everyone. In this "
        "territory, {s} % of the population (routed communes) is; "
    ),
    "La population INSEE de chaque commune est répartie sur ses bâtiments (carreaux de 200 m) "
    "et chaque point est calculé comme une origine ; le temps depuis la mairie est donné à "
    "côté. Les communes que la méthode « mairie » avantage le plus viennent en premier.": (
        "Each commune's INSEE population is spread over its buildings (200 m squares) and "
        "each point is routed as an origin; the time from the town hall is given beside it. "
        "The communes the town-hall method flatters most come first."
    ),
    "Méthode": "Method",
    "Origines : la mairie de chaque commune (contrôlée dans le polygone communal) ; sites "
    "rattachés au sommet routier le plus proche ; le trajet hors réseau compte à {v} km/h ; "
    "au-delà de {d} m d'une route, le point est exclu et listé.": (
        "Origins: each commune's town hall (checked against the commune polygon); sites "
        "attached to the nearest road vertex; the off-network leg counts at {v} km/h; beyond "
        "{d} m from a road, the point is excluded and listed."
    ),
    "Part de la population selon le temps d'accès": "Share of the population by access time",
    "Population par temps de route jusqu'au site le plus proche": (
        "Population by driving time to the nearest site"
    ),
    "Rural : niveaux 5 à 7 de la grille de densité INSEE ; hors aire d'attraction des villes "
    "(CATEAAV 30) donné à côté. Montagne : source indiquée dans chaque ligne.": (
        "Rural: levels 5 to 7 of the INSEE density grid; outside any aire d'attraction des "
        "villes (CATEAAV 30) given beside it. Mountain: source stated in every row."
    ),
    "Réseau routier : OpenStreetMap, voies carrossables (filtre drive d'osmnx). Vitesses : la "
    "limitation étiquetée (maxspeed) d'abord ; sinon la limite légale (code de la route "
    "R413-2, décret 2018-487 : 80 km/h hors agglomération, 50 km/h en agglomération) "
    "plafonnée, dans les profils practical et mountain, par la vitesse pratique de la classe "
    "de route et de son contexte (vitesses par défaut de Valhalla, cohérentes avec les "
    "vitesses observées par l'ONISR) ; coûts des carrefours et des virages sur un graphe "
    "étendu aux mouvements tournants (feux, stops, cédez-le-passage, priorité à droite, pas "
    "de demi-tour aux séparations de chaussées, interdictions de tourner, voies de desserte "
    "aux extrémités du trajet seulement). Agglomérations : étiquettes des voies, zones "
    "commerciales, disques autour des villages, bourgs et villes, et densité du réseau de "
    "rues.": (
        "Road network: OpenStreetMap, drivable ways (osmnx's drive filter). Speeds: the tagged "
        "limit (maxspeed) first; else the legal limit (code de la route R413-2, décret "
        "2018-487: 80 km/h outside built-up areas, 50 km/h inside) capped, in the practical "
        "and mountain profiles, by the practical speed of the road class and its context "
        "(Valhalla's default speeds, consistent with the speeds ONISR observes); junction "
        "and turn costs on a turn-expanded graph (signals, stops, give-ways, priority to the "
        "right, no U-turn at dual-carriageway splits, turn restrictions, access roads only at "
        "the ends of a trip). Built-up areas: the ways' tags, commercial areas, discs around "
        "villages, towns and cities, and street density."
    ),
    "Sources : © contributeurs OpenStreetMap (ODbL), ANCT, INSEE — msapgeo, {d}": (
        "Sources: © OpenStreetMap contributors (ODbL), ANCT, INSEE — msapgeo, {d}"
    ),
    "Sources et millésimes": "Sources and vintages",
    "Temps : itinéraire le plus rapide vers le site fixe le plus proche (un Dijkstra "
    "multi-sources sur le graphe inversé) ; les sites des départements voisins comptent ; les "
    "bus France services sont listés à part.": (
        "Time: fastest route to the nearest fixed site (one multi-source Dijkstra on the "
        "reversed graph); the neighbouring départements' sites count; France services buses "
        "are listed apart."
    ),
    "Temps d'accès": "Access time",
    "Temps d'accès et engagement des 30 minutes": "Access time and the 30-minute promise",
    "Temps de route de chaque commune à la France services la plus proche. Profil de vitesse "
    "{p} ; réseau {f} {ts}.": (
        "Driving time from every commune to the nearest France services. Speed profile {p}; "
        "network {f} {ts}."
    ),
    "Tous les habitants : temps pondérés par la population": (
        "Every inhabitant: population-weighted times"
    ),
    "aucun site": "no site",
    "aucune": "none",
    "aucune commune n'est à 30 minutes ou plus.": "no commune is 30 minutes away or more.",
    "carte des temps d'accès": "access time map",
    "communes": "communes",
    "communes au-delà de {x} min": "communes beyond {x} min",
    "communes exclues du calcul": "communes excluded from the computation",
    "exclues du calcul (voir motifs)": "excluded from the computation (see reasons)",
    "msapgeo — données OpenStreetMap © contributeurs OpenStreetMap (ODbL).": (
        "msapgeo — OpenStreetMap data © OpenStreetMap contributors (ODbL)."
    ),
    "part cumulée de la population (%)": "cumulative share of the population (%)",
    "population (habitants)": "population (inhabitants)",
    "population prise en compte": "population counted",
    "temps de route jusqu'au site le plus proche (min)": "driving time to the nearest site (min)",
    "temps moyen pondéré": "population-weighted mean time",
    "{k} commune(s), {n} habitants, sont à 30 minutes ou plus.": (
        "{k} commune(s), {n} inhabitants, are 30 minutes away or more."
    ),
    "À lire d'abord": "Read first",
    "À moins de T minutes : temps ≤ T ; commune au-delà de T : temps > T ou aucun site "
    "accessible ; une commune exclue du calcul n'est jamais comptée au-delà.": (
        "Within T minutes: time ≤ T; commune beyond T: time > T or no site reachable; a "
        "commune excluded from the computation is never counted beyond."
    ),
    "à moins de {x} min": "within {x} min",
    "moins de 10 min": "under 10 min",
    "10 à 20 min": "10 to 20 min",
    "20 à 30 min": "20 to 30 min",
    "30 min et plus": "30 min and more",
    "non calculé": "not routed",
    "classe": "class",
    "Mairie de ": "Town hall of ",
    "Nouveaux sites ({kind}) : temps avant et après": "New sites ({kind}): time before and after",
    "Hiver : ": "Winter: ",
    "Nouveau site : temps avant et après": "New site: time before and after",
    "Nouveaux sites (couverture maximale) : temps avant et après": (
        "New sites (maximal covering): time before and after"
    ),
    # regions
    "Réseau routier : données OpenStreetMap réelles de la vallée de Chamonix / Mont-Blanc, "
    "reconstruites depuis des tuiles vectorielles OpenMapTiles (2022) : aucune limitation de "
    "vitesse (no maxspeed), chaque vitesse est une valeur par défaut selon la classe de route "
    "; identifiants synthétiques, giratoires non étiquetés.": (
        "Road network: real OpenStreetMap data of the Chamonix / Mont-Blanc valley, rebuilt "
        "from OpenMapTiles vector tiles (2022): no speed limit (no maxspeed), every speed is a "
        "default of the road class; synthetic ids, untagged roundabouts."
    ),
    "{n} point(s) de mairie hors de leur commune remplacé(s) : ": (
        "{n} town-hall point(s) outside their commune replaced: "
    ),
    "Chaque point de mairie est dans sa commune.": "Every town-hall point lies in its commune.",
    "Montagne : ": "Mountain: ",
    "France services de la liste 2024 en Haute-Savoie et dans les départements voisins à "
    "moins de {km} km ; celles au-delà des routes de l'extrait sont listées avec leur distance "
    "à vol d'oiseau et ne sont pas calculées (l'extrait ne couvre que les deux EPCI).": (
        "France services of the 2024 list in Haute-Savoie and the neighbouring départements "
        "within {km} km; those beyond the extract's roads are listed with their straight-line "
        "distance and not routed (the extract covers the two EPCI only)."
    ),
    "Pays du Mont-Blanc (74) : CC de la Vallée de Chamonix-Mont-Blanc et CC Pays du "
    "Mont-Blanc, routes réelles (extrait OpenStreetMap de Chamonix)": (
        "Pays du Mont-Blanc (74): CC de la Vallée de Chamonix-Mont-Blanc and CC Pays du "
        "Mont-Blanc, real roads (Chamonix OpenStreetMap extract)"
    ),
    "{f} (lieux habités vers mairies et bureaux de poste)": (
        "{f} (populated places to town halls and post offices)"
    ),
    "région de test hors ligne (Andorre 2025 ; les paroisses tiennent lieu d’EPCI)": (
        "offline test region (Andorra 2025; parishes stand in for EPCI)"
    ),
    " ; les mairies tiennent lieu de France services": "; town halls stand in for France services",
    "part de la population (%)": "share of the population (%)",
}


def t(text: str, **fields: Any) -> str:
    """``text`` in the output language (:data:`msapgeo.settings.language`), its ``{}``
    fields filled with ``fields``."""
    out = EN.get(text, text) if settings.language == "en" else text
    return out.format(**fields) if fields else out


def english() -> bool:
    """Whether the outputs are in English."""
    return settings.language == "en"
