"""The layers of docs/architecture.md ("Layers and import rules"), checked on the source.

Every `import marketred.…` in `marketred/` is an arrow from one layer to another; an arrow
the rules do not allow is listed with its file and line. `if TYPE_CHECKING:` imports of
ORM model classes (`marketred.store.models`) are type names only and allowed to the
request layers; nothing else is exempt.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "marketred"

# Layer of each top-level part of `marketred` (a subpackage or a module).
FOUNDATION = {"__init__", "settings", "logs", "metrics", "tracing"}
LAYER_OF = dict.fromkeys(FOUNDATION, "foundation") | {
    name: name
    for name in (
        "schemas",
        "workflows",
        "store",
        "integrations",
        "services",
        "activities",
        "http",
        "api",
        "web",
        "sandbox",
        "app",
        "workers",
    )
}

# What each layer may import besides itself. The same table, in words, is in
# docs/architecture.md; change both together.
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "foundation": {"schemas"},
    "workflows": {"schemas"},
    "store": {"schemas", "foundation"},
    "integrations": {"schemas", "foundation", "store"},
    "services": {"schemas", "foundation", "store", "integrations"},
    "activities": {"schemas", "foundation", "services", "integrations", "store.session"},
    "http": {"schemas", "foundation", "services", "integrations", "store.session"},
    "api": {"schemas", "foundation", "services", "integrations", "http"},
    "web": {"schemas", "foundation", "services", "http"},
    "sandbox": {"schemas", "foundation", "integrations"},
    "app": {"schemas", "foundation", "services", "http", "api", "web", "sandbox"},
    "workers": set(LAYER_OF.values()) - {"workers", "api", "web", "http"},
}
TYPE_ONLY = {"http": "store.models", "api": "store.models", "web": "store.models"}


@dataclass(frozen=True)
class Arrow:
    source: str  # file, relative to the repository
    line: int
    target: str  # the imported module

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def _module_of(path: Path, package: Path) -> list[str]:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _layer(parts: list[str]) -> str:
    return LAYER_OF.get(parts[1] if len(parts) > 1 else "__init__", "unknown")


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imports(path: Path, package_root: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_of(path, package_root)
    package = here if path.name == "__init__.py" else here[:-1]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from marketred.services import quotes` imports marketred.services.quotes
            out += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return out


def arrows_against_the_layers(package: Path = PACKAGE) -> list[Arrow]:
    wrong: list[Arrow] = []
    for path in sorted(package.rglob("*.py")):
        source = _layer(_module_of(path, package))
        type_only = _type_checking_lines(ast.parse(path.read_text(encoding="utf-8")))
        for line, target in _imports(path, package):
            parts = target.split(".")
            if parts[0] != "marketred" or len(parts) < 2:
                continue
            layer = _layer(parts)
            if layer == source:
                continue
            allowed = ALLOWED[source]
            dotted = ".".join(parts[1:])
            if layer in allowed or any(dotted.startswith(a + ".") or dotted == a for a in allowed):
                continue
            if line in type_only and dotted.startswith(TYPE_ONLY.get(source, "-")):
                continue
            rel = path.relative_to(package.parent).as_posix()
            wrong.append(Arrow(rel, line, ".".join(parts[:-1]) if len(parts) > 2 else target))
    return wrong


def test_every_part_of_the_package_has_a_layer():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    names = {n for n in names if not n.startswith((".", "_")) or n == "__init__"}
    names -= {"py", "__pycache__"}
    unknown = {
        n
        for n in names
        if n not in LAYER_OF and ((PACKAGE / n).is_dir() or (PACKAGE / f"{n}.py").is_file())
    }
    assert not unknown, f"give these a layer in LAYER_OF and docs/architecture.md: {unknown}"


def test_no_import_goes_against_the_layers():
    wrong = arrows_against_the_layers()
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(map(str, wrong))


def test_the_check_finds_an_arrow_against_the_layers(tmp_path: Path):
    """The checker can fail: a service importing the web layer and a workflow importing
    a service are both listed."""
    package = tmp_path / "marketred"
    (package / "services").mkdir(parents=True)
    (package / "workflows").mkdir()
    (package / "services" / "bad.py").write_text("from marketred.web.routes import common\n")
    (package / "workflows" / "bad.py").write_text("from ..services import quotes\n")
    (package / "workflows" / "good.py").write_text("from marketred.schemas import quotes\n")
    found = {str(a) for a in arrows_against_the_layers(package)}
    assert found == {
        "marketred/services/bad.py:1 imports marketred.web.routes",
        "marketred/workflows/bad.py:1 imports marketred.services",
    }


# What builds a statement: a service that imports one writes SQL, which lives in
# `store/repositories/` (docs/architecture.md, "Where SQL lives").
STATEMENT_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "literal_column"}


def services_building_sql(package: Path = PACKAGE) -> list[Arrow]:
    found: list[Arrow] = []
    for path in sorted((package / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "sqlalchemy"
            ):
                continue
            for alias in node.names:
                if alias.name in STATEMENT_BUILDERS:
                    rel = path.relative_to(package.parent).as_posix()
                    found.append(Arrow(rel, node.lineno, f"{node.module}.{alias.name}"))
    return found


def test_services_build_no_sql():
    wrong = services_building_sql()
    assert not wrong, "SQL outside store/repositories/:\n" + "\n".join(map(str, wrong))


def test_the_sql_check_finds_a_service_building_a_statement(tmp_path: Path):
    package = tmp_path / "marketred"
    (package / "services" / "quotes").mkdir(parents=True)
    (package / "services" / "quotes" / "bad.py").write_text(
        "from sqlalchemy.dialects.postgresql import insert\nfrom sqlalchemy import select\n"
    )
    assert [str(a) for a in services_building_sql(package)] == [
        "marketred/services/quotes/bad.py:1 imports sqlalchemy.dialects.postgresql.insert",
        "marketred/services/quotes/bad.py:2 imports sqlalchemy.select",
    ]
