"""The house keeps its shape (docs/architecture.md): no import cycle between the project's
modules, and no two top-level packages that import each other, imports inside functions
included. The layers themselves are import-linter's contract (pyproject.toml), which
`make test` runs as `lint-imports`; this module checks what a layers contract does not:
cycles inside a package."""

import grimp
import pytest

PACKAGES = (
    "config",
    "casework",
    "reports",
    "privacy",
    "demo",
    "assessments",
    "grants",
    "applicants",
    "audit",
    "core",
)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def imports(graph):
    """{module: modules it imports}, migrations aside (they are history, not code that runs
    in a request)."""
    modules = {m for m in graph.modules if ".migrations" not in m}
    return {m: {t for t in graph.find_modules_directly_imported_by(m) if t in modules} for m in modules}


def cycles(edges):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_the_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_modules(graph):
    assert cycles(imports(graph)) == []


def test_no_two_packages_import_each_other(graph):
    edges = imports(graph)
    pairs = {
        (source.split(".")[0], target.split(".")[0])
        for source, targets in edges.items()
        for target in targets
        if source.split(".")[0] != target.split(".")[0]
    }
    assert sorted((a, b) for a, b in pairs if (b, a) in pairs) == []


def test_imports_inside_functions_are_seen(graph):
    """grimp reads every import statement, not only the module's top: the assessments
    app provides its workflow hooks from AppConfig.ready(), an import inside a method."""
    assert "assessments.services" in graph.find_modules_directly_imported_by("assessments.apps")
