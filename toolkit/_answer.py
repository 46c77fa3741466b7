"""How an answer is written down: the :class:`Report` text type and the plain-text / HTML layout of an answer.

A foundation module (layer 0, ``tests/test_layers.py``) so that result classes of every layer can show
themselves the same way. The classes of layers 4-6 inherit :class:`toolkit._protocol.AnswerFirst`, whose text
is written by :mod:`toolkit.display`; :class:`toolkit.data.quality.QualityReport` (layer 1, below ``display``)
writes its own sentences and lays them out with the same two functions. ``toolkit.reporting.Report``,
``toolkit.display.answer_text`` and ``toolkit.display.answer_html`` are these objects, re-exported.
"""
from __future__ import annotations

import html


class Report(str):
    """Text of APA-style sentences that Jupyter renders as Markdown instead of an escaped string.

    A ``str`` subclass, so code that compares, searches or prints the text keeps working; the notebook
    shows it through ``_repr_markdown_`` (one paragraph per line, bullets kept).

    Examples
    --------
    >>> r = Report("First sentence.\\n- a reason")
    >>> isinstance(r, str), r == "First sentence.\\n- a reason"
    (True, True)
    >>> print(r._repr_markdown_())
    First sentence.
    <BLANKLINE>
    - a reason
    """

    def _repr_markdown_(self) -> str:
        blocks, previous_bullet = [], False
        for line in str(self).splitlines():
            if not line.strip():
                continue
            bullet = line.startswith("- ")
            text = ("- " + _escape_markdown(line[2:])) if bullet else _escape_markdown(line)
            if blocks and not (bullet and previous_bullet):
                blocks.append("")
            blocks.append(text)
            previous_bullet = bullet
        return "\n".join(blocks)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython terminal: the text, not its escaped repr
        p.text(str(self))


def _escape_markdown(text: str) -> str:
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text


def answer_html(sentences, table=None, details: str = "") -> str:
    """HTML of an answer: sentences as a paragraph, the compact table, optional folded details."""
    parts = ["<p>" + " ".join(html.escape(s) for s in sentences) + "</p>"]
    if table is not None and len(table):
        parts.append(table.to_html(index=False, escape=True))
    if details:
        parts.append(f"<details><summary>Details</summary>{details}</details>")
    return "\n".join(parts)


def answer_text(sentences, table=None) -> str:
    """Plain text of an answer: one sentence per line, a blank line, the table."""
    text = "\n".join(sentences)
    if table is not None and len(table):
        text += "\n\n" + table.to_string(index=False)
    return text
