"""Run identity and integrity: run ids, the code version, manifests, locks, replicate seeds.

A run is identified by a hash of its resolved configuration (every parameter,
the world, the events, the seed) and of the model's code version. Sweeps name
each run's directory from it, so running the same sweep again finds finished
runs and skips them, and runs of other model code never share a folder.

A run is finished only when its ``manifest.json`` (written last, atomically)
lists every file of the results contract with its size and SHA-256, and the
files on disk match it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import ConfigError
from sim.core.settings import MODEL_SETTINGS, SETTING_NAMES
from sim.resources import DATA_DIR, PACKAGE_DIR

# Settings the model does not read (plot, results_dir, sweep bookkeeping) do not
# change a run's numbers, so they do not enter its identity.
NOT_IDENTITY = tuple(n for n in SETTING_NAMES if n not in MODEL_SETTINGS)
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
# Pins the code version (tests; or a cluster whose nodes see another checkout path).
CODE_VERSION_ENV = "SCAMSIM_CODE_VERSION"
LOCK_FILE = ".lock"


@cache
def _source_hash() -> str:
    """SHA-256 over the model's source (sim/core/**/*.py) and the shipped data tables."""
    h = hashlib.sha256()
    files = sorted((PACKAGE_DIR / "core").rglob("*.py")) + sorted(DATA_DIR.glob("*.csv"))
    for path in files:
        h.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]


def code_version() -> str:
    """The model's code version: package version + hash of model source and data tables.

    Only what can change a run's numbers enters it (not the CLI, plots or docs),
    so editing those keeps finished runs valid.
    """
    pinned = os.environ.get(CODE_VERSION_ENV)
    if pinned:
        return pinned
    return f"{_installed_version()}+{_source_hash()}"


@cache
def _installed_version() -> str:
    """The installed distribution's version (read once: reading the metadata parses files)."""
    try:
        return metadata.version("scamsim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def run_id(resolved: Mapping[str, Any]) -> str:
    """Stable hash of a resolved run configuration and the code version (16 hex chars)."""
    data = {k: v for k, v in resolved.items() if k not in NOT_IDENTITY}
    data["code_version"] = code_version()
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_dir_name(resolved: Mapping[str, Any]) -> str:
    """Readable directory name of a run: scenario, world, seed and the run id."""
    world = (resolved.get("world") or {}).get("name", "world")
    scenario = (resolved.get("scenario") or {}).get("name", "custom")
    return f"{scenario}-{world}-s{resolved['seed']}-{run_id(resolved)}"


def replicate_seeds(base_seed: int, replicates: int) -> list[int]:
    """``replicates`` seeds derived deterministically from ``base_seed``.

    Uses NumPy's SeedSequence spawning, designed to give independent streams;
    replicate 0 keeps the base seed so a one-replicate sweep equals a single run.
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    children = np.random.SeedSequence(base_seed).spawn(replicates - 1)
    return [int(base_seed)] + [int(c.generate_state(1, np.uint32)[0]) for c in children]


# --- manifests ---------------------------------------------------------------------------


def file_digest(path: Path) -> str:
    """SHA-256 of a file (hex)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_record(directory: Path, files: tuple[str, ...], rid: str) -> dict[str, Any]:
    """The manifest of a run folder whose ``files`` are written: names, sizes, checksums."""
    return {
        "format": MANIFEST_FORMAT,
        "run_id": rid,
        "code_version": code_version(),
        "files": {
            name: {"size": (directory / name).stat().st_size,
                   "sha256": file_digest(directory / name)}
            for name in files
        },
    }


def read_manifest(directory: str | os.PathLike) -> dict[str, Any] | None:
    """A run folder's manifest, or None if missing or unreadable."""
    try:
        data = json.loads((Path(directory) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def verify_run(directory: str | os.PathLike, expected_id: str | None = None,
               full: bool = True) -> str | None:
    """Why a run folder is not a finished run (one phrase), or None when it is.

    ``full`` compares checksums; otherwise only the sizes (a quick check).
    """
    d = Path(directory)
    if not (d / MANIFEST).exists():
        return f"unfinished ({MANIFEST} is missing)"
    manifest = read_manifest(d)
    if manifest is None:
        return f"{MANIFEST} is unreadable"
    if expected_id is not None and manifest.get("run_id") != expected_id:
        return f"holds run {manifest.get('run_id')!s}, not {expected_id}"
    for name, entry in sorted(manifest["files"].items()):
        path = d / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != entry.get("size"):
            return f"{name} is {size} bytes, the manifest says {entry.get('size')} (truncated?)"
        if full and file_digest(path) != entry.get("sha256"):
            return f"{name} does not match its checksum in the manifest"
    return None


def is_finished(directory: str | os.PathLike, expected_id: str | None = None,
                full: bool = True) -> bool:
    """Whether a run directory holds a complete run (its files match its manifest)."""
    return verify_run(directory, expected_id, full) is None


def mark_unfinished(directory: str | os.PathLike) -> None:
    """Remove a run's manifest, so nothing takes it for finished while it is redone."""
    (Path(directory) / MANIFEST).unlink(missing_ok=True)


def remove_partial_files(directory: str | os.PathLike) -> None:
    """Delete temporary files an interrupted write left behind.

    Only called by the process that holds the sweep folder's lock (or a single
    run's own folder), so no other process's in-flight file is removed.
    """
    for tmp in Path(directory).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


# --- paths and locks ---------------------------------------------------------------------


def check_inside(path: str | os.PathLike, root: str | os.PathLike, key: str) -> Path:
    """``path`` if it stays inside ``root`` (after resolving ``..`` and links), else error."""
    p, r = Path(path).resolve(), Path(root).resolve()
    if not p.is_relative_to(r):
        raise ConfigError(key, f"= {path} leaves the results folder {root}")
    return p


class FolderBusyError(RuntimeError):
    """Another process holds the lock of a sweep folder; ``str`` is one line."""


_HELD: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, depth): re-entrant per process


@contextlib.contextmanager
def folder_lock(directory: str | os.PathLike) -> Iterator[None]:
    """Hold ``<directory>/.lock`` exclusively (flock); FolderBusyError if another has it.

    The lock dies with its process (even under kill -9), so a crashed sweep never
    blocks the next one. Re-entrant within a process (the sweep, then its aggregate).
    """
    import fcntl

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = (d / LOCK_FILE).resolve()
    if path in _HELD:
        fd, depth = _HELD[path]
        _HELD[path] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _HELD[path]
            _HELD[path] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise FolderBusyError(
            f"error: {d} is in use by another sweep ({holder}); wait for it to finish "
            "or give this one its own sweep_name="
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    _HELD[path] = (fd, 1)
    try:
        yield
    finally:
        fd, depth = _HELD[path]
        if depth <= 1:
            del _HELD[path]
            os.close(fd)  # releases the flock
        else:
            _HELD[path] = (fd, depth - 1)
