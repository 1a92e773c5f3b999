"""How fast and how lean the full inspection of a large CSV is, against baselines of the same run.

    python benchmarks/inspect_speed.py [CSV] [--size-gb 2] [--memory-scaling]

Without CSV, one is generated with `benchmarks/make_health_csv.py` in a temporary folder (removed
at the end). Each measurement runs in its own child process, which reports its own wall time and
peak resident memory (`ru_maxrss`), so no measurement inherits another's memory:

  (a) hashlib SHA-256 of the file in 16 MiB chunks (baseline: reading the bytes once),
  (b) `wc -l` (second baseline),
  (c) the full inspection, `inspect_file(InventoryEntry(...))`: checksum, UTF-8, dialect, every
      column's profile, row count,
  (d) DuckDB `SUMMARIZE SELECT * FROM read_csv(...)`, when duckdb is importable.

Goals: (c) ≤ 2 × (a), (c) faster than (d), (c) peak memory ≤ 1 GiB, and with --memory-scaling the
peak memory of (c) on a 4× larger file within ±10 % of the first. The file is read once before
measuring so that every measurement finds it in the page cache. Exits 0 whatever the figures (a
measurement, not a test); missed goals are printed as "GOAL MISSED" lines.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHUNK = 16 * 1024 * 1024
GIB = 1024**3
SPEED_GOAL = 2.0  # (c) at most this many times (a)
MEMORY_GOAL = 1 * GIB
SCALING_TOLERANCE = 0.10

# Every child prints one JSON line last: {"seconds": work time, "maxrss": peak KiB, ...}.
# ru_maxrss also counts the pages of a memory-mapped file (polars maps the CSV), so on Linux the
# children also sample /proc/self/status for the peak of anonymous memory (heap, buffers) alone.
_PEAK = """
import os, resource, sys, threading
def peak_kib(who=resource.RUSAGE_SELF):
    value = resource.getrusage(who).ru_maxrss
    return value // 1024 if sys.platform == "darwin" else value  # macOS counts bytes
_anon = [0]
def _sample_anon():
    while True:
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        _anon[0] = max(_anon[0], int(line.split()[1]))
        except OSError:
            return
        threading.Event().wait(0.01)
if os.path.exists("/proc/self/status"):
    threading.Thread(target=_sample_anon, daemon=True).start()
def peak_anon_kib():
    return _anon[0] or None
"""
HASH_CHILD = (
    _PEAK
    + """
import hashlib, json, time
start = time.perf_counter()
digest = hashlib.sha256()
with open(sys.argv[1], "rb") as handle:
    while chunk := handle.read(16 * 1024 * 1024):
        digest.update(chunk)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "anon": peak_anon_kib(),
                  "sha256": digest.hexdigest()}))
"""
)
WC_CHILD = (
    _PEAK
    + """
import json, subprocess, time
start = time.perf_counter()
out = subprocess.run(["wc", "-l", sys.argv[1]], check=True, capture_output=True, text=True).stdout
seconds = time.perf_counter() - start
lines = int(out.split()[0])
wc_peak = peak_kib(resource.RUSAGE_CHILDREN)  # the child's own peak: wc's
print(json.dumps({"seconds": seconds, "maxrss": wc_peak, "anon": None, "lines": lines}))
"""
)
INSPECT_CHILD = (
    _PEAK
    + """
import json, time
from pathlib import Path
from hdh_wizard.inspect.inspection import InventoryEntry, inspect_file
path = Path(sys.argv[1]).resolve()
info = path.stat()
entry = InventoryEntry(path, path.name, info.st_size, info.st_mtime_ns)
start = time.perf_counter()
report = inspect_file(entry)
seconds = time.perf_counter() - start
table = report.table
print(json.dumps({
    "seconds": seconds,
    "maxrss": peak_kib(),
    "anon": peak_anon_kib(),
    "sha256": report.sha256,
    "verdict": report.verdict.value,
    "rows": table.rows if table else None,
    "columns": len(table.columns) if table else None,
    "problems": [p.code for p in report.problems],
}))
"""
)
DUCKDB_CHILD = (
    _PEAK
    + """
import json, time
import duckdb
path = sys.argv[1].replace("'", "''")
start = time.perf_counter()
rows = duckdb.sql(f"SUMMARIZE SELECT * FROM read_csv('{path}')").fetchall()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "anon": peak_anon_kib(),
                  "columns": len(rows)}))
"""
)


@dataclass(frozen=True)
class Measure:
    label: str
    seconds: float  # the work alone, timed inside the child
    process_seconds: float  # the whole child: interpreter start and imports included
    peak_mib: float  # ru_maxrss: resident memory, mapped file pages included
    anon_mib: float | None  # sampled peak of anonymous memory alone (Linux), None elsewhere
    extra: dict[str, object]


def measure(label: str, child: str, path: Path, args: list[str] | None = None) -> Measure | None:
    start = time.perf_counter()
    command = [sys.executable, "-c", child, str(path), *(args or [])]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    process_seconds = time.perf_counter() - start
    if result.returncode != 0:
        print(f"{label}: FAILED (exit {result.returncode})\n{result.stderr.strip()}")
        return None
    data = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = float(data.pop("seconds"))
    peak_mib = int(data.pop("maxrss")) / 1024
    anon = data.pop("anon", None)
    anon_mib = int(anon) / 1024 if anon else None
    return Measure(label, seconds, process_seconds, peak_mib, anon_mib, data)


def generate(target: Path, size_gb: float) -> Path:
    print(f"generating {target.name} ({size_gb:g} GB) with make_health_csv.py …", flush=True)
    subprocess.run(
        [sys.executable, str(HERE / "make_health_csv.py"), str(target), f"{size_gb}"], check=True
    )
    return target


def quadruple(source: Path, target: Path) -> Path:
    """The same rows four times (the header once): same content, four times the size."""
    print(f"writing {target.name}: {source.name}'s rows four times …", flush=True)
    with source.open("rb") as reader:
        header = reader.readline()
    with target.open("wb") as out:
        out.write(header)
        for _ in range(4):
            with source.open("rb") as reader:
                reader.readline()
                shutil.copyfileobj(reader, out, CHUNK)
    return target


def warm_up(path: Path) -> None:
    """Read the file once so every measurement finds it in the page cache."""
    with path.open("rb") as handle:
        while handle.read(CHUNK):
            pass


def show(m: Measure) -> None:
    anon = f"  (anonymous {m.anon_mib:7.1f} MiB)" if m.anon_mib is not None else ""
    print(
        f"  {m.label:<34} {m.seconds:8.2f} s  (process {m.process_seconds:6.2f} s)"
        f"  peak {m.peak_mib:8.1f} MiB{anon}"
    )


def run_on(path: Path) -> dict[str, Measure | None]:
    size = path.stat().st_size
    print(f"\n{path} — {size / 1e9:.2f} GB ({size:,} bytes)", flush=True)
    warm_up(path)
    results: dict[str, Measure | None] = {
        "a": measure("(a) hashlib SHA-256, 16 MiB chunks", HASH_CHILD, path),
        "b": measure("(b) wc -l", WC_CHILD, path),
        "c": measure("(c) inspect_file (full inspection)", INSPECT_CHILD, path),
    }
    if importlib.util.find_spec("duckdb") is not None:
        results["d"] = measure("(d) DuckDB SUMMARIZE read_csv", DUCKDB_CHILD, path)
    else:
        print("  duckdb not installed, skipped")
        results["d"] = None
    for m in results.values():
        if m is not None:
            show(m)
    a, b, c = results["a"], results["b"], results["c"]
    if c is not None:
        e = c.extra
        print(
            f"  inspection: verdict {e['verdict']}, {e['rows']} rows, {e['columns']} columns,"
            f" problems {e['problems']}"
        )
        if a is not None and e["sha256"] != a.extra["sha256"]:
            print("  GOAL MISSED: the inspection's SHA-256 differs from hashlib's")
        if b is not None and isinstance(e["rows"], int):
            print(f"  wc -l: {b.extra['lines']} lines (data rows + header: {e['rows'] + 1})")
    return results


def judge(first: dict[str, Measure | None], scaled: dict[str, Measure | None] | None) -> None:
    print("\nGoals")
    a, c, d = first["a"], first["c"], first["d"]
    if c is None:
        print("  GOAL MISSED: the inspection failed")
        return
    if a is not None:
        ratio = c.seconds / a.seconds
        verdict = "ok" if ratio <= SPEED_GOAL else "GOAL MISSED"
        print(f"  {verdict}: (c)/(a) = {ratio:.2f} (goal ≤ {SPEED_GOAL:g})")
    if d is not None:
        ratio = c.seconds / d.seconds
        verdict = "ok" if c.seconds < d.seconds else "GOAL MISSED"
        print(f"  {verdict}: (c)/(d) = {ratio:.2f} (goal < 1: faster than DuckDB)")
    else:
        print("  (c) < (d): not measured (duckdb not installed)")
    verdict = "ok" if c.peak_mib * 1024**2 <= MEMORY_GOAL else "GOAL MISSED"
    print(
        f"  {verdict}: (c) peak memory {c.peak_mib:.0f} MiB (goal ≤ {MEMORY_GOAL // 1024**2} MiB)"
    )
    if c.anon_mib is not None:
        print(
            f"  (for information: (c) anonymous memory peaked at {c.anon_mib:.0f} MiB; the rest"
            " of the peak is the file's pages mapped by polars)"
        )
    if scaled is not None:
        big = scaled["c"]
        if big is None:
            print("  GOAL MISSED: the inspection of the 4× file failed")
            return
        change = big.peak_mib / c.peak_mib - 1
        verdict = "ok" if abs(change) <= SCALING_TOLERANCE else "GOAL MISSED"
        print(
            f"  {verdict}: peak memory on the 4× file {big.peak_mib:.0f} MiB vs {c.peak_mib:.0f}"
            f" MiB ({change:+.1%}, goal within ±{SCALING_TOLERANCE:.0%})"
        )
        if big.peak_mib * 1024**2 > MEMORY_GOAL:
            print(f"  GOAL MISSED: 4× file peak memory {big.peak_mib:.0f} MiB > 1 GiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, help="CSV to inspect (default: generated)")
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the generated CSV")
    parser.add_argument(
        "--memory-scaling", action="store_true", help="also inspect a 4× larger file"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inspect-speed-") as scratch:
        folder = Path(scratch)
        path = generate(folder / "sejours.csv", args.size_gb) if args.csv is None else args.csv
        if not path.is_file():
            print(f"{path}: not a file")
            return 0
        larger = None
        if args.memory_scaling:
            if args.csv is None:
                larger = generate(folder / "sejours_x4.csv", args.size_gb * 4)
            else:
                larger = quadruple(path, folder / f"{path.stem}_x4.csv")
        first = run_on(path)
        scaled = run_on(larger) if larger is not None else None
        judge(first, scaled)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
