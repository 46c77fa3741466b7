"""The result protocol shared by every result class (see docs/DEVELOPING.md, "Result protocol").

A leaf module: the classes in ``stats``, ``models`` and the workflows inherit :class:`AnswerFirst`; the text itself
is written by :mod:`toolkit.display`, imported only when a result is shown.
"""
from __future__ import annotations


class AnswerFirst:
    """``summary()``, ``str``/``repr``, ``report()`` and the notebook display, all leading with the answer.

    Subclasses that are dataclasses use ``@dataclass(frozen=True, repr=False)`` so that the dataclass does not
    replace ``__repr__``; a class may override ``report`` or ``__repr__`` where it has more to say.
    """

    __slots__ = ()

    def summary(self, *, full: bool = False) -> str:
        """The answer in plain sentences, then a compact table; ``full=True`` appends every table and the APA
        sentences (see :mod:`toolkit.display` for what the answer says, and when it refuses to name a winner)."""
        from .display import summary

        return summary(self, full=full)

    def report(self):
        """The answer as sentences (a :class:`~toolkit.reporting.Report`, rendered as Markdown in Jupyter)."""
        from .display import report_of

        return report_of(self)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from .display import html_of

        return html_of(self)
