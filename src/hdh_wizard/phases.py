"""Where a command's time goes: named phases, timed only when `HDH_WIZARD_PHASES` names a file.

The benchmarks run the commands users run (`hdh-wizard risk`, `check`) as subprocesses and read
this breakdown beside the total: one JSON line per phase with its wall and CPU seconds (CPU of
every thread of the process) and the process's peak memory so far. Unset, a phase costs one
environment lookup.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "HDH_WIZARD_PHASES"


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as `name`; phases of the same name add up in the reader."""
    target = os.environ.get(ENV)
    if not target:
        yield
        return
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        record = {
            "phase": name,
            "wall": round(time.perf_counter() - wall, 4),
            "cpu": round(time.process_time() - cpu, 4),
            # Linux gives KiB: the peak resident memory of the process up to the phase's end.
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def read_phases(path: str | os.PathLike[str]) -> dict[str, dict[str, float]]:
    """The phases a run wrote, summed by name, in their first order."""
    totals: dict[str, dict[str, float]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                slot = totals.setdefault(record["phase"], {"wall": 0.0, "cpu": 0.0, "peak_mib": 0})
                slot["wall"] += float(record["wall"])
                slot["cpu"] += float(record["cpu"])
                slot["peak_mib"] = max(slot["peak_mib"], float(record.get("peak_mib", 0)))
    except FileNotFoundError:
        return {}
    return totals
