"""Shared helper of the benchmark scripts: each script owns one section of reports/benchmarks.md.

A section is delimited by HTML comments carrying its title, so a script can replace its own
section on every run without touching the sections written by the other scripts::

    <!-- Statistics vs peers: begin -->
    ## Statistics vs peers

    ...body...
    <!-- Statistics vs peers: end -->

Usage from a script in benchmarks/ (the script's folder is on ``sys.path``)::

    from _report import write_section
    write_section("Statistics vs peers", markdown_table)
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: reports/benchmarks.md at the project root (anchored at this file, not at the working directory).
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "reports" / "benchmarks.md"
HEADER = "# Benchmarks\n"


def _markers(title: str) -> tuple[str, str]:
    return f"<!-- {title}: begin -->", f"<!-- {title}: end -->"


def write_section(title: str, markdown_table: str, *, path: str | os.PathLike = DEFAULT_PATH) -> Path:
    """Replace the section called ``title`` in ``path``, or append it if the file has none.

    Parameters
    ----------
    title : str
        Section title; becomes the ``## title`` heading and the begin/end markers. Must be
        non-empty and on one line.
    markdown_table : str
        Body of the section (Markdown: usually a short description and a table).
    path : str or os.PathLike, default reports/benchmarks.md
        File to update; created (with a ``# Benchmarks`` heading) if missing.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    Everything outside the section's markers is kept byte for byte, so several scripts can
    share the file. The file is written to a temporary file in the same folder and then renamed
    over the old one, so a reader never sees half a file.
    """
    if not isinstance(title, str):
        raise TypeError(f"write_section: `title` must be a string; got {title!r}.")
    if not title.strip() or "\n" in title or "-->" in title:
        raise ValueError(f"write_section: `title` must be a non-empty one-line string without '-->'; "
                         f"got {title!r}.")
    path = Path(path)
    begin, end = _markers(title)
    block = f"{begin}\n## {title}\n\n{markdown_table.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if begin in text and end in text.split(begin, 1)[1]:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".benchmarks-", suffix=".md", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class tee_section:
    """Print as usual and also write everything printed as the section ``title`` of ``path``.

    For scripts that build their tables with ``print``: ``with tee_section("..."): main()``.
    The section is written only when the block finishes without an exception.
    """

    def __init__(self, title: str, *, path: str | os.PathLike = DEFAULT_PATH):
        self.title, self.path = title, path

    def __enter__(self):
        import io
        import sys

        self._buffer, self._stdout = io.StringIO(), sys.stdout
        outer = self

        class _Tee(io.TextIOBase):
            def write(self, text):
                outer._stdout.write(text)
                return outer._buffer.write(text)

            def flush(self):
                outer._stdout.flush()

        sys.stdout = _Tee()
        return self

    def __exit__(self, exc_type, exc, tb):
        import sys

        sys.stdout = self._stdout
        if exc_type is None:
            write_section(self.title, self._buffer.getvalue(), path=self.path)
        return False
