"""Files that appear whole or not at all: atomic writes, cache files and output folders.

* :func:`atomic_path` gives a unique temporary name beside the target (so two processes
  never share one) and moves it into place with :func:`os.replace` only when the block
  ends without error; a killed process leaves at most a hidden ``.*.part`` file, which
  never has the target's name.
* :class:`OutputFolder` writes a whole run into a hidden temporary folder beside
  ``--out`` and swaps it into place when complete, ``run.json`` (written last) listing
  every file with its SHA-256. A killed run leaves the previous complete folder, or
  nothing. An existing folder is replaced whole when it holds a msapgeo run (it has
  ``run.json``) or is empty; any other existing folder is refused, so that msapgeo never
  deletes files it did not write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from msapgeo.errors import InputError

RUN_FILE = "run.json"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of the files written here: what ``open`` would give (0666 less the umask), not
#: the 0600 of a temporary file.
FILE_MODE = 0o666 & ~_umask()


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(dest: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a unique temporary path beside ``dest``; move it onto ``dest`` on success.

    Parameters
    ----------
    dest
        Final file.
    suffix
        Suffix of the temporary name (some writers need ``.npz`` or ``.gpkg``).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".part{suffix}", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, FILE_MODE)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(dest: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write text to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(dest)


def atomic_write_bytes(dest: str | Path, data: bytes) -> Path:
    """Write bytes to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def check_output_folder(out: str | Path, option: str = "--out") -> Path:
    """Check, before any work, that ``out`` can receive a run.

    Raises
    ------
    InputError
        ``out`` is a file, or a non-empty folder that holds no msapgeo run, or its parent
        cannot be created.
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} {p}: is a file; give a folder for the outputs")
    if p.is_dir() and any(p.iterdir()) and not (p / RUN_FILE).is_file():
        raise InputError(
            f"{option} {p}: the folder is not empty and holds no msapgeo run ({RUN_FILE}); "
            "give a new or empty folder (msapgeo replaces only its own outputs)"
        )
    parent = p.resolve().parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"{option} {p}: {parent} is a file")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {p}: cannot create {parent} ({exc.strerror})") from exc
    if not os.access(parent, os.W_OK):
        raise InputError(f"{option} {p}: {parent} is not writable")
    return p


def _clean_stale(parent: Path, name: str) -> None:
    """Remove temporary folders of earlier runs into ``name`` whose process is gone."""
    for d in parent.glob(f".{name}.msapgeo-*"):
        try:
            pid = int(d.name.rsplit("-", 2)[-2])
        except (ValueError, IndexError):
            continue
        alive = True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(d, ignore_errors=True)
    for d in parent.glob(f".{name}.old-*"):
        shutil.rmtree(d, ignore_errors=True)


class OutputFolder:
    """A run's output folder, written aside and moved into place only when complete.

    Use it as a context manager; write every file under :attr:`path`; on a clean exit
    :meth:`commit` writes ``run.json`` (with ``files``: each file's relative path, size
    and SHA-256) and swaps the folder into place. On an exception the temporary folder is
    removed and the previous outputs are untouched.

    Parameters
    ----------
    out
        Final folder.
    run
        Content of ``run.json`` (summary, metadata); ``files`` is added.
    """

    def __init__(self, out: str | Path, run: dict[str, Any] | None = None) -> None:
        self.out = check_output_folder(out)
        self.run: dict[str, Any] = dict(run or {})
        parent = self.out.resolve().parent
        _clean_stale(parent, self.out.name)
        self.path = parent / f".{self.out.name}.msapgeo-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        self._done = False

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None and not self._done:
            self.commit()
        if not self._done:
            shutil.rmtree(self.path, ignore_errors=True)

    def final(self, tmp_path: Path) -> Path:
        """Where a file written under :attr:`path` will be once committed."""
        return self.out / Path(tmp_path).relative_to(self.path)

    def commit(self) -> Path:
        """Write ``run.json`` last and move the complete folder into place."""
        files = []
        for f in sorted(self.path.rglob("*")):
            if f.is_file() and f.name != RUN_FILE:
                files.append(
                    {
                        "path": f.relative_to(self.path).as_posix(),
                        "bytes": f.stat().st_size,
                        "sha256": sha256_file(f),
                    }
                )
        run = {**self.run, "files": files}
        (self.path / RUN_FILE).write_text(
            json.dumps(run, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        old = None
        if self.out.exists():
            foreign = any(self.out.iterdir()) and not (self.out / RUN_FILE).is_file()
            if foreign:
                raise InputError(f"--out {self.out}: holds files of another program; not replaced")
            old = self.out.resolve().parent / f".{self.out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(self.out, old)
        os.replace(self.path, self.out)
        self._done = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out
