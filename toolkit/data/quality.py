"""The quality report that accompanies every loaded table: nothing is lost silently.

Every row that a loader excludes, repairs or flags gets one entry with its original row number
and the reason. The accounting identity ``n_rows_in == n_rows_kept + n_rows_excluded`` always
holds, and :meth:`QualityReport.check` verifies it against the returned data.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._answer import Report, answer_html, answer_text

#: What happened to a row.
ACTIONS = ("excluded", "repaired", "flagged")

ENTRY_COLUMNS = ("source_row", "post_id", "column", "action", "rule", "message", "original_value", "new_value")


def _any_in(values: "np.ndarray", wanted: "np.ndarray") -> bool:
    """Whether any of ``values`` is in ``wanted`` (non-negative row numbers: a lookup table, no sorting)."""
    if len(values) and len(wanted) and values.min() >= 0 and wanted.min() >= 0:
        top = int(max(values.max(), wanted.max())) + 1
        if top <= 4 * (len(values) + len(wanted)) + 1024:
            mark = np.zeros(top, dtype=bool)
            mark[wanted] = True
            return bool(mark[values].any())
    return bool(np.isin(values, wanted).any())


class DataQualityError(ValueError):
    """Raised by loaders in ``strict=True`` mode on the first quality problem."""


@dataclass
class QualityReport:
    """Row-level account of what a loader did to its input.

    Attributes
    ----------
    source : str
        Where the data came from (path, dataset name or "DataFrame").
    n_rows_in : int
        Data rows read from the source (header not counted).
    notes : list of str
        Dataset-level facts: detected encoding and delimiter, column mapping, normalisations applied.
    entries : pandas.DataFrame
        One row per (row, problem) with columns

        - ``source_row``: 1-based data-row number in the source (joins to ``data["source_row"]``)
        - ``post_id``: the row's post id when known
        - ``column``: the canonical column concerned (or "" for whole-row problems)
        - ``action``: "excluded" (row removed), "repaired" (value changed) or "flagged" (kept as is)
        - ``rule``: short machine-readable rule name, e.g. "negative_count", "duplicate_row"
        - ``message``: what was wrong, in words
        - ``original_value`` / ``new_value``: the value before and after a repair, as text
    """

    source: str = "DataFrame"
    n_rows_in: int = 0
    notes: list[str] = field(default_factory=list)
    _entries: list[dict[str, Any]] = field(default_factory=list, repr=False)

    # -- building -----------------------------------------------------------------------------
    def add(self, *, source_row, action: str, rule: str, message: str, column: str = "", post_id=None,
            original_value=None, new_value=None) -> None:
        """Record one problem for one row."""
        if action not in ACTIONS:
            raise ValueError(f"QualityReport.add: `action` must be one of {ACTIONS}; got {action!r}.")
        self._entries.append({
            "source_row": int(source_row),
            "post_id": None if post_id is None or (isinstance(post_id, float) and post_id != post_id)
            else str(post_id),
            "column": column,
            "action": action,
            "rule": rule,
            "message": message,
            "original_value": None if original_value is None else str(original_value),
            "new_value": None if new_value is None else str(new_value),
        })

    def note(self, text: str) -> None:
        """Record a dataset-level fact (encoding, delimiter, mapping, normalisation)."""
        self.notes.append(text)

    def extend(self, other: "QualityReport") -> None:
        """Append the entries and notes of another report on the same rows."""
        self._entries.extend(other._entries)
        self.notes.extend(other.notes)

    # -- reading ------------------------------------------------------------------------------
    @property
    def entries(self) -> pd.DataFrame:
        frame = pd.DataFrame(self._entries, columns=list(ENTRY_COLUMNS))
        frame["source_row"] = frame["source_row"].astype("Int64")
        rank = frame["action"].map({a: i for i, a in enumerate(ACTIONS)}).astype("int64")
        frame = frame.assign(_rank=rank).sort_values(["source_row", "_rank"], kind="stable")
        return frame.drop(columns="_rank").reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Return the entries as a tidy table, one row per (row, problem) (same as :attr:`entries`); the
        counts per reason are :meth:`by_reason`."""
        return self.entries

    @property
    def excluded_rows(self) -> list[int]:
        """Sorted source rows that were excluded (each counted once)."""
        return sorted({e["source_row"] for e in self._entries if e["action"] == "excluded"})

    @property
    def n_rows_excluded(self) -> int:
        return len(self.excluded_rows)

    @property
    def n_rows_kept(self) -> int:
        return self.n_rows_in - self.n_rows_excluded

    @property
    def n_rows_repaired(self) -> int:
        return len({e["source_row"] for e in self._entries if e["action"] == "repaired"})

    @property
    def n_rows_flagged(self) -> int:
        return len({e["source_row"] for e in self._entries if e["action"] == "flagged"})

    def by_reason(self) -> pd.DataFrame:
        """Counts of affected rows per action and rule: the table that ``summary()`` shows under the answer.

        Returns
        -------
        pandas.DataFrame
            One row per (action, rule, column), excluded first, then repaired, then flagged, each by
            decreasing count; columns ``action``, ``rule``, ``column``, ``n_rows`` (distinct source rows)
            and ``example_rows`` (up to five source-row numbers, comma-separated). Empty (same columns)
            when no row was excluded, repaired or flagged. Until this release ``summary()`` returned this
            table; it now returns the answer in words, like every result (docs/GLOSSARY.md).
        """
        if not self._entries:
            return pd.DataFrame(columns=["action", "rule", "column", "n_rows", "example_rows"])
        e = self.entries
        grouped = e.groupby(["action", "rule", "column"], sort=True)["source_row"]
        out = grouped.agg(n_rows="nunique",
                          example_rows=lambda s: ", ".join(str(v) for v in sorted(s.unique())[:5])).reset_index()
        order = {a: i for i, a in enumerate(ACTIONS)}
        out = out.sort_values(["action", "n_rows"], key=lambda c: c.map(order) if c.name == "action" else -c,
                              kind="stable")
        return out.reset_index(drop=True)

    def check(self, data: pd.DataFrame | None = None) -> None:
        """Verify the accounting identity (and, given ``data``, that its rows match the kept rows)."""
        excluded = set(self.excluded_rows)
        if self.n_rows_kept + len(excluded) != self.n_rows_in:
            raise AssertionError("QualityReport: rows in != rows kept + rows excluded")
        if data is not None:
            if len(data) != self.n_rows_kept:
                raise AssertionError(f"QualityReport: data has {len(data)} rows but the report keeps "
                                     f"{self.n_rows_kept} of {self.n_rows_in} (excluded {len(excluded)})")
            if "source_row" in data.columns:
                kept = np.asarray(data["source_row"], dtype="int64")
                if excluded and _any_in(kept, np.fromiter(excluded, dtype="int64", count=len(excluded))):
                    raise AssertionError("QualityReport: some excluded rows are still in the data")
                if not (np.diff(kept) > 0).all() and len(np.unique(kept)) != len(data):
                    raise AssertionError("QualityReport: source_row is not unique in the data")

    def raise_first(self) -> None:
        """Raise :class:`DataQualityError` describing the first problem, if any (strict mode)."""
        if self._entries:
            e = self._entries[0]
            where = f"row {e['source_row']}" + (f", column {e['column']!r}" if e["column"] else "")
            raise DataQualityError(f"{self.source}: {where}: {e['message']} (rule {e['rule']!r}, would be "
                                   f"{e['action']}). Fix the source, or call with strict=False to get the "
                                   f"full QualityReport instead.")

    # -- display: the result protocol (docs/DEVELOPING.md, "Result protocol") ---------------------
    # QualityReport lives in the data layer, below toolkit.display, so it writes its own sentences; the layout
    # (answer_text / answer_html) and the Report type are the ones every other result uses (toolkit._answer).
    def _sentences(self) -> list[str]:
        rows = "row" if self.n_rows_in == 1 else "rows"
        first = (f"{self.source}: {self.n_rows_in} {rows} in, {self.n_rows_kept} kept, {self.n_rows_excluded} "
                 f"excluded (rows in = kept + excluded); {self.n_rows_repaired} repaired, "
                 f"{self.n_rows_flagged} flagged.")
        if not self._entries:
            return [first, "Every row was kept as read: nothing was excluded, repaired or flagged."]
        table = self.by_reason()
        out = [first]
        for action in ACTIONS:
            part = table[table["action"] == action]
            if len(part):
                reasons = "; ".join(f"{r.rule}" + (f" in {r.column}" if r.column else "")
                                    + f" ({r.n_rows} row{'' if r.n_rows == 1 else 's'})"
                                    for r in part.itertuples())
                out.append(f"{action.capitalize()}: {reasons}.")
        return out

    def summary(self, *, full: bool = False) -> str:
        """The answer in words (rows in, kept, excluded, repaired, flagged, and why), the notes, then the
        per-reason table of :meth:`by_reason`; ``full=True`` appends every entry (:meth:`to_frame`).

        Changed in this release: ``summary()`` used to return the per-reason DataFrame, which is now
        :meth:`by_reason` (docs/GLOSSARY.md, "Behaviour changes").
        """
        lines = self._sentences() + [f"note: {n}" for n in self.notes]
        text = answer_text(lines, self.by_reason())
        if full:
            if self._entries:
                text += "\n\nEntries (one per row and problem):\n" + self.entries.to_string(index=False)
        elif self._entries:
            text += ("\n\nMore: .summary(full=True) lists every entry, .by_reason() is the table above as a "
                     "DataFrame, .to_frame() has one row per row and problem.")
        return text

    def report(self) -> Report:
        """The answer as sentences, with the notes as bullets (a :class:`~toolkit.reporting.Report`)."""
        return Report("\n".join(self._sentences() + [f"- {n}" for n in self.notes]))

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        details = f"<b>Notes</b><ul>{notes}</ul>" if notes else ""
        if self._entries:
            shown = self.entries.head(_HTML_ENTRIES)
            more = (f" (first {_HTML_ENTRIES} of {len(self._entries)}; .to_frame() has all)"
                    if len(self._entries) > _HTML_ENTRIES else "")
            details += f"<b>Entries{html.escape(more)}</b>" + shown.to_html(index=False, escape=True)
        return answer_html(self._sentences(), self.by_reason(), details)


#: Entries shown (folded) in the notebook display; ``to_frame()`` has all.
_HTML_ENTRIES = 50
