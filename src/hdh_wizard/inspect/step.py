"""The interoperability step's rules: what committing records, what must hold first.

Kept apart from the screen so the CLI, the screen and the tests share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hdh_wizard.core.checks import Check
from hdh_wizard.core.route import decide_route
from hdh_wizard.inspect.convert import Converted
from hdh_wizard.inspect.report import FileReport, Verdict


def files_to_publish(
    reports: Sequence[FileReport], converted: Sequence[Converted], outputs: Sequence[FileReport]
) -> list[FileReport]:
    """Conformant originals, and the checked copies of the converted ones."""
    done = {c.source for c in converted}
    kept = [r for r in reports if r.verdict is Verdict.CONFORM and r.path not in done]
    return kept + [r for r in outputs if r.verdict is Verdict.CONFORM]


def step_checks(
    reports: Sequence[FileReport], converted: Sequence[Converted], outputs: Sequence[FileReport]
) -> list[Check]:
    done = {c.source for c in converted}
    blocking = [r.path for r in reports if r.verdict is Verdict.NOT_FIXABLE]
    pending = [r.path for r in reports if r.verdict is Verdict.FIXABLE and r.path not in done]
    return [
        Check("interop.check.inspected", bool(reports)),
        Check("interop.check.no_blocking", not blocking, {"files": ", ".join(blocking) or "—"}),
        Check("interop.check.converted", not pending, {"files": ", ".join(pending) or "—"}),
        Check(
            "interop.check.outputs_conform",
            all(r.verdict is Verdict.CONFORM for r in outputs),
        ),
    ]


def step_outputs(
    reports: Sequence[FileReport], converted: Sequence[Converted], outputs: Sequence[FileReport]
) -> dict[str, Any]:
    """What the state records: each file's verdict, and the files to publish with their SHA-256."""
    publish = files_to_publish(reports, converted, outputs)
    total = sum(r.size for r in publish)
    return {
        "verdicts": {r.path: r.verdict.value for r in reports},
        "publish": [
            {"path": r.path, "kind": r.kind.value, "size": r.size, "sha256": r.sha256}
            for r in publish
        ],
        "publish_bytes": total,
        "route": decide_route(total).value,
    }
