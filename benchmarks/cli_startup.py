"""How fast `hdh-wizard --help` answers (goal: under 0.3 s), against a bare Python start.

    python benchmarks/cli_startup.py [runs]

Prints the median time of `hdh-wizard --help` and of `python -c pass` measured in the same run,
and their ratio. Heavy libraries (Textual, numpy, tifffile) must stay out of this path.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_SECONDS = 0.3


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    script = shutil.which("hdh-wizard") or str(Path(sys.executable).parent / "hdh-wizard")
    baseline = median_seconds([sys.executable, "-c", "pass"], runs)
    helped = median_seconds([script, "--help"], runs)
    verdict = "ok" if helped < GOAL_SECONDS else "TOO SLOW"
    print(f"python -c pass      : {baseline * 1000:7.1f} ms (baseline)")
    print(f"hdh-wizard --help   : {helped * 1000:7.1f} ms  ratio {helped / baseline:4.1f}x")
    print(f"goal < {GOAL_SECONDS * 1000:.0f} ms: {verdict}")
    return 0 if helped < GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
