"""SDAASP indicators built on routing results (this module never routes).

Per commune: time and distance to the nearest site, its name and type, population,
density level, mountain flag, gap flags at thresholds, and a capacity-aware
accessibility score (Gaussian two-step floating catchment area, Dai 2010).

Per EPCI and for the département: share of population within each threshold,
population-weighted mean and median time, number and population of gap communes,
each split by density class and by mountain flag.

Conventions
-----------
* A commune is *within* T minutes when ``time_min <= T`` (a commune exactly at the
  threshold is within); it is a *gap* commune at T when ``time_min > T`` or when no
  site is reachable by road. A commune *excluded* from the routing (no coordinates, too
  far from any road) is never a gap: it has no time, is flagged ``excluded`` and listed
  apart with its reason.
* Population figures use communes with a known population only; how many communes
  were left out is reported (``communes_population_unknown``).
* Rural = INSEE density levels 5, 6, 7 (bourgs ruraux, rural à habitat dispersé, très
  dispersé) by default, configurable. Without a density table the class is ``unknown``.
* Mountain flag: ``yes`` / ``no`` from an official list of communes in zone de montagne
  (or any table of INSEE codes), ``unknown`` when none is given; never guessed.

Two-step floating catchment (2SFCA)
-----------------------------------
Supply ``S_j`` = weekly opening hours of site *j* (1 per site where no site publishes
hours), demand ``P_i`` = population, decay ``w(t) = (exp(-½(t/d₀)²) − exp(-½)) /
(1 − exp(-½))`` for ``t ≤ d₀`` (minutes), else 0, with ``d₀`` = 30 min.
``R_j = S_j / Σ_i P_i w(t_ij)``, ``A_i = Σ_j R_j w(t_ij)``, reported as opening hours
per week per 1,000 inhabitants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from msapgeo.errors import InputError
from msapgeo.i18n import t as t_
from msapgeo.routing import is_unreachable

DENSITY_LABELS: dict[int, str] = {
    1: "Grands centres urbains",
    2: "Centres urbains intermédiaires",
    3: "Petites villes",
    4: "Ceintures urbaines",
    5: "Bourgs ruraux",
    6: "Rural à habitat dispersé",
    7: "Rural à habitat très dispersé",
}
RURAL_LEVELS: tuple[int, ...] = (5, 6, 7)
SHARE_THRESHOLDS: tuple[float, ...] = (10.0, 20.0, 30.0, 45.0)
GAP_THRESHOLDS: tuple[float, ...] = (20.0, 30.0)
FSCA_D0_MIN = 30.0


# --------------------------------------------------------------------------- inputs


def load_mountain_list(path: str | Path, *, code_col: str | None = None) -> pd.DataFrame:
    """Load a list of communes in zone de montagne.

    Reads the ANCT zonage file layout (``.xls``/``.xlsx`` with title rows above a header
    naming ``CODGEO``) or any CSV/Excel table with an INSEE code column. When a column
    names the zone (``ZONE MONTAGNE``, ``montagne``, ``zm``…), rows whose value is empty,
    ``0``, ``non`` or ``hors zone`` are not mountain.

    Parameters
    ----------
    path
        File to read.
    code_col
        INSEE code column (default: first of CODGEO, insee_com, code, COM, DEPCOM).

    Returns
    -------
    pandas.DataFrame
        ``insee_com`` and ``mountain`` (``"yes"``) for every listed commune, and
        ``mountain_source`` (the file name).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: mountain list not found")
    if p.suffix.lower() in (".xls", ".xlsx"):
        raw = pd.read_excel(p, header=None, dtype=str)
        header_row = next(
            (
                i
                for i in range(min(len(raw), 20))
                if raw.iloc[i].astype(str).str.upper().isin(["CODGEO", "INSEE_COM", "CODE"]).any()
            ),
            0,
        )
        df = raw.iloc[header_row + 1 :].copy()
        df.columns = [str(c).strip() for c in raw.iloc[header_row]]
    else:
        df = pd.read_csv(p, sep=None, engine="python", dtype=str)
    cols = {c.lower(): c for c in df.columns}
    col = code_col or next(
        (cols[c] for c in ("codgeo", "insee_com", "code", "com", "depcom") if c in cols), None
    )
    if col is None or col not in df.columns:
        raise InputError(
            f"{p}: no INSEE code column (CODGEO, insee_com, code…) among {list(df.columns)}"
        )
    zone = next(
        (c for c in df.columns if "montagne" in c.lower() or c.lower() in ("zm", "zone")), None
    )
    keep = pd.Series(True, index=df.index)
    if zone is not None:
        v = df[zone].fillna("").astype(str).str.strip().str.lower()
        keep = ~v.isin(["", "0", "non", "no", "nan", "hors zone", "none"])
    codes = df.loc[keep, col].astype(str).str.strip().str.zfill(5)
    return mountain_from_codes(codes, source=p.name)


def mountain_from_codes(codes: Iterable[str], *, source: str = "user table") -> pd.DataFrame:
    """A mountain table from any collection of INSEE codes (all flagged ``yes``)."""
    c = pd.Series(sorted(set(codes)), dtype="string")
    return pd.DataFrame({"insee_com": c, "mountain": "yes", "mountain_source": source})


# --------------------------------------------------------------------------- per commune


def gaussian_decay(t_min: np.ndarray, d0_min: float = FSCA_D0_MIN) -> np.ndarray:
    """Gaussian distance decay of the 2SFCA (1 at 0 min, 0 beyond ``d0_min``)."""
    t = np.asarray(t_min, float)
    e = np.exp(-0.5)
    w = (np.exp(-0.5 * (t / d0_min) ** 2) - e) / (1 - e)
    return np.where(np.isfinite(t) & (t <= d0_min), w, 0.0)


def site_supply(sites: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """Supply of each site for the 2SFCA: weekly opening hours (0 where unknown).

    Returns
    -------
    (numpy.ndarray, str or None)
        The supply, and a note when no site publishes hours (every site then counts 1).
    """
    if "weekly_hours" in sites.columns:
        wh = pd.to_numeric(sites["weekly_hours"], errors="coerce")
        if wh.notna().any():
            return wh.fillna(0).to_numpy(float), None
    note = t_("aucun site ne publie ses horaires : le 2SFCA compte chaque site pour une offre de 1")
    return np.ones(len(sites)), note


def two_step_fca(
    time_min: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
    *,
    d0_min: float = FSCA_D0_MIN,
) -> np.ndarray:
    """Gaussian two-step floating catchment accessibility.

    Parameters
    ----------
    time_min
        ``(n_origins, n_sites)`` travel times (NaN where unreachable).
    demand
        Population of each origin (NaN counts as 0).
    supply
        Supply of each site (weekly opening hours).
    d0_min
        Catchment size (minutes).

    Returns
    -------
    numpy.ndarray
        Supply per 1,000 inhabitants reachable by each origin (NaN for origins without
        any time).
    """
    w = gaussian_decay(time_min, d0_min)
    p = np.nan_to_num(np.asarray(demand, float))
    denom = (w * p[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(denom > 0, np.asarray(supply, float) / denom, 0.0)
    a = (w * r[None, :]).sum(axis=1) * 1000.0
    no_time = ~np.isfinite(np.asarray(time_min, float)).any(axis=1)
    return np.where(no_time, np.nan, a)


def commune_indicators(
    access: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    density: pd.DataFrame | None = None,
    mountain: pd.DataFrame | None = None,
    zonages: pd.DataFrame | None = None,
    od_time_min: np.ndarray | None = None,
    supply: np.ndarray | None = None,
    thresholds: Sequence[float] = GAP_THRESHOLDS,
    rural_levels: Sequence[int] = RURAL_LEVELS,
    id_col: str = "insee_com",
) -> pd.DataFrame:
    """One row per commune with access, context and gap flags.

    Parameters
    ----------
    access
        Output of :func:`msapgeo.routing.nearest_site` for the communes (needs
        ``id_col``, ``time_min``, ``dist_km``, ``site_id``, ``time2_min``, ``population``;
        optional ``nom``, ``epci_siren``, ``epci_nom``).
    sites
        Sites with ``site_id``, ``name``, ``type_fs``/``format_fs`` (optional), hours.
    density
        :func:`msapgeo.datasets.load_density_grid` output, or ``None``.
    mountain
        Mountain table (``insee_com``, ``mountain``, ``mountain_source``) or ``None``.
    zonages
        :func:`msapgeo.datasets.load_zonages` output: the aire d'attraction des villes
        (``aav2020``, ``cateaav_label``, ``rural_aav``) and unité urbaine of each commune.
    od_time_min
        Origin × site minutes (rows like ``access``, columns like ``sites``) for the 2SFCA.
    supply
        Supply of each site (weekly hours); default from ``sites["weekly_hours"]``.
    thresholds
        Gap thresholds (minutes).
    rural_levels
        Density levels counted as rural.
    id_col
        Commune identifier column.

    Returns
    -------
    pandas.DataFrame
    """
    if id_col not in access.columns:
        raise InputError(f"access table has no {id_col!r} column")
    out = pd.DataFrame(
        {"insee_com": access[id_col].astype("string").to_numpy()}, index=access.index
    )
    for c in ("nom", "name", "insee_dep", "epci_siren", "epci_nom", "point_source", "point_note"):
        if c in access.columns:
            out[c] = access[c].to_numpy()
    for c in ("population", "time_min", "dist_km", "default_speed_km", "time2_min", "snap_m"):
        col = access[c] if c in access.columns else pd.Series(np.nan, index=access.index)
        out[c] = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
    out["site_id"] = access.get("site_id")
    out["site2_id"] = access.get("site2_id")
    s = sites.drop_duplicates("site_id").set_index("site_id")
    for key in ("site", "site2"):
        for src, field_name in (
            ("name", "name"),
            ("type_fs", "type"),
            ("format_fs", "format"),
            ("address", "address"),
            ("weekly_hours", "hours_week"),
        ):
            if src in s.columns and out[f"{key}_id"] is not None:
                out[f"{key}_{field_name}"] = out[f"{key}_id"].map(s[src]).to_numpy()
    # density
    if density is not None:
        d = density.set_index("insee_com")["dens"]
        dens = out["insee_com"].map(d)
        out["dens"] = dens.astype("Int8")
        out["dens_label"] = out["dens"].map(DENSITY_LABELS).astype("string")
        rural = out["dens"].isin(list(rural_levels))
        out["density_class"] = np.where(
            out["dens"].isna(), "unknown", np.where(rural, "rural", "urban")
        )
    else:
        out["dens"] = pd.array([pd.NA] * len(out), dtype="Int8")
        out["dens_label"] = pd.Series(pd.NA, index=out.index, dtype="string")
        out["density_class"] = "unknown"
    # INSEE zonings: rural = outside any aire d'attraction des villes (CATEAAV 30)
    if zonages is not None:
        z = zonages.drop_duplicates("insee_com").set_index("insee_com")
        for c in ("aav2020", "cateaav_label", "uu2020"):
            if c in z.columns:
                out[c] = out["insee_com"].map(z[c]).astype("string").to_numpy()
        if "rural_aav" in z.columns:
            flag = out["insee_com"].map(z["rural_aav"])
            out["rural_aav"] = np.where(flag.isna(), "unknown", np.where(flag == True, "yes", "no"))  # noqa: E712
    # mountain
    if mountain is not None:
        m = mountain.drop_duplicates("insee_com").set_index("insee_com")
        flag = out["insee_com"].map(m["mountain"])
        out["mountain"] = flag.fillna("no").astype(str).to_numpy()
        src = m["mountain_source"].iloc[0] if len(m) else "user table"
        out["mountain_source"] = src
    else:
        out["mountain"] = "unknown"
        out["mountain_source"] = "no classification given"
    # gaps: an excluded commune (not routed) is listed apart, never a gap
    t = out["time_min"]
    excl = (
        access["exclusion"].astype("string")
        if "exclusion" in access.columns
        else pd.Series(pd.NA, index=access.index, dtype="string")
    )
    unreachable = is_unreachable(excl).to_numpy(bool)
    excluded = excl.notna().to_numpy() & ~unreachable
    out["excluded"] = excluded
    for th in thresholds:
        out[f"gap_{th:g}min"] = (t.isna() & ~excluded) | (t > th)
        out[f"beyond_{th:g}min_min"] = (t - th).clip(lower=0)
    # 2SFCA
    if od_time_min is not None:
        sup = supply if supply is not None else site_supply(sites)[0]
        out["access_2sfca_h_per_1000"] = two_step_fca(
            od_time_min, out["population"].to_numpy(), sup
        )
    if "exclusion" in access.columns:
        out["exclusion"] = access["exclusion"].to_numpy()
    return out


# --------------------------------------------------------------------------- aggregates


def _wmedian(values: np.ndarray, weights: np.ndarray) -> float:
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cw = np.cumsum(w)
    return float(v[np.searchsorted(cw, 0.5 * cw[-1])])


def summarise(
    communes: pd.DataFrame,
    *,
    share_thresholds: Sequence[float] = SHARE_THRESHOLDS,
    gap_thresholds: Sequence[float] = GAP_THRESHOLDS,
) -> dict[str, float]:
    """Indicators of one group of communes (see the module notes for conventions)."""
    pop = communes["population"]
    known = pop.notna()
    c = communes[known]
    p = c["population"].to_numpy(float)
    t = c["time_min"].to_numpy(float)
    total = p.sum()
    ex = (
        c["excluded"].astype(bool).to_numpy() if "excluded" in c.columns else np.zeros(len(c), bool)
    )
    counted = p[~ex].sum()  # shares over the communes that were routed
    row: dict[str, float] = {
        "communes": float(len(communes)),
        "communes_population_unknown": float((~known).sum()),
        "population": float(total),
        "population_excluded": float(p[ex].sum()),
    }
    for th in share_thresholds:
        within = np.isfinite(t) & (t <= th) & ~ex
        row[f"share_within_{th:g}min_pct"] = 100 * p[within].sum() / counted if counted else np.nan
    ok = np.isfinite(t)
    row["mean_time_min_popw"] = float(np.average(t[ok], weights=p[ok])) if p[ok].sum() else np.nan
    row["median_time_min_popw"] = _wmedian(t[ok], p[ok])
    row["max_time_min"] = (
        float(np.nanmax(communes["time_min"])) if communes["time_min"].notna().any() else np.nan
    )
    row["communes_unreachable"] = float(communes["time_min"].isna().sum())
    excluded = (
        communes["excluded"].astype(bool)
        if "excluded" in communes.columns
        else pd.Series(False, index=communes.index)
    )
    row["excluded_communes"] = float(excluded.sum())
    for th in gap_thresholds:
        gap = (communes["time_min"].isna() & ~excluded) | (communes["time_min"] > th)
        row[f"gap_{th:g}min_communes"] = float(gap.sum())
        row[f"gap_{th:g}min_population"] = float(communes.loc[gap, "population"].sum(min_count=0))
    return row


def aggregate(
    communes: pd.DataFrame,
    by: str | None,
    *,
    share_thresholds: Sequence[float] = SHARE_THRESHOLDS,
    gap_thresholds: Sequence[float] = GAP_THRESHOLDS,
    splits: Sequence[str] = ("density_class", "mountain"),
) -> pd.DataFrame:
    """Indicators per group (``by`` column, or the whole table when ``None``), each split.

    Returns
    -------
    pandas.DataFrame
        One row per group × split value: ``group`` (and ``by`` value), ``split``
        (``all``, ``density_class``, ``mountain``), ``split_value`` and the indicators
        of :func:`summarise`.
    """
    groups = [("all", communes)] if by is None else list(communes.groupby(by, dropna=False))
    rows = []
    for key, g in groups:
        base = {"group": "département" if by is None else str(key)}
        rows.append(
            {
                **base,
                "split": "all",
                "split_value": "all",
                **summarise(g, share_thresholds=share_thresholds, gap_thresholds=gap_thresholds),
            }
        )
        for sp in splits:
            if sp not in g.columns:
                continue
            for val, sub in g.groupby(sp, dropna=False):
                rows.append(
                    {
                        **base,
                        "split": sp,
                        "split_value": str(val),
                        **summarise(
                            sub, share_thresholds=share_thresholds, gap_thresholds=gap_thresholds
                        ),
                    }
                )
    out = pd.DataFrame(rows)
    if by is not None:
        out = out.rename(columns={"group": by})
    return out


def gap_worklist(communes: pd.DataFrame, threshold: float = 30.0) -> pd.DataFrame:
    """Gap communes ranked by population × minutes beyond the threshold (the council's worklist).

    Unreachable communes come first (infinite priority), then by decreasing priority.
    """
    t = communes["time_min"]
    excluded = (
        communes["excluded"].astype(bool)
        if "excluded" in communes.columns
        else pd.Series(False, index=communes.index)
    )
    gap = communes[(t.isna() & ~excluded) | (t > threshold)].copy()
    gap["minutes_beyond"] = (gap["time_min"] - threshold).clip(lower=0)
    gap["priority_pop_min"] = gap["population"] * gap["minutes_beyond"]
    gap["unreachable"] = gap["time_min"].isna()
    gap = gap.sort_values(["unreachable", "priority_pop_min"], ascending=[False, False])
    gap.insert(0, "rank", np.arange(1, len(gap) + 1))
    gap["threshold_min"] = threshold
    return gap.reset_index(drop=True)
