"""The dataset registry: which real datasets exist, where their files are, and how to load them.

``tk.list_datasets()`` describes the registered datasets (from ``toolkit/datasets/registry.csv``);
``tk.load_dataset(name)`` returns the canonical table and its :class:`~toolkit.data.quality.QualityReport`;
:func:`dataset_path` finds one file of a dataset and verifies its SHA-256 checksum.

Files are looked for in three places, in this order:

1. ``data/raw/<name>/<file>`` inside the project (``config.RAW_DIR``; raw data is never edited);
2. ``$TOOLKIT_DATA_MIRROR/<name>/<file>``, a read-only mirror of the original downloads
   (``config.data_mirror()``);
3. the original public URL, downloaded into ``data/raw/<name>/`` (written to a temporary file, verified,
   then renamed, so a failed download never leaves a partial file behind).

Every file is checked against the SHA-256 pinned in the registry, wherever it was found: a corrupted
or different copy fails loudly instead of silently changing results.
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
from typing import NamedTuple

import pandas as pd

from toolkit import config
from toolkit._validation import _did_you_mean, message
from toolkit.data.quality import QualityReport

#: The registry table shipped with the package.
REGISTRY_CSV = config.PACKAGE_DIR / "datasets" / "registry.csv"
#: Seconds to wait for the server when downloading an original file.
DOWNLOAD_TIMEOUT = 60.0

#: Columns returned by :func:`list_datasets`, in this order.
LIST_COLUMNS = ("name", "title", "level", "rows", "groupings", "citation", "doi", "licence", "source_url",
                "caveats")

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


class LoadedDataset(NamedTuple):
    """What :func:`load_dataset` returns; unpacks as ``data, report = tk.load_dataset(...)``."""

    data: pd.DataFrame
    report: QualityReport


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


def list_datasets() -> pd.DataFrame:
    """List the real datasets that :func:`load_dataset` can load.

    Returns
    -------
    pandas.DataFrame
        One row per dataset with columns

        - ``name`` (str): the name to pass to :func:`load_dataset`
        - ``title`` (str): short human-readable title
        - ``level`` (str): unit of one row, ``"post"`` (canonical post schema) or ``"account-date"``
          (one account on one sampling date)
        - ``rows`` (int): data rows in the source file (before any exclusion)
        - ``groupings`` (str): the natural grouping columns of the loaded table, ``|``-separated
        - ``citation`` (str): how to cite the data
        - ``doi`` (str): DOI of the paper to cite, missing when there is none
        - ``licence`` (str): licence or terms of use
        - ``source_url`` (str): the original public page
        - ``caveats`` (str): what to know before analysing it

    Notes
    -----
    Read from ``toolkit/datasets/registry.csv``, which also pins each file's SHA-256 checksum and
    download URL (see ``toolkit/datasets/README.md``). No data files are read: this works offline and
    without ``TOOLKIT_DATA_MIRROR``.

    Validated against the ``SOURCE.md`` provenance notes of each dataset (row counts and checksums are
    compared in ``tests/test_datasets.py``).

    References
    ----------
    .. [1] Moro, S., Rita, P., & Vala, B. (2016). Predicting social media performance metrics and
       evaluation of the impact on brand building. Journal of Business Research, 69(9), 3341-3351.
       https://doi.org/10.1016/j.jbusres.2016.02.010
    .. [2] Dehouche, N. (2020). Dataset on usage and engagement patterns for Facebook Live sellers in
       Thailand. Data in Brief, 30, 105661. https://doi.org/10.1016/j.dib.2020.105661

    Examples
    --------
    >>> import toolkit as tk
    >>> table = tk.list_datasets()
    >>> for name, level, rows in table[["name", "level", "rows"]].itertuples(index=False):
    ...     print(name, level, rows)
    uci_facebook_metrics post 500
    uci_live_sellers_thailand post 7050
    nyc_agency_social_media_usage account-date 5899
    """
    frame = pd.DataFrame(list(_registry_records()), columns=list(LIST_COLUMNS))
    frame["rows"] = frame["rows"].astype("int64")
    for column in LIST_COLUMNS:
        if column != "rows":
            frame[column] = frame[column].astype("str")
    frame["doi"] = frame["doi"].where(frame["doi"] != "")
    return frame.reset_index(drop=True)


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
    >>> from toolkit.data.registry import dataset_path
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
    >>> from toolkit.data.registry import dataset_files
    >>> [(name, filename) for name, filename, path, sha in dataset_files()][:2]
    [('uci_facebook_metrics', 'dataset_Facebook.csv'), ('uci_live_sellers_thailand', 'Live_20210128.csv')]
    """
    out = []
    for name in _names():
        for filename in _file_specs(name):
            path = _local_copy(name, filename)
            out.append((name, filename, path, None if path is None else _sha256(path)))
    return out


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def load_dataset(name: str, *, drop_duplicates: bool = False, normalize_agencies: bool = False) -> LoadedDataset:
    """Load a registered real dataset as a canonical table with its quality report.

    Parameters
    ----------
    name : str
        The registered dataset, one of ``"uci_facebook_metrics"``, ``"uci_live_sellers_thailand"``
        and ``"nyc_agency_social_media_usage"`` (see :func:`list_datasets`).
    drop_duplicates : bool, default=False
        ``"uci_live_sellers_thailand"`` only: exclude the 53 repeated posts (each listed as excluded, rule
        ``"repeated_post"``, in the report). By default they are kept and flagged.
    normalize_agencies : bool, default=False
        ``"nyc_agency_social_media_usage"`` only: replace agency label variants by the labels in
        ``toolkit/datasets/nyc_agency_aliases.csv`` (each changed cell recorded as repaired). By default
        variants are kept and flagged (rule ``"agency_label_variant"``).

    Returns
    -------
    LoadedDataset
        A named pair ``(data, report)``:

        - ``data`` (pandas.DataFrame): for ``level == "post"`` datasets, the canonical post schema
          (``toolkit.config.POST_SCHEMA``) plus dataset-specific extra columns; for
          ``"nyc_agency_social_media_usage"`` an account-by-date panel. The columns of each are listed
          in the adapters of ``toolkit.data.datasets``: :func:`~toolkit.data.datasets.load_uci_facebook_metrics`,
          :func:`~toolkit.data.datasets.load_uci_live_sellers_thailand`,
          :func:`~toolkit.data.datasets.load_nyc_agency_social_media_usage`.
        - ``report`` (QualityReport): every excluded, repaired or flagged row with its reason; notes
          record assumptions (time zone, dropped empty columns, file checksums).

    Raises
    ------
    ValueError
        Unknown dataset name (the message lists the names and suggests the closest), or an option that
        does not apply to the dataset.
    TypeError
        ``drop_duplicates`` or ``normalize_agencies`` not a bool.
    FileNotFoundError
        A data file could not be found or downloaded (see :func:`dataset_path`).

    Notes
    -----
    Files are located and checksum-verified by :func:`dataset_path`. The two post-level datasets are read
    through :func:`toolkit.read_posts`, so they get the same parsing and validation as user files; the
    adapters then add dataset-specific checks. Missing values stay missing (never read as zero).
    ``report.check(data)`` holds for every dataset.

    Validated against the row counts, missing-value counts and known quirks documented in each dataset's
    ``SOURCE.md`` (``tests/test_datasets.py``).

    References
    ----------
    .. [1] Moro, S., Rita, P., & Vala, B. (2016). Journal of Business Research, 69(9), 3341-3351.
       https://doi.org/10.1016/j.jbusres.2016.02.010
    .. [2] Dehouche, N. (2020). Data in Brief, 30, 105661. https://doi.org/10.1016/j.dib.2020.105661

    Examples
    --------
    >>> import toolkit as tk
    >>> data, report = tk.load_dataset("uci_live_sellers_thailand")
    >>> data.shape[0], report.n_rows_in, report.n_rows_kept
    (7050, 7050, 7050)
    >>> data, report = tk.load_dataset("uci_live_sellers_thailand", drop_duplicates=True)
    >>> report.n_rows_kept, report.n_rows_excluded
    (6997, 53)
    """
    func = "load_dataset"
    _record(name, func)
    for param, value in (("drop_duplicates", drop_duplicates), ("normalize_agencies", normalize_agencies)):
        if not isinstance(value, bool):
            raise TypeError(message(func, param, "True or False", value))
    if drop_duplicates and name != "uci_live_sellers_thailand":
        raise ValueError(message(func, "drop_duplicates", "False for dataset " + repr(name), drop_duplicates,
                                 "Only 'uci_live_sellers_thailand' has known repeated posts to drop."))
    if normalize_agencies and name != "nyc_agency_social_media_usage":
        raise ValueError(message(func, "normalize_agencies", "False for dataset " + repr(name),
                                 normalize_agencies,
                                 "Agency labels exist only in 'nyc_agency_social_media_usage'."))

    from toolkit.data import datasets  # adapters import this module; import them lazily

    if name == "uci_facebook_metrics":
        data, report = datasets.load_uci_facebook_metrics()
    elif name == "uci_live_sellers_thailand":
        data, report = datasets.load_uci_live_sellers_thailand(drop_duplicates=drop_duplicates)
    elif name == "nyc_agency_social_media_usage":
        data, report = datasets.load_nyc_agency_social_media_usage(normalize_agencies=normalize_agencies)
    else:  # pragma: no cover - registry.csv and the adapters are kept in step by tests
        raise ValueError(message(func, "name", "a dataset with an adapter in toolkit.data.datasets", name))
    return LoadedDataset(data, report)
