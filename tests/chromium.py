"""Headless Chromium for the tests that look at a page as a person would (offline)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium_args(tmp: Path, budget_ms: int = 8000) -> list[str]:
    """Command line of a headless, offline, throw-away Chromium (fails when missing)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed: run the tests with `make test`, which installs it")
    return [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        f"--virtual-time-budget={budget_ms}",
        "--window-size=1100,800",
    ]


def dump_dom(url: str, tmp: Path, budget_ms: int = 8000) -> str:
    """The page's DOM once its scripts have run."""
    args = [*chromium_args(tmp, budget_ms), "--dump-dom", url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout


def screenshot(url: str, tmp: Path, budget_ms: int = 8000) -> Path:
    """A PNG of the page as a person sees it."""
    shot = tmp / "shot.png"
    args = [*chromium_args(tmp, budget_ms), f"--screenshot={shot}", url]
    subprocess.run(args, capture_output=True, timeout=120, check=True)
    return shot
