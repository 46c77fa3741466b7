"""Progress reporting for the toolkit's long loops (the ``progress=`` argument).

``progress=False`` (the default) reports nothing; ``progress=True`` shows a ``tqdm.auto`` bar (a widget in
Jupyter, text in a terminal); a callable is called as ``progress(done, total, what)`` after each finished
item (``what`` names the items, e.g. "simulated replicates"). Reporting only observes the loop: every item
keeps its own seed and the results are the same with and without progress.
"""
from __future__ import annotations

import contextlib

from ._validation import message

PROGRESS_DOC = """progress : bool or callable, default False
        True shows a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal); a callable is
        called as ``progress(done, total, what)`` after each finished item. Results do not depend on it."""


def check_progress(progress, func: str):
    """`progress` when it is a bool or a callable; a TypeError saying what is allowed otherwise."""
    if isinstance(progress, bool) or callable(progress):
        return progress
    raise TypeError(message(func, "progress", "True, False or a callable progress(done, total, what)", progress))


@contextlib.contextmanager
def reporter(progress, *, total: int, what: str):
    """Yield ``report(done)`` for a loop of `total` items (None when `progress` is False)."""
    if progress is False or progress is None:
        yield None
        return
    if progress is not True:
        progress(0, total, what)
        yield lambda done: progress(done, total, what)
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=what, leave=True)
    try:
        yield lambda done: bar.update(done - bar.n)
    finally:
        bar.close()

