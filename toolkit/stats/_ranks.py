"""One pooled ranking of all values, shared by the rank-based tests (kruskal, Dunn, Cliff's delta of all pairs).

``pooled_ranking(values)`` sorts once and returns what ``np.unique(values, return_inverse=True,
return_counts=True)`` would (dense codes and tie counts), plus the sort order, so that callers can get
mid-ranks, tie terms and each group's values in sorted order without sorting again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ranking:
    """Pooled ranking of n values.

    Attributes
    ----------
    order : numpy.ndarray
        ``np.argsort(values)``: positions of the values in ascending order.
    dense : numpy.ndarray
        int64 code 0..U-1 of each value's distinct value (in the original order).
    counts : numpy.ndarray
        Copies of each distinct value (length U, ascending values).
    """

    order: np.ndarray
    dense: np.ndarray
    counts: np.ndarray

    @property
    def n_unique(self) -> int:
        return int(self.counts.size)

    def midranks(self) -> np.ndarray:
        """Mid-ranks (1-based, ties averaged) of the values in their original order (= scipy.stats.rankdata)."""
        return (np.cumsum(self.counts) - (self.counts - 1.0) / 2.0)[self.dense]

    def tie_sum(self) -> float:
        """sum(t^3 - t) over tie groups."""
        t = self.counts.astype(np.float64)
        return float(np.sum(t ** 3 - t))

    def sorted_dense_by_group(self, codes: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
        """Each group's dense codes in ascending order (a stable split of the sorted values by group)."""
        dense_sorted = self.dense[self.order]
        group_sorted = codes[self.order]
        small = group_sorted.astype(np.int16 if sizes.size < 2 ** 15 else np.int64, copy=False)
        blocks = dense_sorted[np.argsort(small, kind="stable")]
        return np.split(blocks, np.cumsum(sizes)[:-1])


def pooled_ranking(values: np.ndarray) -> Ranking:
    """Sort ``values`` once; dense codes and tie counts as ``np.unique(..., return_inverse, return_counts)``."""
    order = np.argsort(values)
    srt = values[order]
    new = np.empty(srt.size, dtype=bool)
    new[:1] = True
    np.not_equal(srt[1:], srt[:-1], out=new[1:])
    dense_sorted = np.cumsum(new) - 1
    dense = np.empty(srt.size, dtype=np.int64)
    dense[order] = dense_sorted
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, srt.size))
    return Ranking(order=order, dense=dense, counts=counts)
