"""The house's layering, read from the source: every import statement under src/solti.

Each module is parsed with ``ast`` (imports inside functions count too: they are the ones a
cycle hides behind), so the graph is what the code says, not what a run happened to load.
The rules are the ones HACKING.md draws: no cycles; provisioning knows nothing of Slack, the
bot or the sandbox; the bot knows nothing of proxmoxer; only the entry points and the
composition root reach into the sandbox.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Edges tolerated for a while during a move, as (importer, imported) module names. Empty: a
# new entry needs a reason in a comment and an issue that removes it.
KNOWN_UNTIL_MERGE: set[tuple[str, str]] = set()  # empty: every edge obeys the rules


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def _resolve(importer: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, type_checking: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth; those under ``if TYPE_CHECKING:`` only when asked."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node) and not type_checking:
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


@cache
def imports(type_checking: bool = True) -> dict[str, set[str]]:
    """Module -> every module name it imports (solti's own and third-party), anywhere in it.

    ``from package import name`` counts as importing ``package.name`` when that is a module
    of ours, else ``package``. ``type_checking=False`` leaves out imports under
    ``if TYPE_CHECKING:``, which never run.
    """
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _import_nodes(tree, type_checking=type_checking):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = _resolve(name, node, path.name == "__init__.py")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in known else base)
        graph[name] = targets
    return graph


def run_time_edges() -> dict[str, set[str]]:
    """Solti's own modules and the imports among them that run (``TYPE_CHECKING`` ones never
    do, so they cannot make a cycle), less the known edges awaiting a merge."""
    known = modules()
    return {
        name: {t for t in targets if t in known and (name, t) not in KNOWN_UNTIL_MERGE}
        for name, targets in imports(type_checking=False).items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None (iterative depth-first search).

    A package's ``__init__`` importing its own submodules is not a cycle at run time when
    the submodule imports the package's siblings, so edges from a submodule to its own
    package are left out: Python finishes ``a.b`` before ``a`` looks at it again.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in sorted(graph):
        if colour[root] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(_deps(graph, root)))]
        colour[root] = grey
        path = [root]
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = black
                stack.pop()
                path.pop()
                continue
            nxt = pending.pop()
            if colour.get(nxt, black) == grey:
                return [*path[path.index(nxt) :], nxt]
            if colour.get(nxt) == white:
                colour[nxt] = grey
                path.append(nxt)
                stack.append((nxt, sorted(_deps(graph, nxt))))
    return None


def _deps(graph: dict[str, set[str]], node: str) -> set[str]:
    return {t for t in graph[node] if not node.startswith(t + ".")}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _offenders(importers: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, targets in imports().items()
        if _in(name, importers)
        for target in targets
        if any(_in(target, f) for f in forbidden) and (name, target) not in KNOWN_UNTIL_MERGE
    )


def test_the_walk_sees_the_whole_tree_and_function_level_imports() -> None:
    """The walk itself: it finds the packages, and an import inside a function is an edge."""
    graph = imports()
    assert {"solti.cli", "solti.composition", "solti.bot.app", "solti.provisioning"} <= set(graph)
    # solti.cli imports each verb inside a small loader function, never at the top.
    assert "solti.provisioning.cli.vm" in graph["solti.cli"]
    source = "import a\nif TYPE_CHECKING:\n    import b\ndef f():\n    import c\n"
    walked = [n.names[0].name for n in _import_nodes(ast.parse(source), type_checking=False)]
    assert sorted(walked) == ["a", "c"]  # type-only imports never run, function-level ones do
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    assert find_cycle(run_time_edges()) is None


def test_provisioning_knows_nothing_of_slack_the_bot_or_the_sandbox() -> None:
    forbidden = ("slack_sdk", "slack_bolt", "solti.bot", "solti.sandbox", "solti.composition")
    assert _offenders("solti.provisioning", forbidden) == []


def test_the_bot_never_talks_to_proxmox_itself() -> None:
    assert _offenders("solti.bot", ("proxmoxer", "solti.sandbox")) == []


@pytest.mark.parametrize("package", ["solti.telemetry", "solti.provisioning", "solti.bot"])
def test_nothing_below_the_entry_points_imports_the_sandbox(package: str) -> None:
    assert _offenders(package, ("solti.sandbox",)) == []


def _outside(imported: str, allowed: tuple[str, ...]) -> list[str]:
    return [
        line
        for line in _offenders("solti", (imported,))
        if not any(_in(line.split(" imports ")[0], a) for a in allowed)
    ]


def test_only_the_console_script_and_the_sandbox_itself_import_the_sandbox() -> None:
    """The sandbox is the world tests run in; of the product, only `solti sim`/`sandbox` use it."""
    assert _outside("solti.sandbox", ("solti.cli", "solti.sandbox")) == []


def test_only_entry_points_import_the_composition_root() -> None:
    entry_points = ("solti.cli", "solti.bot_command", "solti.bot.wsgi", "solti.sandbox.console")
    assert _outside("solti.composition", entry_points) == []


def test_no_two_modules_share_a_name() -> None:
    """A reader who meets ``snapshots`` or ``progress`` should not have to ask which one
    (issue 10, "Names"): every module under src/solti has a file name of its own, apart from
    the ``__init__``/``__main__`` each package has."""
    seen: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.name, []).append(str(path.relative_to(SRC)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
