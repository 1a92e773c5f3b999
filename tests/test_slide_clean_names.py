"""A cleaned slide keeps its name, the one the table's slide code gives, and still groups."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hdh_wizard import project as projects
from hdh_wizard.core import workflow
from hdh_wizard.core.preparation import Preparation
from hdh_wizard.core.steps import StepId
from hdh_wizard.flows.anonymity import clean_slides
from hdh_wizard.inspect.inspection import InventoryEntry
from hdh_wizard.inspect.preparation import choices, split_folder_into_publish
from hdh_wizard.inspect.progress import Progress
from hdh_wizard.inspect.risk.release import CLEAN_SUFFIX, find_sources
from hdh_wizard.inspect.risk.report import Replacement
from hdh_wizard.inspect.risk.slide_privacy import scan_image_privacy

from .prepare_helpers import SLIDE_ID, STAGE, TABLE, hosted_project, table_of
from .tui_helpers import ALICE, NOW


def _clean(folder: Path) -> tuple[list[Replacement], list[InventoryEntry]]:
    sources = find_sources([folder / "donnees" / "lames"], folder)
    dirty = {e.display for e in sources.slides if scan_image_privacy(e.path, e.display).findings}
    assert dirty
    written = clean_slides(sources.slides, dirty, folder / "publish", Progress())
    return written, list(sources.slides)


def test_a_cleaned_slide_is_published_under_its_own_name(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    written, _ = _clean(tmp_path)
    (copy,) = written
    source_name = Path(copy.source).name
    assert copy.output == tmp_path / "publish" / source_name
    assert copy.display == f"publish/{source_name}"
    assert CLEAN_SUFFIX not in copy.display
    table = (tmp_path / TABLE).read_text("utf-8")
    slide_codes = {row["id_lame"] for row in csv.DictReader(io.StringIO(table))}
    assert Path(source_name).stem in slide_codes  # the name still says which row it is


def test_two_slides_of_one_name_get_two_copies(tmp_path: Path) -> None:
    hosted_project(tmp_path)
    _, slides = _clean(tmp_path)
    dirty = next(e for e in slides if scan_image_privacy(e.path, e.display).findings)
    twin = tmp_path / "autres" / dirty.path.name
    twin.parent.mkdir()
    twin.write_bytes(dirty.path.read_bytes())
    entries = [dirty, InventoryEntry(twin, f"autres/{twin.name}", dirty.size, dirty.mtime_ns)]
    written = clean_slides(entries, {e.display for e in entries}, tmp_path / "publish", Progress())
    outputs = [w.output for w in written]
    assert len(set(outputs)) == 2
    assert outputs[0].name == dirty.path.name
    assert outputs[1].name.endswith(f"{CLEAN_SUFFIX}.tif")


def test_the_cleaned_slide_still_groups_by_the_table(tmp_path: Path) -> None:
    release = hosted_project(tmp_path)
    written, _ = _clean(tmp_path)
    replacements = [
        {
            "source": w.source,
            "path": w.display,
            "size": w.size,
            "sha256": w.sha256,
            "source_size": w.source_size,
        }
        for w in written
    ]
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"replacements": replacements}, ALICE, NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    found = choices(release, tmp_path)
    assert [f.stored for f in found.folders] == ["donnees/lames"]
    grouped = split_folder_into_publish(
        release,
        tmp_path,
        Preparation(),
        found.folders[0],
        table_of(release, tmp_path),
        SLIDE_ID,
        STAGE,
        Progress(),
    )
    (split,) = grouped.folders
    placed = {p.name: p for p in (tmp_path / split.output).rglob("*.tif")}
    (copy,) = written
    assert placed[copy.output.name].read_bytes() == copy.output.read_bytes()


def test_slides_the_formats_step_listed_one_by_one_still_group_as_their_folder(
    tmp_path: Path,
) -> None:
    release = hosted_project(tmp_path)
    # The formats step records each file it checked, not the folder the partner declared.
    slides = sorted((tmp_path / "donnees" / "lames").glob("*.tif"))
    entries = [{"path": TABLE, "kind": "csv", "size": (tmp_path / TABLE).stat().st_size}]
    entries += [
        {"path": f"donnees/lames/{s.name}", "kind": "tiff", "size": s.stat().st_size}
        for s in slides
    ]
    release = workflow.commit_step(
        release, StepId.INTEROPERABILITY, {"publish": entries}, ALICE, NOW
    )
    projects.save(projects.Project(tmp_path, release), release)
    written, _ = _clean(tmp_path)
    replacements = [
        {
            "source": w.source,
            "path": w.display,
            "size": w.size,
            "sha256": w.sha256,
            "source_size": w.source_size,
        }
        for w in written
    ]
    release = workflow.commit_step(
        release, StepId.ANONYMITY, {"replacements": replacements}, ALICE, NOW
    )

    found = choices(release, tmp_path)

    assert [f.stored for f in found.folders] == ["donnees/lames"]
    grouped = split_folder_into_publish(
        release,
        tmp_path,
        Preparation(),
        found.folders[0],
        table_of(release, tmp_path),
        SLIDE_ID,
        STAGE,
        Progress(),
    )
    (split,) = grouped.folders
    placed = sorted(p.name for p in (tmp_path / split.output).rglob("*.tif"))
    assert placed == [s.name for s in slides]
