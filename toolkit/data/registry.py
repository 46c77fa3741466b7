"""The dataset registry: which real datasets exist, where their files are, and how to load them.

``tk.list_datasets()`` describes the registered datasets (from ``toolkit/data/catalog/registry.csv``);
``tk.load_dataset(name)`` returns the canonical table and its :class:`~toolkit.data.quality.QualityReport`;
:func:`dataset_path` finds one file of a dataset and verifies its SHA-256 checksum (it lives in the leaf
:mod:`toolkit.data.files`, shared with the adapters of :mod:`toolkit.data.datasets`, and is re-exported here).

Where files are looked for (``data/raw/``, then ``$TOOLKIT_DATA_MIRROR``, then the original URL) and how
every copy is checked against its pinned SHA-256 is documented once, in :mod:`toolkit.data.files`.
"""
from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from toolkit._validation import message
# File lookup and checksums live in the leaf toolkit.data.files (shared with the adapters in
# toolkit.data.datasets); the names below keep their old import path toolkit.data.registry.<name>.
from toolkit.data.files import (DOWNLOAD_TIMEOUT, REGISTRY_CSV, FileSpec, _file_specs, _names,  # noqa: F401
                                _record, _registry_records, _sha256, dataset_files, dataset_path)
from toolkit.data.quality import QualityReport

#: Columns returned by :func:`list_datasets`, in this order.
LIST_COLUMNS = ("name", "title", "level", "rows", "groupings", "citation", "doi", "licence", "source_url",
                "caveats")


class LoadedDataset(NamedTuple):
    """What :func:`load_dataset` returns; unpacks as ``data, report = tk.load_dataset(...)``."""

    data: pd.DataFrame
    report: QualityReport


# ---------------------------------------------------------------------------------------------
# Registry table
# ---------------------------------------------------------------------------------------------
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

    See Also
    --------
    read_posts : Read a post-level export into the canonical table, with a report of every change.
    load_dataset : Load a registered real dataset as a canonical table with its quality report.
    check_engagement : Flag engagement-specific data problems (repeated counts, placeholder times, disjoint
        periods).

    Notes
    -----
    Read from ``toolkit/data/catalog/registry.csv``, which also pins each file's SHA-256 checksum and
    download URL (see ``toolkit/data/catalog/README.md``). No data files are read: this works offline and
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
        ``toolkit/data/catalog/nyc_agency_aliases.csv`` (each changed cell recorded as repaired). By default
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

    See Also
    --------
    read_posts : Read a post-level export into the canonical table, with a report of every change.
    list_datasets : List the real datasets that :func:`load_dataset` can load.
    check_engagement : Flag engagement-specific data problems (repeated counts, placeholder times, disjoint
        periods).

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

    from toolkit.data import datasets

    if name == "uci_facebook_metrics":
        data, report = datasets.load_uci_facebook_metrics()
    elif name == "uci_live_sellers_thailand":
        data, report = datasets.load_uci_live_sellers_thailand(drop_duplicates=drop_duplicates)
    elif name == "nyc_agency_social_media_usage":
        data, report = datasets.load_nyc_agency_social_media_usage(normalize_agencies=normalize_agencies)
    else:  # pragma: no cover - registry.csv and the adapters are kept in step by tests
        raise ValueError(message(func, "name", "a dataset with an adapter in toolkit.data.datasets", name))
    return LoadedDataset(data, report)
