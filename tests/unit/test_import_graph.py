"""Imports among idp's modules point one way: no cycles, counting imports inside functions too.

A cycle held together by imports inside functions still ties the modules together: moving one
of those imports to the top of its module breaks start-up. This reads the source (nothing is
imported) and names the modules of every cycle it finds.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "idp"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported_names(name: str, path: Path) -> set[str]:
    """Every idp module `name` imports, at the top or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    graph = {}
    for name, path in names.items():
        # A module importing its own package (`from idp.stages.email import links` in
        # idp.stages.email.stage) only runs that package's __init__, which runs first anyway.
        graph[name] = {
            target
            for target in imported_names(name, path)
            if target in names and target != name and not name.startswith(target + ".")
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def a_path(graph, start: str, members: set[str]) -> list[str]:
    """One concrete loop through `start` inside a cycle, for the failure message."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return [start]


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "idp.flows.executor" in graph["idp"]  # create_app imports it inside the function
    assert "idp.models" in graph["idp.flows.executor"]


def test_the_cycle_finder_finds_a_loop_held_by_an_inner_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert a_path(graph, "a", {"a", "b", "c"}) == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_idp():
    graph = import_graph()
    loops = [" -> ".join(a_path(graph, members[0], set(members))) for members in cycles(graph)]
    assert not loops, "import cycles:\n" + "\n".join(loops)
