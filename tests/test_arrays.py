"""Array and frame helpers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from msapgeo.arrays import unique_sorted, with_columns


@given(st.lists(st.integers(-(2**62), 2**62), max_size=200))
def test_unique_sorted_is_numpy_unique(values: list[int]) -> None:
    a = np.array(values, dtype=np.int64)
    assert np.array_equal(unique_sorted(a), np.unique(a))


def test_with_columns_is_setting_them_one_by_one() -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "exclusion": pd.array([pd.NA, "x", pd.NA], dtype="string")},
        geometry=gpd.points_from_xy([6.0, 6.1, 6.2], [45.0, 45.1, 45.2]),
        crs="EPSG:4326",
        index=[10, 20, 30],
    )
    gdf.attrs["profile"] = "practical"
    before = gdf.copy()
    cols = {
        "time_min": np.array([1.0, np.nan, 3.0]),
        "exclusion": pd.Series(["y", "x", pd.NA], index=[10, 20, 30], dtype="string"),
        "site_id": np.array(["s1", None, "s2"], dtype=object),
    }
    out = with_columns(gdf, cols)
    ref = gdf.copy()
    for k, v in cols.items():
        ref[k] = v
    pd.testing.assert_frame_equal(pd.DataFrame(out), pd.DataFrame(ref))
    assert list(out.columns) == ["id", "exclusion", "geometry", "time_min", "site_id"]
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.active_geometry_name == "geometry"
    assert out.crs == gdf.crs
    assert out.attrs == {"profile": "practical"}
    pd.testing.assert_frame_equal(pd.DataFrame(gdf), pd.DataFrame(before))  # not modified
    # a Series is aligned on the index, as with frame[name] = series
    shuffled = pd.Series([3.0, 1.0, 2.0], index=[30, 10, 20])
    assert with_columns(gdf, {"t": shuffled})["t"].tolist() == [1.0, 2.0, 3.0]
    # nothing new: only replaced, still a copy
    same = with_columns(gdf, {"id": ["p", "q", "r"]})
    assert same["id"].tolist() == ["p", "q", "r"]
    assert gdf["id"].tolist() == ["a", "b", "c"]
