"""Shaded relief under the maps where a DEM is loaded (offline: the image is in the page)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import msapgeo as mg
from msapgeo.maps import hillshade
from tests.chromium import dump_dom


class _Plane:
    """A DEM-like object: a plane rising towards ``(dx, dy)`` (m per degree)."""

    def __init__(self, dx: float, dy: float) -> None:
        self.dx, self.dy = dx, dy

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return 1000.0 + self.dx * (lon - 6.0) + self.dy * (lat - 45.0)


def test_slopes_facing_the_sun_are_lighter() -> None:
    box = (6.0, 45.0, 6.1, 45.1)
    flat = hillshade(_Plane(0.0, 0.0), box)
    # the sun is in the north-west: a slope rising to the south-east faces it
    facing = hillshade(_Plane(20_000.0, -20_000.0), box)
    away = hillshade(_Plane(-20_000.0, 20_000.0), box)  # rises to the north-west
    assert flat is not None
    assert facing is not None
    assert away is not None
    sun = np.sin(np.radians(45.0))
    assert np.allclose(flat[0], sun)  # a flat ground gets sin(altitude)
    assert np.nanmean(facing[0]) > sun > np.nanmean(away[0])
    # and from the west: a slope rising to the east (facing west) is the lighter
    west_face = hillshade(_Plane(20_000.0, 0.0), box)
    east_face = hillshade(_Plane(-20_000.0, 0.0), box)
    assert west_face is not None
    assert east_face is not None
    assert np.nanmean(west_face[0]) > np.nanmean(east_face[0])
    assert hillshade(_Plane(0, 0), (6.1, 45.0, 6.0, 45.1)) is None  # empty frame


def test_andorra_map_shows_the_relief_offline(mirror: Path, tmp_path: Path) -> None:
    mg.settings.progress = False
    region = mg.load_region("andorra")
    diag = region.diagnostic(people=False)
    assert diag.dem is region.dem
    mg.write_diagnostic(diag, tmp_path / "out")
    page = tmp_path / "out" / "map.html"
    dom = dump_dom(page.as_uri(), tmp_path)
    img = re.search(r'<img[^>]*class="[^"]*msapgeo-hillshade[^"]*"[^>]*>', dom)
    assert img is not None, "the relief image is not on the page"
    assert 'src="data:image/png;base64,' in img.group(0)  # in the page: offline
    assert "relief ombré (MNT)" in dom
