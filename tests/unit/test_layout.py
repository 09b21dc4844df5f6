"""The folder table of DESIGN section 1, enforced: what each package may import, and no Celery in `relay/`.

An AST walk over every module of our packages (function-level imports included), so a forbidden import
fails here however deep it hides.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

OURS = (
    "schemas",
    "engage",
    "mappers",
    "fallback",
    "relay",
    "tasks",
    "api",
    "console",
    "migration",
    "workers",
    "simulator",
)
BELOW_RELAY = ("schemas", "engage", "mappers", "fallback", "relay")
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "schemas": (),
    "engage": (),
    "mappers": ("schemas", "engage.models"),
    "fallback": ("schemas", "engage", "mappers"),
    "relay": ("schemas", "engage", "mappers", "fallback"),
    "tasks": BELOW_RELAY,
    "api": BELOW_RELAY,
    "console": ("api", *BELOW_RELAY),
    "migration": BELOW_RELAY,
    "workers": OURS,
    "simulator": ("engage.models",),
}
CELERY_FREE = ("relay", "schemas", "engage", "mappers", "fallback", "migration")
CELERY_MODULES = ("celery", "kombu")


def modules(package: str) -> Iterator[Path]:
    folder = ROOT / package
    if folder.is_dir():
        yield from sorted(folder.rglob("*.py"))


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # `from engage import models` is an import of engage.models
                yield node.lineno, f"{node.module}.{alias.name}"


def allowed(package: str, name: str) -> bool:
    top = name.split(".", maxsplit=1)[0]
    if top not in OURS or top == package:
        return True
    for permitted in MAY_IMPORT[package]:
        if name == permitted or name.startswith(f"{permitted}."):
            return True
        if "." in permitted and permitted.startswith(f"{name}."):
            return True  # `from engage import models`: the `from engage` half of it
    return False


def violations(package: str) -> list[str]:
    found = []
    for path in modules(package):
        for line, name in imported_names(path):
            if not allowed(package, name):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", OURS)
def test_each_package_imports_only_what_the_folder_table_allows(package: str) -> None:
    assert violations(package) == []


@pytest.mark.parametrize("package", CELERY_FREE)
def test_no_celery_below_the_adapter(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules(package)
        for line, name in imported_names(path)
        if name.split(".")[0] in CELERY_MODULES
    ]
    assert found == []


def test_only_entry_points_read_the_environment() -> None:
    # Given every module outside the process bootstrap, the simulator and the demo
    entry_points = {ROOT / "workers" / "process.py", ROOT / "workers" / "demo" / "ftp.py"}
    readers = []
    for package in OURS:
        if package == "simulator":
            continue
        for path in modules(package):
            if path in entry_points:
                continue
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "os.getenv" in text or "getenv(" in text:
                readers.append(str(path.relative_to(ROOT)))
    # Then none reads the environment itself
    assert readers == []


def test_the_check_sees_a_forbidden_import() -> None:
    # The rule itself: relay may not import workers, mappers may not import fallback
    assert not allowed("relay", "workers.settings")
    assert not allowed("mappers", "fallback.deadletters")
    assert not allowed("simulator", "engage.client")
    assert allowed("simulator", "engage.models.contacts")
    assert allowed("mappers", "engage.models")
    assert allowed("tasks", "relay.run")
    assert not allowed("tasks", "workers.settings")
