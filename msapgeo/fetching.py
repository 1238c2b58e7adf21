"""Files of the catalog on the local disk: cache, mirror, download, checksums.

Resolution order for every file of the catalog
----------------------------------------------
1. an explicit ``path=`` given by the caller;
2. the local cache (``MSAPGEO_CACHE``, default ``~/.cache/msapgeo``);
3. the mirror (``MSAPGEO_MIRROR``): a folder, or an ``http(s)://`` base URL, laid out
   like the catalog's relative paths;
4. the canonical URLs of the source.

A file with a fixed content has a SHA-256 in the catalog and is verified wherever it
comes from; a download is written to a temporary file and renamed only once verified
(atomic). When nothing works, :class:`~msapgeo.errors.DataNotFoundError` names the file,
every place tried with its reason, and how to supply it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from msapgeo import settings
from msapgeo.catalog import Source, get_source
from msapgeo.errors import ChecksumError, DataNotFoundError
from msapgeo.fileio import sha256_file


def cache_dir() -> Path:
    """Folder of the local cache (``MSAPGEO_CACHE`` overrides)."""
    env = os.environ.get("MSAPGEO_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "msapgeo"


def fetch(
    source: Source | str, *, path: str | Path | None = None, progress: bool | None = None
) -> Path:
    """Return a local path to a catalog file, downloading it if needed.

    Parameters
    ----------
    source
        A :class:`Source` or its catalog name.
    path
        Explicit local file: used as is (verified when the source has a checksum).
    progress
        Show a download progress bar (default :data:`msapgeo.settings.progress`).

    Returns
    -------
    pathlib.Path
        A verified local file.

    Raises
    ------
    DataNotFoundError
        Nothing could serve the file; the message lists what was tried.
    ChecksumError
        The only copies found do not match the catalog's SHA-256.
    """
    src = get_source(source) if isinstance(source, str) else source
    progress = settings.progress if progress is None else progress
    tried: list[str] = []
    checksum_failed = False
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"{src.name}: the file given, {p}, does not exist")
        return p

    cached = cache_dir() / src.relpath
    if cached.is_file():
        if _verify(cached, src):
            return cached
        tried.append(f"cache {cached}: checksum mismatch, removed")
        checksum_failed = True
        cached.unlink()
    else:
        tried.append(f"cache {cached}: not there")

    mirror = os.environ.get("MSAPGEO_MIRROR", "").strip()
    urls: list[tuple[str, str]] = []
    if mirror:
        if mirror.startswith(("http://", "https://")):
            urls.append(("mirror", mirror.rstrip("/") + "/" + src.relpath))
        else:
            local = Path(mirror) / src.relpath
            if local.is_file():
                if _verify(local, src):
                    return local
                checksum_failed = True
                tried.append(
                    f"mirror {local}: checksum mismatch (got {sha256_file(local)}, "
                    f"expected {src.sha256})"
                )
            else:
                tried.append(f"mirror {local}: not there")
    else:
        tried.append("mirror: MSAPGEO_MIRROR is not set")
    urls.extend(("url", u) for u in src.urls)

    for kind, url in urls:
        try:
            _download(url, cached, src, progress=progress)
            return cached
        except ChecksumError as exc:
            checksum_failed = True
            tried.append(f"{kind} {url}: {exc}")
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            tried.append(f"{kind} {url}: {reason}")
    if not src.urls:
        tried.append("canonical URL: none is public for this file")

    lines = "\n  - ".join(tried)
    hint = (
        f"Supply it with MSAPGEO_MIRROR=<folder or URL> holding {src.relpath}, "
        f"or an explicit path{' (' + src.how_to_get + ')' if src.how_to_get else ''}."
    )
    cls = ChecksumError if checksum_failed else DataNotFoundError
    raise cls(f"{src.name} ({src.relpath}) could not be obtained. Tried:\n  - {lines}\n{hint}")


def _verify(path: Path, src: Source) -> bool:
    return src.sha256 is None or sha256_file(path) == src.sha256


def _download(url: str, dest: Path, src: Source, *, progress: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "msapgeo"})
        with (
            urllib.request.urlopen(req, timeout=settings.http_timeout_s) as resp,
            os.fdopen(fd, "wb") as out,
        ):
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"download {dest.name}",
                disable=not progress,
                leave=False,
            ) as bar:
                for chunk in iter(lambda: resp.read(1 << 16), b""):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if src.sha256 is not None and h.hexdigest() != src.sha256:
            raise ChecksumError(
                f"checksum mismatch (got {h.hexdigest()}, expected {src.sha256}); file rejected"
            )
        if tmp.stat().st_size == 0:
            raise ChecksumError("empty file; rejected")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
