"""Choose the data files and folders to release: browse a tree or type a path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DirectoryTree, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from hdh_wizard.i18n.catalogue import Catalogue

# Files the wizard writes itself are not data to release.
_OWN_FILES = ("hdh-release.yaml", "hdh-release.lock")


class DataTree(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p for p in paths if not p.name.startswith(_OWN_FILES) and not p.name.startswith(".")
        ]


class FilePicker(Vertical):
    """Holds the chosen paths; Enter on the tree or on the path field adds, Delete removes."""

    class Changed(Message):
        pass

    def __init__(self, cat: Catalogue, root: Path, chosen: Iterable[Path] = ()) -> None:
        super().__init__(id="file-picker")
        self._cat = cat
        self._root = root
        self._chosen: list[Path] = list(chosen)

    @property
    def chosen(self) -> list[Path]:
        return list(self._chosen)

    def compose(self) -> ComposeResult:
        # Not markup, here and in the error: a folder's name may hold `[/]`.
        yield Label(
            self._cat.t("files.tree_label", root=str(self._root)),
            classes="field-label",
            markup=False,
        )
        yield DataTree(self._root, id="file-tree")
        yield Label(self._cat.t("files.path_label"), classes="field-label")
        with Horizontal(id="file-path-row"):
            yield Input(placeholder=self._cat.t("files.path_placeholder"), id="file-path")
            yield Button(self._cat.t("files.add"), id="file-add")
        yield Static("", id="file-error", classes="field-error", markup=False)
        yield Label(self._cat.t("files.chosen_label"), classes="field-label")
        yield OptionList(id="file-chosen")

    def on_mount(self) -> None:
        self._show()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.add(event.path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "file-path":
            event.stop()
            self._add_typed()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "file-add":
            event.stop()
            self._add_typed()

    def key_delete(self) -> None:
        chosen = self.query_one("#file-chosen", OptionList)
        if chosen.has_focus and chosen.highlighted is not None and self._chosen:
            del self._chosen[chosen.highlighted]
            self._show()

    def add_selected_folder(self) -> None:
        """Add the folder under the tree's cursor (folders open on Enter, so this has a key)."""
        node = self.query_one(DataTree).cursor_node
        if node is not None and node.data is not None:
            self.add(Path(node.data.path))

    def add(self, path: Path) -> None:
        error = self.query_one("#file-error", Static)
        try:
            path = path.expanduser()
        except RuntimeError:  # ~someone for a user that does not exist
            error.update(self._cat.t("files.not_found", path=str(path)))
            return
        if not path.exists():
            error.update(self._cat.t("files.not_found", path=str(path)))
            return
        error.update("")
        resolved = path.resolve()
        if resolved not in self._chosen:
            self._chosen.append(resolved)
            self._show()

    def _add_typed(self) -> None:
        field = self.query_one("#file-path", Input)
        if field.value.strip():
            self.add(Path(field.value.strip()))
            field.value = ""

    def _show(self) -> None:
        chosen = self.query_one("#file-chosen", OptionList)
        chosen.set_options(
            [Option(Text(_display(p, self._root))) for p in self._chosen]
            or [Option(Text(self._cat.t("files.none"), style="dim"), disabled=True)]
        )
        self.post_message(self.Changed())


def _display(path: Path, root: Path) -> str:
    try:
        shown = str(path.relative_to(root.resolve()))
    except ValueError:
        shown = str(path)
    return shown + ("/" if path.is_dir() else "")
