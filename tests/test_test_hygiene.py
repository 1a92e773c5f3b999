"""The test suite's own hygiene: what tests share lives in helper modules (tui_helpers.py,
portal_helpers.py, storage_helpers.py, prepare_helpers.py, risk_helpers.py, keyring_helpers.py,
conftest.py), never in a test module another one imports; and a screen test waits for its workers
with `tui_helpers.until`, not with a polling loop of its own.

Importing a test module runs its module-level code and hands its fixtures and parametrised
marks to the importer; a second polling helper drifts (a shorter timeout, a silent message)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Moved to tui_helpers.until by the engineer working on the anonymity step, not in this change.
OWN_POLLING_ALLOWED: set[str] = set()
POLLING_NAMES = {"wait_for", "_wait_for", "until", "_until", "wait_until", "_wait_until"}


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _test_modules() -> list[Path]:
    return [p for p in _python_files() if p.name.startswith("test_")]


def _name(path: Path) -> str:
    return path.relative_to(TESTS.parent).as_posix()


def _imported_modules(path: Path, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every module an import statement names, absolute (`tests.x.y`), with its line."""
    package = ".".join(path.relative_to(TESTS.parent).parent.parts)  # tests, tests.udata_local
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from tests import test_x`
                yield node.lineno, f"{module}.{alias.name}"


def _is_test_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def _polls_the_pilot(function: ast.AsyncFunctionDef) -> bool:
    """A loop that awaits `something.pause(...)`: a Pilot polling helper, whatever its name."""
    for loop in ast.walk(function):
        if not isinstance(loop, ast.While | ast.For | ast.AsyncFor):
            continue
        for node in ast.walk(loop):
            if (
                isinstance(node, ast.Await)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "pause"
            ):
                return True
    return False


def test_no_test_module_is_imported_by_another_file() -> None:
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in _imported_modules(path, tree):
            if _is_test_module(module):
                found.append(f"{_name(path)}:{line} imports {module}")
    assert not found, (
        "test modules import each other; move what they share to a helper module "
        "(tests/*_helpers.py or a conftest.py fixture):\n" + "\n".join(sorted(set(found)))
    )


def test_no_test_module_defines_its_own_pilot_polling_helper() -> None:
    found = []
    for path in _test_modules():
        if path.name in OWN_POLLING_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.AsyncFunctionDef) or node.name.startswith("test_"):
                continue
            if node.name in POLLING_NAMES or _polls_the_pilot(node):
                found.append(f"{_name(path)}:{node.lineno} async def {node.name}")
    assert not found, (
        "a polling helper of its own; use `await until(pilot, condition)` from "
        "tests/tui_helpers.py:\n" + "\n".join(found)
    )


def test_the_checks_above_see_what_they_look_for() -> None:
    """Guard against a check that passes because it looks at nothing."""
    sample = ast.parse(
        "from tests.test_x import a\nfrom .test_y import b\nfrom tests import test_z\n"
        "import tests.test_w\nfrom tests.tui_helpers import until\n"
        "async def _until(pilot, condition):\n"
        "    while not condition():\n"
        "        await pilot.pause(0.1)\n"
        "async def helper(pilot):\n"
        "    for _ in range(3):\n"
        "        await pilot.pause()\n"
    )
    imports = _imported_modules(TESTS / "test_sample.py", sample)
    assert sorted({line for line, module in imports if _is_test_module(module)}) == [1, 2, 3, 4]
    functions = [n for n in sample.body if isinstance(n, ast.AsyncFunctionDef)]
    assert [_polls_the_pilot(f) for f in functions] == [True, True]
    assert len(_test_modules()) > 50 and TESTS / "tui_helpers.py" in _python_files()
