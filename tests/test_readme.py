"""The README's planner lines run as written, with only ``import msapgeo as mg``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_planner_lines_run(tmp_path: Path, mirror: Path) -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- planner-lines -->\s*```python\n(.*?)```", text, re.S)
    assert m is not None, "the README lost its planner lines"
    code = m.group(1)
    imports = [line for line in code.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import msapgeo as mg"]
    assert len([line for line in code.splitlines() if line.strip()]) <= 11
    env = {**os.environ, "MSAPGEO_MIRROR": str(mirror)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "habitants gagnent en moyenne" in out.stdout
    assert "[]" in out.stdout  # no commune of the region is beyond 30 minutes
    assert (tmp_path / "carte.html").stat().st_size > 10_000
