"""The layers of DESIGN.md, checked where CI sees them, so that an upward import fails a test and
not a review.

Three views of the same rule, each catching what the others cannot:
- import-linter's contracts (`[tool.importlinter]` in pyproject.toml): the whole static graph,
  indirect chains included;
- the same rule read here with `ast`, standing without import-linter and naming file and line;
- Harlequin's run-time guard: a clean interpreter imports every headless module and looks at
  `sys.modules`, the only proof that a deferred import (cli/tui.py opens the app inside a
  function) really defers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hdh_wizard

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(hdh_wizard.__file__).parent  # src/hdh_wizard

# Below ui and cli: what a headless command, a flow or a test may import without a terminal.
BELOW_UI = (
    "flows",
    "present",
    "project",
    "services",
    "inspect",
    "core",
    "errors",
    "i18n",
    "crash",
    "redact",
    "demo",
    "phases",
)
UPWARD = ("textual", "hdh_wizard.ui", "hdh_wizard.cli")
# The one import of ui the command makes: the TUI's launcher.
CLI_OPENS_UI = ("cli/tui.py", "hdh_wizard.ui.app")


def _module_files(name: str) -> list[Path]:
    package = PACKAGE / name
    if package.is_dir():
        return sorted(package.rglob("*.py"))
    return [PACKAGE / f"{name}.py"]


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module `path` imports, at any depth (a function's deferred import included), with
    its line; relative imports resolved."""
    package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from hdh_wizard import ui`
                yield node.lineno, f"{module}.{alias.name}"


def _is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(PACKAGE)}:{line}"


def test_every_top_level_module_has_its_place_in_the_layers() -> None:
    listed = {"__init__", "__main__", "cli", "ui", *BELOW_UI}
    found = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()
    }
    assert found == listed, "place the new module in BELOW_UI and in [tool.importlinter]"


@pytest.mark.parametrize("name", BELOW_UI)
def test_nothing_below_ui_imports_textual_ui_or_cli(name: str) -> None:
    found = [
        f"{_where(path, line)} imports {module}"
        for path in _module_files(name)
        for line, module in _imports(path)
        if any(_is_under(module, upward) for upward in UPWARD)
    ]
    assert not found, "\n".join(found)


def test_the_command_imports_ui_only_to_open_the_tui() -> None:
    found = []
    for path in _module_files("cli"):
        for line, module in _imports(path):
            where, opened = CLI_OPENS_UI
            launcher = str(path.relative_to(PACKAGE)) == where and _is_under(module, opened)
            if not launcher and any(_is_under(module, up) for up in ("textual", "hdh_wizard.ui")):
                found.append(f"{_where(path, line)} imports {module}")
    assert not found, "\n".join(found)


def test_the_import_contracts_are_kept() -> None:
    """`lint-imports` as scripts/test.sh runs it: the layers (each importing only those below
    it), no Textual below ui, and cli importing ui only from cli/tui.py."""
    from importlinter.cli import lint_imports

    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, "lint-imports: a contract is broken (run .venv/bin/lint-imports)"


def test_the_headless_modules_do_not_load_textual() -> None:
    """Every module of the command and of the layers below ui, imported one after the other in a
    clean interpreter: none loads Textual (the command starts without it, and runs where no
    terminal is)."""
    modules = sorted(
        _dotted(path)
        for name in ("cli", *BELOW_UI)
        for path in _module_files(name)
        if path.name != "__main__.py"
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'textual' in sys.modules or 'hdh_wizard.ui' in sys.modules:\n"
        "        print(name)\n"
        "        break\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "", f"importing {done.stdout.strip()} loads Textual"
