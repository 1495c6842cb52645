"""The shape of the code: no import cycles between modules, no long functions, no page of a
higher app named by a lower one, no logic written twice.

The layers between apps are checked by import-linter (`make lint`) on imports; a URL name is a
dependency no import shows, so it is checked here against the same layers. Plain tests, no
database.
"""

import ast
import itertools
import re
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

PACKAGES = (
    "kernel",
    "registry",
    "controls",
    "approvals",
    "access",
    "exceptions",
    "decisions",
    "directory",
    "credentials",
    "compliance",
    "agent_mcp",
    "portal",
)
ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
# Data, not logic: migrations are generated and the demo seeding is a script of fixtures.
LENGTH_EXEMPT = ("migrations", "portal/demo")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # grimp records imports inside functions too: a deferred import is still a dependency.
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is deeper than Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    imported = sorted(graph.find_modules_directly_imported_by(child))
                    work.append((child, iter(imported)))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                components.append(component)
    return components


def describe_cycle(graph: grimp.ImportGraph, component: set[str]) -> str:
    """One concrete cycle through the component, with the line of each import."""
    start = min(component)
    following = sorted(graph.find_modules_directly_imported_by(start) & component)[0]
    chain = (start, *graph.find_shortest_chain(importer=following, imported=start))
    steps = []
    for importer, imported in itertools.pairwise(chain):
        details = graph.get_import_details(importer=importer, imported=imported)
        lines = ", ".join(str(detail["line_number"]) for detail in details)
        steps.append(f"  {importer} -> {imported} (line {lines})")
    return f"cycle among {sorted(component)}:\n" + "\n".join(steps)


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    message = "\n".join(describe_cycle(graph, component) for component in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s):\n{message}"


def test_cycle_finder_sees_a_cycle() -> None:
    """The check above would fail on a cycle (guards against a finder that finds nothing)."""
    fake = grimp.ImportGraph()
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.d", "p.a")):
        fake.add_import(importer=importer, imported=imported, line_number=3, line_contents="")
    cycles = [component for component in strongly_connected(fake) if len(component) > 1]
    assert cycles == [{"p.a", "p.b", "p.c"}]
    assert "p.c -> p.a (line 3)" in describe_cycle(fake, cycles[0])


def application_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not any(f"/{part}/" in f"/{relative}" for part in LENGTH_EXEMPT):
                files.append(path)
    return files


def long_functions() -> list[str]:
    offenders = []
    for path in application_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    offenders.append(f"  {where} {node.name} ({length} lines)")
    return offenders


def test_functions_are_short() -> None:
    offenders = long_functions()
    assert not offenders, (
        f"{len(offenders)} function(s) longer than {MAX_FUNCTION_LINES} lines; split them:\n"
        + "\n".join(offenders)
    )


def test_files_are_found() -> None:
    """The length check reads the application (guards against a walk that reads nothing)."""
    names = {path.relative_to(ROOT).as_posix() for path in application_files()}
    assert "kernel/permissions.py" in names
    assert not any("/migrations/" in name or name.startswith("portal/demo/") for name in names)


def layers() -> dict[str, int]:
    """Each app's height in the layers contract of pyproject.toml (siblings share one)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    ordered = list(reversed(contract["layers"]))  # lowest first
    return {app.strip(): height for height, layer in enumerate(ordered) for app in layer.split("|")}


def url_owners() -> dict[str, set[str]]:
    """Each URL name ("namespace:name", or bare) and the apps whose URL confs define it, read
    from Django's resolver (so a router's "agent-list" is known as well as a written name)."""
    from django.urls import URLResolver, get_resolver

    owners: dict[str, set[str]] = {}

    def walk(resolver: URLResolver, namespace: str, app: str) -> None:
        module = resolver.urlconf_name  # a dotted path, a module, or a list of patterns
        dotted = module if isinstance(module, str) else getattr(module, "__name__", None)
        if dotted:
            app = dotted.split(".")[0]
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern, inner, app)
            elif pattern.name and app in PACKAGES:
                owners.setdefault(namespace + pattern.name, set()).add(app)

    walk(get_resolver(), "", "portal")
    return owners


NAMED = re.compile(r"[a-z_]+:[\w-]+")  # "namespace:name"
BARE = re.compile(r"[\w-]+")
TEMPLATE_URL = re.compile(r"""{% url ["']([\w:-]+)["']""")
REVERSERS = {"reverse", "reverse_lazy", "redirect", "resolve_url"}
NAME_KEYWORDS = {"viewname", "to"}


def _docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, nodes)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _reversed_name(node: ast.Call) -> ast.Constant | None:
    """The constant a reverse()-like call names, positional or by keyword."""
    function = node.func
    called = function.attr if isinstance(function, ast.Attribute) else ""
    called = function.id if isinstance(function, ast.Name) else called
    if called not in REVERSERS:
        return None
    given = [*node.args[:1], *(k.value for k in node.keywords if k.arg in NAME_KEYWORDS)]
    constant = next((arg for arg in given if isinstance(arg, ast.Constant)), None)
    return constant if constant is not None and isinstance(constant.value, str) else None


def _names_in_code(tree: ast.AST) -> list[tuple[int, str, bool]]:
    """(line, name, given to reverse()): any "namespace:name" string, and the bare name a
    reverse()-like call is given (a path such as "/x/" is not a name)."""
    docstrings, found, reversed_ = _docstrings(tree), [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (constant := _reversed_name(node)) is not None:
            reversed_.add(id(constant))
            if BARE.fullmatch(constant.value) or NAMED.fullmatch(constant.value):
                found.append((node.lineno, constant.value, True))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | reversed_
            and NAMED.fullmatch(node.value)
        ):
            found.append((node.lineno, node.value, False))
    return found


def url_references() -> list[tuple[str, str, str, bool]]:
    """(app, where, URL name, surely a URL name) for every URL an app's code or templates name.
    templates/<app>/ are that app's; the rest (base.html, error.html, audit/, outbox/) are the
    shell's frame and pages, shared by every app's pages."""
    found = []
    for path in application_files():
        app, where = path.relative_to(ROOT).parts[0], path.relative_to(ROOT)
        tree = ast.parse(path.read_text(), filename=str(path))
        found += [(app, f"{where}:{line}", name, sure) for line, name, sure in _names_in_code(tree)]
    for path in sorted((ROOT / "templates").rglob("*.html")):
        folder = path.relative_to(ROOT / "templates").parts[0]
        app = folder if folder in PACKAGES else "portal"
        for line, text in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{line}"
            found += [(app, where, name, True) for name in TEMPLATE_URL.findall(text)]
    return found


def upward_url_names(
    height: dict[str, int],
    owners: dict[str, set[str]],
    references: list[tuple[str, str, str, bool]],
) -> list[str]:
    """Each reference to a page of a higher app or a sibling, or to a name no URL conf of the
    application defines (a reverse() or {% url %} of a typo, a name defined elsewhere)."""
    offenders = []
    for app, where, name, sure in references:
        apps = owners.get(name)
        if apps is None:
            if sure and not name.startswith("admin:"):
                offenders.append(f"  {where}: {app} names {name}, which no URL conf defines")
        elif app not in apps and min(height[owner] for owner in apps) >= height[app]:
            offenders.append(f"  {where}: {app} names {name} ({', '.join(sorted(apps))})")
    return offenders


def test_pages_of_higher_apps_are_not_named_by_lower_ones() -> None:
    """A link from a lower app to a higher one (or a sibling) is registered by the higher app
    (a section, a link provider) instead: the lower app never names its pages."""
    offenders = upward_url_names(layers(), url_owners(), url_references())
    assert not offenders, "URL names pointing up, sideways or nowhere:\n" + "\n".join(offenders)


def test_the_url_check_reads_the_application_and_sees_an_offender() -> None:
    """The check above reads names and owners, and fails on what it is meant to catch."""
    height, owners = layers(), url_owners()
    assert height["controls"] > height["registry"] > height["kernel"]
    assert owners["exceptions:create"] == {"exceptions"}
    assert owners["deliveries"] == {"portal"}
    assert owners["agent-list"] == {"registry"}  # a router's name
    references = {(app, name) for app, _, name, _ in url_references()}
    assert ("compliance", "compliance:report") in references  # compliance/views.py
    assert ("access", "access:request-detail") in references  # access/refusals.py
    assert ("portal", "deliveries") in references  # portal/views.py, a redirect
    assert ("controls", "controls:index") in references  # a template
    assert ("portal", "dashboard") in references  # base.html, the shell's frame
    code = ast.parse('reverse(viewname="deliveries")\nredirect("/x/")\nX = "vault:read"\n')
    assert _names_in_code(code) == [(1, "deliveries", True), (3, "vault:read", False)]
    planted = [
        ("kernel", "kernel/x.py:1", "deliveries", True),
        ("access", "templates/access/x.html:2", "exceptions:create", True),
        ("access", "access/x.py:3", "acess:request-detail", True),
        ("access", "access/x.py:4", "vault:read", False),  # a capability key, not a URL
        ("portal", "portal/x.py:5", "exceptions:create", True),
    ]
    assert [line.split(":")[0].strip() for line in upward_url_names(height, owners, planted)] == [
        "kernel/x.py",
        "templates/access/x.html",
        "access/x.py",
    ]


# Lines that say nothing alone: a name or string in a list, brackets, imports, comments.
THIN_LINE = re.compile(r"""^([\w."'\[\]]+,?|[)\]}]+,?|\(|from .*|import .*|#.*|)$""")
COPY_LINES = 6


def copied_runs() -> list[str]:
    """Runs of COPY_LINES lines of logic (white space folded, thin lines skipped) that stand
    in more than one place of the application."""
    places: dict[tuple[str, ...], list[str]] = {}
    for path in application_files():
        numbered = enumerate(path.read_text().splitlines(), 1)
        kept = [(n, " ".join(line.split())) for n, line in numbered]
        kept = [(n, line) for n, line in kept if not THIN_LINE.match(line)]
        for start in range(len(kept) - COPY_LINES + 1):
            run = tuple(line for _, line in kept[start : start + COPY_LINES])
            places.setdefault(run, []).append(f"{path.relative_to(ROOT)}:{kept[start][0]}")
    return [" = ".join(where) for where in places.values() if len(where) > 1]


def test_no_logic_is_written_twice() -> None:
    """Six lines of logic, the same to the letter, in two places: make one piece of code serve
    (names of the same shape, URL lists, model fields are declarations, not copies)."""
    copies = copied_runs()
    assert not copies, f"{len(copies)} run(s) written twice:\n  " + "\n  ".join(copies)


def test_the_copy_finder_sees_a_copy(tmp_path, monkeypatch) -> None:
    """The same logic found though indented otherwise, spaced otherwise, and with thin lines
    (a name in a list, a bracket, a comment) between its lines in one place only."""
    steps = [f"total = total + {n}" for n in range(COPY_LINES)]
    (tmp_path / "a.py").write_text("def f():\n" + "".join(f"    {step}\n" for step in steps))
    thin = ["    'a',", "]", "# why"]
    b = "x = [\n"
    for index, step in enumerate(steps):
        b += step.replace(" + ", "  +  ") + "\n" + (thin[index] + "\n" if index < 3 else "")
    (tmp_path / "b.py").write_text(b)
    found = [tmp_path / "a.py", tmp_path / "b.py"]
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "application_files", lambda: found)
    assert copied_runs() == ["a.py:2 = b.py:2"]
