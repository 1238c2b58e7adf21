"""The numbers of the test regions do not change unless the model does.

``tests/data/regression.json`` holds a fingerprint of each test region's results (counts,
median, maximum, sums of times and distances, sites chosen, communes cut off in winter),
never a table of the data. A refactoring must leave it unchanged; a deliberate change of
the model (speeds, junction costs…) updates it with::

    .venv/bin/python -m tests.test_regression --update

and says why in its commit, with the new numbers beside the old.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import msapgeo as mg

EXPECTED = Path(__file__).with_name("data") / "regression.json"
CASES = {"pays-du-mont-blanc": ("practical", "legal"), "andorra": ("practical",)}


def fingerprint(region: mg.Region, profile: str) -> dict[str, Any]:
    """What the outputs of a region print, reduced to a few numbers."""
    acc = region.access(profile=profile).origins
    t = acc["time_min"].dropna().to_numpy(float)
    d = acc["dist_km"].dropna().to_numpy(float)
    sites = acc["site_id"].dropna().astype(str).value_counts().sort_index()
    out: dict[str, Any] = {
        "origins": len(acc),
        "routed": len(t),
        "median_min": round(float(np.median(t)), 3),
        "max_min": round(float(t.max()), 3),
        "sum_time_min": round(float(t.sum()), 3),
        "sum_dist_km": round(float(d.sum()), 3),
        "beyond_20_min": int((t > 20).sum()),
        "nearest_sites": {k: int(v) for k, v in sites.items()},
    }
    if profile == "practical" and region.winter is not None:
        comp = region.scenario(profile=profile)
        lost = comp.communes.loc[comp.communes["loses_access"], "name"]
        out["winter_loses_access"] = sorted(map(str, lost))
        table = region.optimise(k=1, threshold_min=20.0).table
        out["optimise_chosen"] = {str(r["model"]): str(r["chosen"]) for _, r in table.iterrows()}
    return out


def current() -> dict[str, dict[str, Any]]:
    mg.settings.progress = False
    result: dict[str, dict[str, Any]] = {}
    for name, profiles in CASES.items():
        region = mg.load_region(name)
        result[name] = {p: fingerprint(region, p) for p in profiles}
    return result


@pytest.fixture(scope="module")
def numbers(mirror: Path) -> dict[str, dict[str, Any]]:
    return current()


@pytest.mark.parametrize(("name", "profile"), [(n, p) for n, ps in CASES.items() for p in ps])
def test_numbers_are_unchanged(numbers: dict[str, dict[str, Any]], name: str, profile: str) -> None:
    expected = json.loads(EXPECTED.read_text())[name][profile]
    got = numbers[name][profile]
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, abs=2e-3), key
        else:
            assert got[key] == value, key


if __name__ == "__main__":
    if "--update" in sys.argv:
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(json.dumps(current(), indent=2, ensure_ascii=False) + "\n")
    else:
        print(json.dumps(current(), indent=2, ensure_ascii=False))
