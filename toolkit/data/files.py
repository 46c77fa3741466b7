"""Where the files of the registered datasets are and whether they are the registered ones: a leaf.

The registry table ``toolkit/data/catalog/registry.csv`` names each dataset's files, pins their SHA-256 and
gives their download URL. :func:`dataset_path` finds one file and verifies its checksum, looking in three
places, in this order:

1. ``data/raw/<name>/<file>`` inside the project (``config.RAW_DIR``; raw data is never edited);
2. ``$TOOLKIT_DATA_MIRROR/<name>/<file>``, a read-only mirror of the original downloads
   (``config.data_mirror()``);
3. the original public URL, downloaded into ``data/raw/<name>/`` (written to a temporary file, verified,
   then renamed, so a failed download never leaves a partial file behind).

Every file is checked against the SHA-256 pinned in the registry, wherever it was found: a corrupted
or different copy fails loudly instead of silently changing results.

This module imports nothing from ``toolkit.data`` so that the dataset adapters
(:mod:`toolkit.data.datasets`) and the loader (:mod:`toolkit.data.registry`) can both use it without
importing each other (``tests/test_layers.py``).
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from toolkit import config
from toolkit._validation import _did_you_mean, message

#: The registry table shipped with the package.
REGISTRY_CSV = config.CATALOG_DIR / "registry.csv"
#: Seconds to wait for the server when downloading an original file.
DOWNLOAD_TIMEOUT = 60.0

# (resolved path, mtime_ns, size) -> sha256 hex digest; repeated loads of an unchanged file are cheap.
_CHECKSUM_CACHE: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class FileSpec:
    """One file of a registered dataset: its name, pinned checksum and where to download it."""

    dataset: str
    filename: str
    sha256: str
    url: str | None
    archive_member: str | None


# ---------------------------------------------------------------------------------------------
# Registry table
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _registry_records() -> tuple[dict[str, str], ...]:
    with open(REGISTRY_CSV, newline="", encoding="utf-8") as handle:
        return tuple(dict(row) for row in csv.DictReader(handle))


def _names() -> list[str]:
    return [r["name"] for r in _registry_records()]


def _record(name, func: str) -> dict[str, str]:
    if not isinstance(name, str):
        raise TypeError(message(func, "name", "a dataset name (str)", type(name).__name__,
                                "See tk.list_datasets() for the available names."))
    for rec in _registry_records():
        if rec["name"] == name:
            return rec
    names = _names()
    raise ValueError(message(func, "name", "the name of a registered dataset", name,
                             f"Available datasets: {', '.join(repr(n) for n in names)}."
                             f"{_did_you_mean(name, names)}"))


def _split(value: str) -> list[str]:
    return value.split("|")


def _file_specs(name: str) -> dict[str, FileSpec]:
    """Return ``{filename: FileSpec}`` for a registered dataset (first entry = main file)."""
    rec = _record(name, "dataset_path")
    files, shas = _split(rec["files"]), _split(rec["sha256"])
    urls, members = _split(rec["download_urls"]), _split(rec["archive_members"])
    n = len(files)
    urls += [""] * (n - len(urls))
    members += [""] * (n - len(members))
    return {f: FileSpec(name, f, s.strip().lower(), u or None, m or None)
            for f, s, u, m in zip(files, shas, urls, members)}


# ---------------------------------------------------------------------------------------------
# Files: lookup, checksum, download
# ---------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    cached = _CHECKSUM_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    _CHECKSUM_CACHE[key] = value
    return value


def _verify(path: Path, spec: FileSpec, where: str) -> Path:
    got = _sha256(path)
    if got != spec.sha256:
        raise ValueError(message(
            "dataset_path", None,
            f"the {where} copy of {spec.filename!r} (dataset {spec.dataset!r}) at {str(path)!r} to match the "
            f"registry checksum; expected sha256 {spec.sha256}, got {got}", show_got=False,
            hint="The file is corrupted or a different version of the data. Restore the original file "
                 "(its provenance is in the dataset's SOURCE.md) or remove it so the next place is used."))
    return path


def _download(spec: FileSpec, dest: Path, timeout: float) -> Path:
    """Download ``spec`` into ``dest`` (via a temporary file), verify the checksum, then rename.

    Network and archive problems raise ``OSError``; a checksum mismatch raises ``ValueError``.
    """
    created = not dest.parent.exists()
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _download_into(spec, dest, timeout)
    except BaseException:
        if created and dest.parent.is_dir() and not any(dest.parent.iterdir()):
            dest.parent.rmdir()  # leave data/raw as it was
        raise


def _download_into(spec: FileSpec, dest: Path, timeout: float) -> Path:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    extracted = None
    try:
        request = urllib.request.Request(str(spec.url), headers={"User-Agent": "engagement-toolkit"})
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        candidate = tmp
        if spec.archive_member:
            try:
                with zipfile.ZipFile(tmp) as archive:
                    members = [m for m in archive.namelist()
                               if Path(m).name == spec.archive_member and not m.startswith("__MACOSX")]
                    if not members:
                        raise OSError(f"the archive has no member {spec.archive_member!r} "
                                      f"(it holds {archive.namelist()!r})")
                    fd, extracted_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.",
                                                          suffix=".part")
                    os.close(fd)
                    extracted = Path(extracted_name)
                    with archive.open(members[0]) as src, open(extracted, "wb") as out:
                        shutil.copyfileobj(src, out)
            except zipfile.BadZipFile as exc:
                raise OSError(f"the download is not a valid zip archive ({exc})") from exc
            candidate = extracted
        got = _sha256(candidate)
        if got != spec.sha256:
            raise ValueError(message(
                "dataset_path", None,
                f"the downloaded {spec.filename!r} (dataset {spec.dataset!r}, from {spec.url}) to match the "
                f"registry checksum; expected sha256 {spec.sha256}, got {got}", show_got=False,
                hint="The download was deleted. The server may now publish a different version of the data; "
                     "use the pinned copy described in the dataset's SOURCE.md (e.g. via TOOLKIT_DATA_MIRROR)."))
        os.replace(candidate, dest)
        return dest
    finally:
        for leftover in (tmp, extracted):
            if leftover is not None and leftover.exists():
                leftover.unlink()


def dataset_path(name: str, filename: str | None = None, *, download: bool = True) -> Path:
    """Find one file of a registered dataset, verify its checksum and return its path.

    Parameters
    ----------
    name : str
        Registered dataset name (see :func:`list_datasets`).
    filename : str or None, default=None
        File of that dataset; None means its main file (the first one in the registry).
    download : bool, default=True
        Whether to download the file from its original URL into ``data/raw/<name>/`` when it is not
        found locally.

    Returns
    -------
    pathlib.Path
        Path of a local copy whose SHA-256 equals the registry's.

    Raises
    ------
    ValueError
        Unknown dataset or file name; or a local, mirrored or downloaded copy whose checksum differs
        from the registry (expected and actual digests are named; a bad download is deleted).
    FileNotFoundError
        The file is in neither ``data/raw`` nor the mirror and could not be downloaded; the message
        names all three places looked at and why each failed.

    Notes
    -----
    Search order: ``config.RAW_DIR / name / filename``, then ``config.data_mirror() / name / filename``
    (environment variable ``TOOLKIT_DATA_MIRROR``), then the original URL. Zip archives are opened and
    only the registered member is kept. Checksums are cached per (path, modification time, size), so
    verifying an unchanged file again costs one ``stat``.

    Validated against the SHA-256 digests recorded in each dataset's ``SOURCE.md``
    (``tests/test_datasets.py``); the download path is tested against a local HTTP server.

    Examples
    --------
    >>> from toolkit.data.files import dataset_path
    >>> dataset_path("uci_facebook_metrics").name
    'dataset_Facebook.csv'
    """
    func = "dataset_path"
    specs = _file_specs(name)
    if filename is None:
        filename = next(iter(specs))
    if filename not in specs:
        raise ValueError(message(func, "filename", f"a file of dataset {name!r}", filename,
                                 f"Its files are {', '.join(repr(f) for f in specs)}."
                                 f"{_did_you_mean(filename, list(specs))}"))
    spec = specs[filename]

    raw = Path(config.RAW_DIR) / name / filename
    if raw.is_file():
        return _verify(raw, spec, "data/raw")
    looked = [f"1) {raw} (not found)"]

    mirror = config.data_mirror()
    if mirror is not None:
        mirrored = mirror / name / filename
        if mirrored.is_file():
            return _verify(mirrored, spec, "mirror")
        looked.append(f"2) {mirrored} (not found; {config.MIRROR_ENV}={str(mirror)!r})")
    else:
        looked.append(f"2) the mirror folder: {config.MIRROR_ENV} is not set")

    if spec.url is None:
        looked.append(f"3) no public download: {filename!r} is derived by this project, not published; rebuild "
                      f"it as described in the dataset's SOURCE.md and put it in {raw.parent}")
    elif not download:
        looked.append(f"3) download from {spec.url} was not attempted (download=False)")
    else:
        try:
            return _download(spec, raw, DOWNLOAD_TIMEOUT)
        except (OSError, urllib.error.URLError) as exc:  # URLError, HTTPError, timeouts, bad archives
            if isinstance(exc, urllib.error.HTTPError):
                reason = f"HTTP {exc.code} {exc.reason}"
            else:
                reason = getattr(exc, "reason", None) or exc
            looked.append(f"3) download from {spec.url} failed: {reason}")
    raise FileNotFoundError(message(
        func, None, f"a local copy or a download of {filename!r} (dataset {name!r})", show_got=False,
        hint="Looked in: " + "; ".join(looked) + f". Set {config.MIRROR_ENV} to a folder holding "
             f"{name}/{filename}, or copy the original file into {raw.parent}."))


def _local_copy(name: str, filename: str) -> Path | None:
    raw = Path(config.RAW_DIR) / name / filename
    if raw.is_file():
        return raw
    mirror = config.data_mirror()
    if mirror is not None and (mirror / name / filename).is_file():
        return mirror / name / filename
    return None


def dataset_files() -> list[tuple[str, str, Path | None, str | None]]:
    """List every registered file with the local copy that would be used and its actual checksum.

    Returns
    -------
    list of tuple
        One ``(name, filename, path, sha256)`` per registered file, in registry order. ``path`` is the
        copy :func:`dataset_path` would use (``data/raw`` first, then the mirror) or None when neither
        has it; ``sha256`` is the digest of that copy as it is now (None without a copy). Nothing is
        downloaded and nothing is verified, so a corrupted copy shows its actual digest.

    Notes
    -----
    Used by ``tk.reporting.session_info()`` to record which data a notebook ran on. Digests are cached
    per (path, modification time, size).

    Examples
    --------
    >>> from toolkit.data.files import dataset_files
    >>> [(name, filename) for name, filename, path, sha in dataset_files()][:2]
    [('uci_facebook_metrics', 'dataset_Facebook.csv'), ('uci_live_sellers_thailand', 'Live_20210128.csv')]
    """
    out = []
    for name in _names():
        for filename in _file_specs(name):
            path = _local_copy(name, filename)
            out.append((name, filename, path, None if path is None else _sha256(path)))
    return out
