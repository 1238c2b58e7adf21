"""Site planning: what-if evaluation (:mod:`msapgeo.whatif`) and location models
(:mod:`msapgeo.locations`), under one name.

Everything here reads routing results: :func:`evaluate` compares two nearest-site runs,
and the optimisation models read one origin × (existing + candidate) matrix computed once
by :func:`candidate_matrix` and reused across every ``k`` and threshold.
"""

from __future__ import annotations

from msapgeo.locations import (
    EXACT_MAX_VARIABLES,
    MODEL_LABELS,
    OBJECTIVE_UNITS,
    UNREACHABLE_MIN,
    CandidateMatrix,
    PlanResult,
    candidate_matrix,
    maximal_covering,
    nearest_times,
    optimise,
    p_median,
    set_covering,
)
from msapgeo.whatif import (
    Evaluation,
    Optimisation,
    evaluate,
    evaluate_plans,
    sites_from_communes,
    sites_from_points,
)

__all__ = [
    "EXACT_MAX_VARIABLES",
    "MODEL_LABELS",
    "OBJECTIVE_UNITS",
    "UNREACHABLE_MIN",
    "CandidateMatrix",
    "Evaluation",
    "Optimisation",
    "PlanResult",
    "candidate_matrix",
    "evaluate",
    "evaluate_plans",
    "maximal_covering",
    "nearest_times",
    "optimise",
    "p_median",
    "set_covering",
    "sites_from_communes",
    "sites_from_points",
]
