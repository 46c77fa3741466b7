"""The layering of ``toolkit/`` is true: every import points down or sideways, and no modules import each other.

The test reads the source with :mod:`ast` (nothing is imported), so it sees every ``import`` and
``from ... import`` statement, the ones inside functions (lazy imports) included, with relative imports
resolved. ``from toolkit import name`` and ``from toolkit.data import name`` resolve through the lazy
``_EXPORTS`` tables of those packages to the module that defines ``name``; a bare ``import toolkit`` (the
lazy front door, which reaches every module on demand) is not an edge. Imports built at run time
(``importlib.import_module``) are outside what this test can see; the only ones are the two ``_EXPORTS``
front doors.

The diagram and the known exceptions are shown in ``docs/DEVELOPING.md`` ("Layers"); keep the two in step.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "toolkit"

#: Layers, lowest first. A module belongs to the entry with the longest matching prefix. A module may import
#: from its own layer or any lower one, never from a higher one. A new module must be given a layer here.
LAYERS: dict[str, int] = {
    # 0 foundation: argument checks and messages, shared docstring text, paths and settings, progress bars
    "toolkit._validation": 0, "toolkit._docstrings": 0, "toolkit.config": 0, "toolkit._progress": 0,
    # ... and how an answer is written down (the Report text type, the answer layout shared by every result)
    "toolkit._answer": 0,
    # 1 data in: reading, profiles, quality reports, the dataset registry and adapters
    "toolkit.data": 1,
    "toolkit.data.collection": 1,  # many files -> one table + one report, pandas only (both read_posts engines)
    # 2 tables: metrics, account-level reduction (and the same on Dask), simulated organisations
    "toolkit.metrics": 2, "toolkit.aggregate": 2, "toolkit.distributed": 2, "toolkit.simulation": 2,
    # 3 presentation: the result protocol and the text of numbers and results. Results of layers 4-5 show
    # themselves through these, which know results only by their attributes (duck typing), never by import.
    "toolkit._protocol": 3, "toolkit.reporting": 3, "toolkit.display": 3,
    # 4 methods: tests, effect sizes, multiplicity, count and multilevel models, audience growth, survey items
    "toolkit.stats": 4, "toolkit.models": 4, "toolkit.survey": 4,
    # 5 workflows: choose and combine methods (compare_groups, robustness, power, plans)
    "toolkit.compare": 5, "toolkit.robustness": 5, "toolkit.power": 5, "toolkit.plans": 5,
    # 6 notebook support: plots, recorded headlines, exercises
    "toolkit.plots": 6, "toolkit.headlines": 6, "toolkit.exercises": 6,
    # 7 interactive explorers
    "toolkit.widgets": 7,
}

#: Imports that break the rules today, each with the reason it is not fixed yet. The test fails when a new
#: violation appears *and* when an entry here is no longer needed (delete it then). Each cycle is listed by
#: the one edge that closes it (usually the lazy import inside a function).
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
}

#: Cycles between packages (``toolkit.data``, ``toolkit.stats``, ``toolkit.models``, and each top-level
#: module on its own), listed by the module edge that closes them, with the reason.
KNOWN_PACKAGE_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _module_names() -> dict[str, tuple[Path, bool]]:
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if package else parts)] = (path, package)
    return modules


MODULES = _module_names()


def _lazy_exports(package: str) -> dict[str, str]:
    """The ``_EXPORTS`` table (public name -> module) of a package with a lazy ``__init__``, if any."""
    path, _ = MODULES[package]
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "_EXPORTS":
            return ast.literal_eval(node.value)
    return {}


def _owner(name: str) -> str | None:
    """The longest prefix of ``name`` that is a toolkit module (``toolkit.data.registry.dataset_path`` ->
    ``toolkit.data.registry``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _source(module: str, package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` in ``module`` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = (module if package else module.rpartition(".")[0]).split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, package: bool, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [_owner(alias.name) for alias in node.names if alias.name.startswith("toolkit.")]
    if not isinstance(node, ast.ImportFrom):
        return []
    source = _source(module, package, node)
    if not (source == "toolkit" or source.startswith("toolkit.")):
        return []
    out = []
    for alias in node.names:
        if f"{source}.{alias.name}" in MODULES:  # a submodule: from toolkit.data import parsing
            out.append(f"{source}.{alias.name}")
        elif source in MODULES and MODULES[source][1] and alias.name in _lazy_exports(source):
            out.append(_lazy_exports(source)[alias.name])  # through a lazy front door
        else:
            out.append(_owner(source))
    return out


def import_edges() -> dict[tuple[str, str], list[int]]:
    """(importer, imported) -> line numbers, over every import statement of every toolkit module."""
    edges: dict[tuple[str, str], list[int]] = defaultdict(list)
    for module, (path, package) in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for target in _targets(module, package, node):
                if target not in (None, "toolkit", module):
                    edges[(module, target)].append(node.lineno)
    return dict(edges)


def layer(module: str) -> int:
    prefixes = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    if not prefixes:
        raise KeyError(module)
    return LAYERS[max(prefixes, key=len)]


def _cycles(edges) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph[b]
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(root):
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop(); on_stack.discard(member); component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]; counter[0] += 1
                stack.append(child); on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


EDGES = import_edges()


def test_the_walk_sees_lazy_and_relative_imports():
    # guards the walker itself, on real modules ...
    assert ("toolkit.models.results", "toolkit.models.terms") in EDGES   # inside a method, relative
    assert ("toolkit.display", "toolkit.reporting") in EDGES              # module level, relative
    assert ("toolkit.data.reading", "toolkit.data.parsing") in EDGES      # from toolkit.data import parsing
    assert ("toolkit.stats.cluster", "toolkit.config") in EDGES           # from .. import config, in a function
    assert len(MODULES) > 50
    # ... and on made-up source: front-door names resolve to their defining module
    source = ast.parse("def f():\n    from toolkit import compare_groups\n    from .. import reporting\n"
                       "    from ..data import load_dataset\n    import toolkit.stats.multitest as mt\n")
    found = [t for node in ast.walk(source) for t in _targets("toolkit.stats.cluster", False, node)]
    assert found == ["toolkit.compare", "toolkit.reporting", "toolkit.data.registry", "toolkit.stats.multitest"]


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if m != "toolkit" and not any(m == p or m.startswith(p + ".") for p in LAYERS)]
    assert not missing, f"give these modules a layer in tests/test_layers.py LAYERS (and docs/DEVELOPING.md): {missing}"


def test_no_import_points_up():
    upward = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)}) at line(s) {sorted(set(lines))}"
              for (a, b), lines in sorted(EDGES.items())
              if a != "toolkit" and layer(a) < layer(b) and (a, b) not in KNOWN_EXCEPTIONS]
    assert not upward, "imports that point to a higher layer:\n" + "\n".join(upward)


def test_no_module_cycle():
    edges = [e for e in EDGES if "toolkit" not in e and e not in KNOWN_EXCEPTIONS]
    cycles = _cycles(edges)
    assert not cycles, ("modules that import each other (directly or through others, lazy imports included): "
                        f"{cycles}")


def test_no_package_cycle():
    edges = {(_package(a), _package(b)) for (a, b) in EDGES
             if "toolkit" not in (a, b) and (a, b) not in KNOWN_EXCEPTIONS
             and (a, b) not in KNOWN_PACKAGE_EXCEPTIONS and _package(a) != _package(b)}
    cycles = _cycles(edges)
    assert not cycles, f"packages that import each other: {cycles}"


@pytest.mark.parametrize("edge", sorted(KNOWN_EXCEPTIONS) + sorted(KNOWN_PACKAGE_EXCEPTIONS))
def test_every_known_exception_is_still_needed(edge):
    a, b = edge
    assert edge in EDGES, f"{a} no longer imports {b}: delete the entry from KNOWN_EXCEPTIONS"
    if edge in KNOWN_EXCEPTIONS:
        rest = [e for e in EDGES if "toolkit" not in e and (e not in KNOWN_EXCEPTIONS or e == edge)]
        needed = layer(a) < layer(b) or any(a in c and b in c for c in _cycles(rest))
    else:
        rest = {(_package(x), _package(y)) for (x, y) in EDGES if "toolkit" not in (x, y)
                and (x, y) not in KNOWN_EXCEPTIONS
                and ((x, y) not in KNOWN_PACKAGE_EXCEPTIONS or (x, y) == edge) and _package(x) != _package(y)}
        needed = any(_package(a) in c and _package(b) in c for c in _cycles(rest))
    assert needed, f"{a} -> {b} no longer breaks a rule: delete its entry from the known exceptions"


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and part != "__init__" for part in dotted.split(".")[1:])


def _private_imports_in(module: str, package: bool, tree: ast.AST) -> list[tuple[str, str, int]]:
    """(importer, imported dotted name, line) for every import in ``tree`` of a private name (a ``_name``
    module or attribute) that crosses a package boundary. Exempt: foundation modules (layer 0:
    ``_validation``, ``_docstrings``, ``_progress``, ``_answer``, ``config``), the toolkit-wide toolbox, and
    the public names of the other top-level ``toolkit/_*.py`` modules (``_protocol.AnswerFirst``): private
    to the toolkit, shared within it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [(alias.name, _owner(alias.name)) for alias in node.names if alias.name.startswith("toolkit.")]
        elif isinstance(node, ast.ImportFrom):
            source = _source(module, package, node)
            names = [(f"{source}.{alias.name}", target)
                     for alias, target in zip(node.names, _targets(module, package, node))]
        else:
            continue
        for dotted, target in names:
            if target in (None, "toolkit", module) or layer(target) == 0:
                continue
            toolbox = target.count(".") == 1 and target.startswith("toolkit._") \
                and not dotted[len(target) + 1:].startswith("_")
            if _private(dotted) and not toolbox and _package(module) != _package(target):
                found.append((module, dotted, node.lineno))
    return found


def private_imports() -> list[tuple[str, str, int]]:
    return [hit for module, (path, package) in MODULES.items()
            for hit in _private_imports_in(module, package, ast.parse(path.read_text(encoding="utf-8")))]


def test_no_private_name_crosses_a_package():
    # a module of another package is used through its public names only (the seams: stats.prepare,
    # stats.schema, stats.icc, stats.cluster.count_accounts_per_group, aggregate.partial_sums, ...)
    offending = private_imports()
    assert not offending, ("private names imported from another package (give the module a public seam): "
                           + "; ".join(f"{a} imports {b} (line {n})" for a, b, n in offending))


def test_the_private_name_check_can_fail():
    assert _private("toolkit.stats._ranks.rank") and _private("toolkit.metrics._inputs")
    assert not _private("toolkit.stats.schema.frame") and not _private("toolkit.data.__init__")
    # on made-up source: private modules or names of another package are caught; the own package's, the
    # foundation's and the top-level toolbox's public names are not
    code = ("def f():\n    from .stats._ranks import pooled_ranks\n    from .metrics import _inputs\n"
            "    from ._validation import _did_you_mean\n    from ._protocol import AnswerFirst\n")
    hits = [b for _, b, _ in _private_imports_in("toolkit.compare", False, ast.parse(code))]
    assert hits == ["toolkit.stats._ranks.pooled_ranks", "toolkit.metrics._inputs"]
    own = _private_imports_in("toolkit.stats.omnibus", False, ast.parse("from ._ranks import pooled_ranks"))
    assert own == []
