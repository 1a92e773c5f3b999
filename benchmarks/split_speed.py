"""How fast and lean splitting a large CSV into one file per value is, against DuckDB in one run.

    python benchmarks/split_speed.py [CSV] [--size-gb 2] [--column libelle] [--repeat 2]

Without CSV, one is generated with `benchmarks/make_health_csv.py` in a temporary folder. Each
side runs in its own child process reporting its wall time and peak memory (see inspect_speed.py,
whose helpers this script shares), one after the other, each writing into a temporary folder
removed afterwards:

  (a) hdh-wizard's `split_table` on the column: one conformant CSV per value, each file's
      SHA-256 and size, its rows counted again and checked against the source's,
  (b) DuckDB's `COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT csv, PARTITION_BY (col))`.

The sides run alternately, `--repeat` times each (2 by default), and the best run of each is
compared: on a shared machine, the other work weighs on both alike. Goals: (a) ≤ 1.0 × (b) in
time, (a) peak resident memory (ru_maxrss) ≤ 1 GiB. The two must find the same rows per value
(DuckDB's files counted after its timing). Exits 0 whatever the figures (a measurement, not a
test); missed goals print "GOAL MISSED".
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inspect_speed import _PEAK, GIB, Measure, generate, measure, show, warm_up  # noqa: E402

SPEED_GOAL = 1.0  # (a) at most this many times (b)
MEMORY_GOAL = 1 * GIB

WIZARD_CHILD = (
    _PEAK
    + """
import json, resource, time
from pathlib import Path
import polars as pl
from hdh_wizard.inspect.split import split_table
path, column, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
index = pl.scan_csv(path, n_rows=0).collect_schema().names().index(column)
start = time.perf_counter()
result = split_table(path, index, out)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "anon": peak_anon_kib(),
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "rows": {p.values[0] if p.values else "": p.rows for p in result.parts},
                  "bytes": sum(p.size for p in result.parts), "files": len(result.parts)}))
"""
)
DUCKDB_CHILD = (
    _PEAK
    + """
import json, os, resource, time, urllib.parse
from pathlib import Path
import duckdb
import polars as pl
path, column, out = sys.argv[1].replace("'", "''"), sys.argv[2], Path(sys.argv[3])
target = str(out).replace("'", "''")
start = time.perf_counter()
duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}')) TO '{target}'"
           f' (FORMAT csv, PARTITION_BY ("{column}"))')
seconds = time.perf_counter() - start
peak, anon = peak_kib(), peak_anon_kib()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
rows, size, files = {}, 0, 0
for folder in sorted(out.iterdir()):
    value = urllib.parse.unquote(folder.name.partition("=")[2])
    for file in folder.iterdir():
        rows[value] = rows.get(value, 0) + pl.scan_csv(file).select(pl.len()).collect().item()
        size += file.stat().st_size
        files += 1
print(json.dumps({"seconds": seconds, "maxrss": peak, "anon": anon, "cpu": cpu, "rows": rows,
                  "bytes": size, "files": files}))
"""
)


def run(path: Path, column: str, scratch: Path, repeat: int) -> dict[str, list[Measure]]:
    size = path.stat().st_size
    print(f"\n{path} — {size / 1e9:.2f} GB; split on column {column!r}; {repeat} run(s) each")
    warm_up(path)
    sides = {"a": ("(a) hdh-wizard split_table", WIZARD_CHILD)}
    if importlib.util.find_spec("duckdb") is not None:
        sides["b"] = ("(b) DuckDB COPY … PARTITION_BY", DUCKDB_CHILD)
    else:
        print("  duckdb not installed (pip install -e '.[bench]'), skipped")
    results: dict[str, list[Measure]] = {side: [] for side in ("a", "b")}
    # Alternated, so that the other work of a shared machine weighs on both sides alike.
    for _ in range(repeat):
        for side, (label, child) in sides.items():
            out = scratch / side
            m = measure(label, child, path, [column, str(out)])
            _remove(out)  # each side finds the disk as empty as the other did
            if m is not None:
                show(m)
                print(f"    {'':<34} cpu {m.extra['cpu']:.2f} s (user + system, whole process)")
                results[side].append(m)
    return results


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def judge(results: dict[str, list[Measure]]) -> None:
    print("\nGoals (best run of each side; memory: the highest peak)")
    if not results["a"]:
        print("  GOAL MISSED: the wizard's split failed")
        return
    a = min(results["a"], key=lambda m: m.seconds)
    peak = max(m.peak_mib for m in results["a"])
    anon = max((m.anon_mib for m in results["a"] if m.anon_mib is not None), default=None)
    print(f"  wizard: {a.extra['files']} files, {a.extra['bytes']:,} bytes, rows {a.extra['rows']}")
    if results["b"]:
        b = min(results["b"], key=lambda m: m.seconds)
        print(f"  DuckDB: {b.extra['files']} files, {b.extra['bytes']:,} bytes")
        duck = {("" if k in ("", "NULL") else k): v for k, v in b.extra["rows"].items()}
        same = duck == a.extra["rows"]
        print(f"  {'ok' if same else 'GOAL MISSED'}: same rows per value as DuckDB")
        ratio = a.seconds / b.seconds
        verdict = "ok" if ratio <= SPEED_GOAL else "GOAL MISSED"
        print(
            f"  {verdict}: (a)/(b) = {ratio:.2f} ({a.seconds:.1f} s vs {b.seconds:.1f} s;"
            f" goal ≤ {SPEED_GOAL:g})"
        )
        cpu_a = min(float(m.extra["cpu"]) for m in results["a"])
        cpu_b = min(float(m.extra["cpu"]) for m in results["b"])
        print(
            f"  (for information: processor time {cpu_a:.1f} s vs {cpu_b:.1f} s,"
            f" ratio {cpu_a / cpu_b:.2f})"
        )
    verdict = "ok" if peak * 1024**2 <= MEMORY_GOAL else "GOAL MISSED"
    print(f"  {verdict}: (a) peak memory {peak:.0f} MiB (goal ≤ {MEMORY_GOAL // 1024**2} MiB)")
    if anon is not None:
        print(
            f"  (for information: (a) anonymous memory peaked at {anon:.0f} MiB; the rest"
            " of the peak is the file's pages mapped by polars)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, help="CSV to split (default: generated)")
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the generated CSV")
    parser.add_argument("--column", default="libelle", help="column to split on (by name)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side, alternated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="split-speed-") as scratch:
        folder = Path(scratch)
        path = args.csv or generate(folder / "sejours.csv", args.size_gb)
        if not path.is_file():
            print(f"{path}: not a file")
            return 0
        judge(run(path, args.column, folder, max(1, args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
