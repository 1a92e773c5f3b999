"""The commands a partner runs, timed end to end on a generated health CSV (docs/performance.md).

    python benchmarks/command_speed.py [--sizes 2,8] [--shape stays|wide] [--folder DIR]
                                       [--csv FILE ...] [--upload] [--first-frame]

For each size a CSV is written by `benchmarks/make_health_csv.py` (in --folder, reused when a file
of the same name is already there; in a temporary folder removed at the end otherwise), or the
files given with --csv are taken as they are. Then, on each file, every measurement is a
subprocess whose wall time, CPU time (user + sys, from `os.wait4`) and peak resident memory
(`ru_maxrss`; the anonymous part, sampled from /proc, beside it) are printed:

  wc -l                      baseline: the bytes read once
  risk 3 QI                  hdh-wizard risk FILE --qi age,sexe,finess --sensitive code_cim10 --json
  DuckDB 3 QI                the same classes and l-diversity with DuckDB's GROUP BY
  risk 5 QI                  … --qi age,sexe,finess,date_entree,duree_sejour
                                 --sensitive code_cim10,deces --json
  DuckDB 5 QI                the same with DuckDB
  check                      hdh-wizard check FILE --json
  polars floor               polars' own parse of every column, its floor for `check`:
                             pl.scan_csv(f).select(pl.all().null_count())
                               .collect(engine="streaming")

The hdh-wizard commands run with HDH_WIZARD_PHASES naming a temporary file; their phase breakdown
(`hdh_wizard.phases.read_phases`, whatever phases the command writes) is printed beside the total.
The risk figures are compared with DuckDB's (records, classes, k, records in small classes,
unique records, smallest l). Both shapes of the generator hold the columns used here.

Then the goals table: risk ÷ DuckDB ≤ 1.5 in CPU and wall for both choices; risk and check peak
RSS ≤ 1 GiB, and within ±10 % between the smallest and the largest file of the run; check CPU ÷
polars' floor ≤ 1.3. The S3 upload row is measured by `benchmarks/s3_upload_speed.py` (run on the
first file with --upload) and the anonymity step's first frame by
`benchmarks/anonymity_first_frame.py` (run with --first-frame). Exits 0 whatever the figures (a
measurement, not a test); a missed goal prints a "GOAL MISSED" line, a command that fails (exit 2
or more, or a traceback) prints "FAILED" with its error.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inspect_speed import GIB, warm_up  # noqa: E402
from risk_speed import DUCKDB_CHILD, THRESHOLD  # noqa: E402

from hdh_wizard.phases import ENV as PHASES_ENV  # noqa: E402
from hdh_wizard.phases import read_phases  # noqa: E402

WIZARD = Path(sys.executable).parent / "hdh-wizard"
SPEED_GOAL = 1.5  # risk ÷ DuckDB, CPU and wall
FLOOR_GOAL = 1.3  # check CPU ÷ polars' parse floor
MEMORY_GOAL = 1 * GIB
SCALING_TOLERANCE = 0.10
CHOICES = {
    "3 QI": ("age,sexe,finess", "code_cim10"),
    "5 QI": ("age,sexe,finess,date_entree,duree_sejour", "code_cim10,deces"),
}
FIGURES = ("records", "classes", "k", "in_small", "unique", "l")
# DuckDB takes up to 80 % of the machine's memory by default: on a shared machine the 5 QI GROUP
# BY of 8 GB (65 million classes) is killed. Then it runs again within this limit, spilling to a
# temporary folder (slower: its CPU then grows by about 40 % on 2 GB).
DUCKDB_MEMORY_LIMIT = "4GB"
DUCKDB_LIMITED = DUCKDB_CHILD.replace(
    "import duckdb\n",
    "import duckdb\n"
    f"duckdb.sql(\"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'\")\n"
    "duckdb.sql(\"SET temp_directory='\" + os.environ['BENCH_DUCKDB_TEMP'] + \"'\")\n",
    1,
)

# The floor as docs/performance.md writes it (argv[2]: options of `scan_csv`, JSON).
POLARS_FLOOR = """
import json, sys
import polars as pl
lazy = pl.scan_csv(sys.argv[1], **json.loads(sys.argv[2]))
lazy.select(pl.all().null_count()).collect(engine="streaming")
"""
# When polars' guess of the types from the first 100 rows fails further down (an INSEE code such
# as 2A004 after 100 numeric ones, in the `wide` shape), the guess from more rows, then every
# column read as text: each in a fresh process, so that the failed try costs the floor nothing.
FLOOR_VARIANTS: tuple[dict[str, object], ...] = (
    {},
    {"infer_schema_length": 100_000},
    {"infer_schema": False},
)


@dataclass
class Run:
    """One command's figures, as the parent saw its child."""

    label: str
    wall: float
    cpu: float  # user + sys of the child (and of the children it waited for)
    peak_mib: float  # ru_maxrss: resident memory, the file's mapped pages included
    anon_mib: float | None  # peak of RssAnon sampled from /proc (heap, buffers), Linux only
    code: int
    stdout: str
    stderr: str
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    failed: bool = False


def _sample_anon(pid: int, peak: list[int], done: threading.Event) -> None:
    """The largest RssAnon (KiB) of the process `pid` while it runs, every 20 ms."""
    status = Path(f"/proc/{pid}/status")
    while not done.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except (OSError, ValueError):
            return
        done.wait(0.02)


def execute(
    label: str,
    command: Sequence[str],
    *,
    ok_codes: tuple[int, ...] = (0,),
    phases: bool = False,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `command` as a child (in `cwd`), wait for it with `os.wait4`, return its figures."""
    env = {**os.environ, **(extra_env or {})}
    with tempfile.TemporaryDirectory(prefix="command-speed-") as scratch:
        out_path, err_path = Path(scratch) / "stdout", Path(scratch) / "stderr"
        phase_file = Path(scratch) / "phases.jsonl"
        if phases:
            env[PHASES_ENV] = str(phase_file)
        else:
            env.pop(PHASES_ENV, None)
        with out_path.open("wb") as out, err_path.open("wb") as err:
            start = time.perf_counter()
            child = subprocess.Popen(list(command), stdout=out, stderr=err, env=env, cwd=cwd)
            peak, done = [0], threading.Event()
            sampler = threading.Thread(target=_sample_anon, args=(child.pid, peak, done))
            sampler.start()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            done.set()
            sampler.join()
            child.returncode = os.waitstatus_to_exitcode(status)  # already reaped
        stdout = out_path.read_text(errors="replace")
        stderr = err_path.read_text(errors="replace")
        run = Run(
            label=label,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            peak_mib=usage.ru_maxrss / 1024,  # KiB on Linux
            anon_mib=peak[0] / 1024 if peak[0] else None,
            code=child.returncode,
            stdout=stdout,
            stderr=stderr,
            phases=read_phases(phase_file) if phases else {},
        )
    run.failed = run.code not in ok_codes or "Traceback (most recent call last)" in run.stderr
    return run


def show(run: Run) -> None:
    anon = f" (anonymous {run.anon_mib:6.0f} MiB)" if run.anon_mib is not None else ""
    print(
        f"  {run.label:<14} wall {run.wall:8.2f} s  CPU {run.cpu:8.2f} s"
        f"  peak {run.peak_mib:7.0f} MiB{anon}  exit {run.code}",
        flush=True,
    )
    if run.failed:
        print(f"    FAILED: {run.label} exited {run.code}")
        for line in run.stderr.strip().splitlines()[-15:]:
            print(f"    {line}")
    # Phases may nest (`check.inspect` holds `check.profile…`): shown as written, never summed.
    width = max((len(name) for name in run.phases), default=0)
    for name, figures in run.phases.items():
        share = figures["cpu"] / run.cpu if run.cpu else 0.0
        print(
            f"    · {name:<{width}}  wall {figures['wall']:8.2f} s  CPU {figures['cpu']:8.2f} s"
            f"  ({share:4.0%} of the command's CPU)"
        )


def risk_figures(run: Run) -> dict[str, object] | None:
    """The risk command's figures in DuckDB's terms, from its JSON report."""
    try:
        original = json.loads(run.stdout)["tables"][0]["original"]
        return {
            "records": original["records"],
            "classes": original["classes"],
            "k": original["k"],
            "in_small": original["records_in_small_classes"],
            "unique": original["unique_records"],
            "l": [d["smallest_l"] for d in original["l_diversity"]],
        }
    except (ValueError, LookupError, TypeError):
        return None


def duckdb_figures(run: Run) -> dict[str, object] | None:
    try:
        data = json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return {key: data[key] for key in FIGURES}


def measure_file(path: Path) -> dict[str, Run]:
    size = path.stat().st_size
    print(f"\n{path} — {size / 1e9:.2f} GB ({size:,} bytes)", flush=True)
    warm_up(path)
    name = str(path)
    runs: dict[str, Run] = {}

    def keep(key: str, run: Run) -> None:
        runs[key] = run
        show(run)

    keep("wc", execute("wc -l", ["wc", "-l", name]))
    has_duckdb = importlib.util.find_spec("duckdb") is not None
    for choice, (quasi, sensitive) in CHOICES.items():
        command = [str(WIZARD), "risk", name, "--qi", quasi, "--sensitive", sensitive, "--json"]
        keep(f"risk {choice}", execute(f"risk {choice}", command, ok_codes=(0, 1), phases=True))
        if has_duckdb:
            keep(f"duckdb {choice}", duckdb_run(choice, name, quasi, sensitive))
        else:
            print("  duckdb not installed (pip install -e '.[bench]'): DuckDB skipped")
    keep(
        "check",
        execute("check", [str(WIZARD), "check", name, "--json"], ok_codes=(0, 1), phases=True),
    )
    for options in FLOOR_VARIANTS:
        command = [sys.executable, "-c", POLARS_FLOOR, name, json.dumps(options)]
        floor = execute("polars floor", command)
        if not floor.failed:
            break
        error = (floor.stderr.strip().splitlines() or ["?"])[-1][:200]
        print(f"  polars floor with scan_csv options {options} failed: {error}")
    keep("polars", floor)
    if FLOOR_VARIANTS.index(options):
        print(f"  polars floor measured with scan_csv options {options}")
    lines = runs["wc"].stdout.split()[0] if runs["wc"].stdout.strip() else "?"
    print(f"  wc -l: {lines} lines (header included)")
    print(f"  check: {check_summary(runs['check'])}")
    return runs


def duckdb_run(choice: str, name: str, quasi: str, sensitive: str) -> Run:
    """DuckDB's GROUP BY; killed for memory (or failed), once more within DUCKDB_MEMORY_LIMIT.
    Run in a scratch folder: an in-memory DuckDB spills to `.tmp/` in its working folder."""
    with tempfile.TemporaryDirectory(prefix="command-speed-duckdb-") as scratch:
        command = [sys.executable, "-c", DUCKDB_CHILD, name, quasi, sensitive]
        run = execute(f"DuckDB {choice}", command, cwd=Path(scratch))
        if not run.failed:
            return run
        show(run)
        print(
            f"    DuckDB {choice} again with memory_limit={DUCKDB_MEMORY_LIMIT}, spilling to disk"
        )
        command = [sys.executable, "-c", DUCKDB_LIMITED, name, quasi, sensitive]
        label = f"DuckDB {choice} ≤{DUCKDB_MEMORY_LIMIT}"
        spill = {"BENCH_DUCKDB_TEMP": scratch}
        return execute(label, command, extra_env=spill, cwd=Path(scratch))


def check_summary(run: Run) -> str:
    """The check's verdict, rows and problems, to see that a faster check says the same."""
    try:
        report = json.loads(run.stdout)["files"][0]
        problems = sorted({p["code"] for p in report["problems"]})
        rows = report["table"]["rows"] if report.get("table") else None
        return f"verdict {report['verdict']}, {rows} rows, problems {problems}"
    except (ValueError, LookupError, TypeError):
        return "no report"


def verdict(ok: bool) -> str:
    return "ok         " if ok else "GOAL MISSED"


def ratio_line(what: str, ours: float, theirs: float, goal: float) -> None:
    ratio = ours / theirs if theirs else float("inf")
    figures = f"{ours:.2f} s ÷ {theirs:.2f} s = {ratio:.2f}"
    print(f"  {verdict(ratio <= goal)}  {what}: {figures} (goal ≤ {goal:g})")


def judge(results: dict[Path, dict[str, Run]]) -> None:
    print("\nGoals (docs/performance.md)")
    for path, runs in results.items():
        print(f"{path.name} ({path.stat().st_size / 1e9:.2f} GB)")
        for choice in CHOICES:
            risk, duck = runs.get(f"risk {choice}"), runs.get(f"duckdb {choice}")
            if risk is None or risk.failed:
                print(f"  GOAL MISSED  risk {choice}: the command failed")
                continue
            if duck is None or duck.failed:
                print(f"  (risk {choice} ÷ DuckDB: not measured, DuckDB missing or failed)")
                continue
            ours, theirs = risk_figures(risk), duckdb_figures(duck)
            threshold = json.loads(risk.stdout)["tables"][0]["original"]["threshold"]
            if threshold != THRESHOLD:
                print(
                    f"  (risk used threshold {threshold}, DuckDB {THRESHOLD}: small classes differ)"
                )
            if ours != theirs:
                print(f"  GOAL MISSED  risk {choice} and DuckDB disagree: {ours} vs {theirs}")
            else:
                print(f"  ok           risk {choice} and DuckDB agree: {ours}")
            ratio_line(f"risk {choice} ÷ {duck.label}, CPU ", risk.cpu, duck.cpu, SPEED_GOAL)
            ratio_line(f"risk {choice} ÷ {duck.label}, wall", risk.wall, duck.wall, SPEED_GOAL)
        for key in ("risk 3 QI", "risk 5 QI", "check"):
            run = runs.get(key)
            if run is None or run.failed:
                print(f"  GOAL MISSED  {key}: the command failed")
                continue
            anon = f", anonymous {run.anon_mib:.0f} MiB" if run.anon_mib is not None else ""
            print(
                f"  {verdict(run.peak_mib * 1024**2 <= MEMORY_GOAL)}  {key} peak RSS"
                f" {run.peak_mib:.0f} MiB{anon} (goal ≤ {MEMORY_GOAL // 1024**2} MiB)"
            )
        check, floor = runs.get("check"), runs.get("polars")
        if check is not None and floor is not None and not check.failed and not floor.failed:
            ratio_line("check ÷ polars floor, CPU", check.cpu, floor.cpu, FLOOR_GOAL)
            print(
                f"  (for information: check ÷ polars floor, wall = {check.wall / floor.wall:.2f})"
            )
    if len(results) > 1:
        (small_path, small), (big_path, big) = min_max(results)
        print(f"memory from {small_path.name} to {big_path.name}")
        for key in ("risk 3 QI", "risk 5 QI", "check"):
            a, b = small.get(key), big.get(key)
            if a is None or b is None or a.failed or b.failed:
                print(f"  GOAL MISSED  {key}: not measured on both files")
                continue
            change = b.peak_mib / a.peak_mib - 1
            print(
                f"  {verdict(abs(change) <= SCALING_TOLERANCE)}  {key} peak RSS {a.peak_mib:.0f}"
                f" → {b.peak_mib:.0f} MiB ({change:+.1%}, goal within ±{SCALING_TOLERANCE:.0%})"
            )
    else:
        print("memory flat between 2 GB and 8 GB: not measured (give --sizes 2,8)")


def min_max(
    results: dict[Path, dict[str, Run]],
) -> tuple[tuple[Path, dict[str, Run]], tuple[Path, dict[str, Run]]]:
    ordered = sorted(results.items(), key=lambda item: item[0].stat().st_size)
    return ordered[0], ordered[-1]


def other_rows(first: Path, upload: bool, first_frame: list[str] | None) -> None:
    """The S3 upload and the anonymity step's first frame: run (`first_frame`: the arguments of
    anonymity_first_frame.py) or said how to run."""
    script = HERE / "s3_upload_speed.py"
    if upload:
        print(f"\nS3 upload ({script.name} {first.name})", flush=True)
        subprocess.run([sys.executable, str(script), str(first)], check=False)
    else:
        print(
            f"\nS3 upload ÷ boto3 (goal ≥ 1.0 throughput, CPU ≤ 1.5×): run"
            f" `{sys.executable} {script} {first}` (or give --upload)"
        )
    script = HERE / "anonymity_first_frame.py"
    if first_frame is not None:
        print(f"\nAnonymity step first frame ({script.name})", flush=True)
        subprocess.run([sys.executable, str(script), *first_frame], check=False)
    else:
        print(
            f"Anonymity step first frame on a measured 1.2 GB project (goal < 1 s): run"
            f" `{sys.executable} {script}` (or give --first-frame)"
        )


def generate(folder: Path, size_gb: float, shape: str) -> Path:
    target = folder / f"health_{shape}_{size_gb:g}g.csv"
    if target.is_file():
        print(f"reusing {target}", flush=True)
        return target
    print(f"generating {target} ({size_gb:g} GB, shape {shape}) …", flush=True)
    start = time.perf_counter()
    partial = target.with_name(target.name + ".part")  # never reused half written
    command = [sys.executable, str(HERE / "make_health_csv.py"), str(partial), f"{size_gb:g}"]
    subprocess.run([*command, "--shape", shape], check=True)
    partial.rename(target)
    print(f"  written in {time.perf_counter() - start:.0f} s", flush=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2", help="sizes in GB, comma separated (e.g. 2,8)")
    parser.add_argument("--shape", choices=("stays", "wide"), default="stays", help="generated")
    parser.add_argument("--folder", type=Path, help="where to write (and reuse) the files")
    parser.add_argument("--csv", type=Path, action="append", help="measure this file (repeatable)")
    parser.add_argument("--upload", action="store_true", help="also run s3_upload_speed.py")
    parser.add_argument(
        "--first-frame", action="store_true", help="also run anonymity_first_frame.py"
    )
    args = parser.parse_args()
    if not WIZARD.is_file():
        print(f"{WIZARD}: not installed (pip install -e '.[dev,bench]')")
        return 0
    print(f"hdh-wizard: {WIZARD}; risk's threshold as DuckDB's: {THRESHOLD}")
    with tempfile.TemporaryDirectory(prefix="command-speed-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if args.csv:
            paths = [p for p in args.csv if p.is_file()]
            for missing in set(args.csv) - set(paths):
                print(f"{missing}: not a file")
        else:
            sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
            paths = [generate(folder, size, args.shape) for size in sizes]
        if not paths:
            return 0
        results = {path: measure_file(path) for path in paths}
        judge(results)
        first_frame = [] if args.folder is None else ["--folder", str(args.folder)]
        if args.first_frame:
            first_frame += ["--shape", args.shape]
        other_rows(paths[0], args.upload, first_frame if args.first_frame else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
