"""How fast and how lean the full inspection of a large CSV is, against baselines of the same run.

    python benchmarks/inspect_speed.py [CSV] [--size-gb 2] [--memory-scaling] [--no-duckdb]

Without CSV, one is generated with `benchmarks/make_health_csv.py` in a temporary folder (removed
at the end). Each measurement runs in its own child process, which reports its own wall time and
peak resident memory (`ru_maxrss`), so no measurement inherits another's memory; the CPU time of
each child (user + sys, every thread) comes from `os.wait4`:

  (a) hashlib SHA-256 of the file in 16 MiB chunks (baseline: reading the bytes once),
  (b) `wc -l` (second baseline),
  (c) the full inspection, `inspect_file(InventoryEntry(...))`: checksum, UTF-8, dialect, every
      column's profile, row count,
  (d) DuckDB `SUMMARIZE SELECT * FROM read_csv(...)`, when duckdb is importable,
  (e) the check's byte scan alone (`scan_bytes`: SHA-256 and the byte counts), the work `check`
      runs on its second core beside polars,
  (f) polars' parse floor: `pl.scan_csv(f).select(pl.all().null_count()).collect(engine=
      "streaming")`, every column parsed and nothing more,
  (g) the command a partner runs, `hdh-wizard check --json FILE`, with HDH_WIZARD_PHASES set: its
      phase breakdown (`read_phases`) is printed under it. `check.profile+bytes` holds the byte
      scan's CPU too (it runs in a thread beside the profile); its sub-phases are
      `check.profile.sample` (types and sample), `.pass` (the one pass of every column's
      aggregations) and `.exact_distinct` (a pass counting exactly the columns whose estimate
      turned out within the bound and were not counted in the first).

Goals (docs/performance.md): (g) CPU ÷ (f) CPU ≤ 1.3 (whole processes, interpreter start included on
both sides; the work alone is printed too), (c) ≤ 2 × (a), (c) faster than (d), (c) and (g) peak
memory ≤ 1 GiB, and with --memory-scaling the peak memory of (c) and (g) on a 4× larger file within
±10 % of the first. What the checksum alone costs beyond the floor, ((f) + SHA-256) ÷ (f), is
printed beside: no check can go below it. The file is read once before measuring so that every
measurement finds it in the page cache. Exits 0 whatever the figures (a measurement, not a test);
missed goals are printed as "GOAL MISSED" lines.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

from hdh_wizard.phases import ENV as PHASES_ENV  # noqa: E402
from hdh_wizard.phases import read_phases  # noqa: E402

CHUNK = 16 * 1024 * 1024
GIB = 1024**3
SPEED_GOAL = 2.0  # (c) at most this many times (a)
FLOOR_GOAL = 1.3  # (g) CPU at most this many times (f) CPU
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
start, cpu = time.perf_counter(), time.process_time()
digest = hashlib.sha256()
with open(sys.argv[1], "rb") as handle:
    while chunk := handle.read(16 * 1024 * 1024):
        digest.update(chunk)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "work_cpu": time.process_time() - cpu, "maxrss": peak_kib(),
                  "anon": peak_anon_kib(), "sha256": digest.hexdigest()}))
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
start, cpu = time.perf_counter(), time.process_time()
report = inspect_file(entry)
seconds = time.perf_counter() - start
table = report.table
print(json.dumps({
    "seconds": seconds,
    "work_cpu": time.process_time() - cpu,
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
BYTES_CHILD = (
    _PEAK
    + """
import json, time
from pathlib import Path
from hdh_wizard.inspect.byte_scan import scan_bytes
start, cpu = time.perf_counter(), time.process_time()
counts = scan_bytes(Path(sys.argv[1]), b",")
print(json.dumps({"seconds": time.perf_counter() - start, "work_cpu": time.process_time() - cpu,
                  "maxrss": peak_kib(), "anon": peak_anon_kib(), "sha256": counts.sha256}))
"""
)
FLOOR_CHILD = (
    _PEAK
    + """
import json, time
import polars as pl
start, cpu = time.perf_counter(), time.process_time()
nulls = pl.scan_csv(sys.argv[1]).select(pl.all().null_count()).collect(engine="streaming")
print(json.dumps({"seconds": time.perf_counter() - start, "work_cpu": time.process_time() - cpu,
                  "maxrss": peak_kib(), "anon": peak_anon_kib(), "columns": nulls.width}))
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
    cpu: float = 0.0  # the whole child's CPU (user + sys, every thread), from os.wait4
    work_cpu: float | None = None  # the work's alone, timed inside the child
    phases: dict[str, dict[str, float]] | None = None  # `hdh-wizard` children: their phases


@dataclass(frozen=True)
class _Run:
    returncode: int
    stdout: str
    stderr: str
    wall: float
    cpu: float
    maxrss_kib: int


def _run(command: list[str], env: dict[str, str] | None = None) -> _Run:
    """Run a child to its end; its wall time, and its CPU and peak memory from `os.wait4`."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
        cpu = usage.ru_utime + usage.ru_stime
        return _Run(child.returncode, out.read(), err.read(), wall, cpu, peak)


def measure(label: str, child: str, path: Path, args: list[str] | None = None) -> Measure | None:
    run = _run([sys.executable, "-c", child, str(path), *(args or [])])
    if run.returncode != 0:
        print(f"{label}: FAILED (exit {run.returncode})\n{run.stderr.strip()}")
        return None
    data = json.loads(run.stdout.strip().splitlines()[-1])
    seconds = float(data.pop("seconds"))
    peak_mib = int(data.pop("maxrss")) / 1024
    anon = data.pop("anon", None)
    anon_mib = int(anon) / 1024 if anon else None
    work_cpu = data.pop("work_cpu", None)
    return Measure(
        label, seconds, run.wall, peak_mib, anon_mib, data, run.cpu, work_cpu and float(work_cpu)
    )


def measure_check(path: Path) -> Measure | None:
    """`hdh-wizard check --json FILE` as a partner runs it, with its phase breakdown."""
    label = "(g) hdh-wizard check --json"
    with tempfile.TemporaryDirectory(prefix="check-phases-") as scratch:
        phases_file = Path(scratch) / "phases.jsonl"
        env = {**os.environ, PHASES_ENV: str(phases_file)}
        run = _run([sys.executable, "-m", "hdh_wizard", "check", "--json", str(path)], env)
        phases = read_phases(phases_file)
    if run.returncode not in (0, 1):  # 1: the file is not conform, which is a finding
        print(f"{label}: FAILED (exit {run.returncode})\n{run.stderr.strip()}")
        return None
    (report,) = json.loads(run.stdout)["files"]
    table = report["table"] or {}
    extra: dict[str, object] = {
        "sha256": report["sha256"],
        "verdict": report["verdict"],
        "rows": table.get("rows"),
        "columns": len(table.get("columns", [])),
        "problems": [p["code"] for p in report["problems"]],
    }
    inspect = phases.get("check.inspect", {})
    return Measure(
        label,
        inspect.get("wall", run.wall),
        run.wall,
        run.maxrss_kib / 1024,
        None,
        extra,
        run.cpu,
        inspect.get("cpu"),
        phases,
    )


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
    work = f", work {m.work_cpu:6.2f} s" if m.work_cpu is not None else ""
    print(
        f"  {m.label:<36} {m.seconds:8.2f} s  (process {m.process_seconds:6.2f} s)"
        f"  CPU {m.cpu:6.2f} s{work}  peak {m.peak_mib:8.1f} MiB{anon}"
    )
    for name, figures in (m.phases or {}).items():
        print(f"      {name:<34} CPU {figures['cpu']:7.2f} s   wall {figures['wall']:7.2f} s")


def run_on(path: Path, duckdb: bool = True) -> dict[str, Measure | None]:
    size = path.stat().st_size
    print(f"\n{path} — {size / 1e9:.2f} GB ({size:,} bytes)", flush=True)
    warm_up(path)
    results: dict[str, Measure | None] = {
        "a": measure("(a) hashlib SHA-256, 16 MiB chunks", HASH_CHILD, path),
        "b": measure("(b) wc -l", WC_CHILD, path),
        "c": measure("(c) inspect_file (full inspection)", INSPECT_CHILD, path),
    }
    if not duckdb:
        results["d"] = None
    elif importlib.util.find_spec("duckdb") is not None:
        results["d"] = measure("(d) DuckDB SUMMARIZE read_csv", DUCKDB_CHILD, path)
    else:
        print("  duckdb not installed, skipped")
        results["d"] = None
    results["e"] = measure("(e) byte scan alone (scan_bytes)", BYTES_CHILD, path)
    results["f"] = measure("(f) polars parse floor", FLOOR_CHILD, path)
    results["g"] = measure_check(path)
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
    g = results["g"]
    if g is not None and c is not None and g.extra != {**c.extra, "columns": g.extra["columns"]}:
        print("  GOAL MISSED: hdh-wizard check and inspect_file disagree")
        if b is not None and isinstance(e["rows"], int):
            print(f"  wc -l: {b.extra['lines']} lines (data rows + header: {e['rows'] + 1})")
    return results


def judge_floor(results: dict[str, Measure | None]) -> None:
    """(g) ÷ (f) in CPU, and what of it the checksum and the byte counts account for."""
    a, e, f, g = results["a"], results["e"], results["f"], results["g"]
    if f is None or g is None:
        print("  GOAL MISSED: check ÷ polars floor not measured (a child failed)")
        return
    ratio = g.cpu / f.cpu
    verdict = "ok" if ratio <= FLOOR_GOAL else "GOAL MISSED"
    print(
        f"  {verdict}: hdh-wizard check CPU ÷ polars parse floor CPU = {g.cpu:.2f} / {f.cpu:.2f}"
        f" s = {ratio:.2f} (goal ≤ {FLOOR_GOAL:g}; whole processes)"
    )
    if g.work_cpu is not None and f.work_cpu:
        print(
            f"  (the work alone, interpreter and imports left out: {g.work_cpu:.2f} /"
            f" {f.work_cpu:.2f} s = {g.work_cpu / f.work_cpu:.2f})"
        )
        for m, what in ((a, "SHA-256 alone (a)"), (e, "the byte scan (e)")):
            if m is not None and m.work_cpu is not None:
                print(
                    f"  the floor plus {what}: ({f.work_cpu:.2f} + {m.work_cpu:.2f}) /"
                    f" {f.work_cpu:.2f} = {(f.work_cpu + m.work_cpu) / f.work_cpu:.2f}"
                    " — no check that hashes the file can go below it"
                )
    verdict = "ok" if g.peak_mib * 1024**2 <= MEMORY_GOAL else "GOAL MISSED"
    print(
        f"  {verdict}: (g) peak memory {g.peak_mib:.0f} MiB (goal ≤ {MEMORY_GOAL // 1024**2} MiB)"
    )


def judge(first: dict[str, Measure | None], scaled: dict[str, Measure | None] | None) -> None:
    print("\nGoals")
    judge_floor(first)
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
        print("  (c) < (d): not measured (duckdb not installed, or --no-duckdb)")
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
        small_g, big_g = first["g"], scaled["g"]
        if small_g is not None and big_g is not None:
            change = big_g.peak_mib / small_g.peak_mib - 1
            verdict = "ok" if abs(change) <= SCALING_TOLERANCE else "GOAL MISSED"
            print(
                f"  {verdict}: hdh-wizard check peak memory on the 4× file {big_g.peak_mib:.0f}"
                f" MiB vs {small_g.peak_mib:.0f} MiB ({change:+.1%})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, help="CSV to inspect (default: generated)")
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the generated CSV")
    parser.add_argument(
        "--memory-scaling", action="store_true", help="also inspect a 4× larger file"
    )
    parser.add_argument(
        "--no-duckdb", action="store_true", help="leave out (d), the slowest measurement"
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
        first = run_on(path, not args.no_duckdb)
        scaled = run_on(larger, not args.no_duckdb) if larger is not None else None
        judge(first, scaled)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
