"""How fast and lean k-anonymity and l-diversity are on a large CSV, against DuckDB in one run.

    python benchmarks/risk_speed.py [CSV] [--size-gb 2] [--qi age,sexe,finess] [--sensitive S]

Without CSV, one is generated with `benchmarks/make_health_csv.py` in a temporary folder. Each
measurement runs in its own child process reporting its wall time and peak memory (see
inspect_speed.py, whose helpers this script shares):

  (a) `wc -l` (baseline: reading the bytes once),
  (b) hdh-wizard's `measure_risk` over the quasi-identifiers, with the l-diversity of each
      sensitive attribute (the file opened as the anonymity step opens it),
  (c) DuckDB's equivalent: `GROUP BY` the quasi-identifiers with `count(*)` and
      `count(DISTINCT sensitive)`, then the smallest class, small classes, uniques and smallest l.

Goals: (b) ≤ 1.5 × (c), (b) peak memory ≤ 1 GiB. The two must agree on every figure. Exits 0
whatever the figures (a measurement, not a test); missed goals print "GOAL MISSED".
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inspect_speed import _PEAK, GIB, WC_CHILD, Measure, generate, measure, show, warm_up  # noqa: E402

SPEED_GOAL = 1.5  # (b) at most this many times (c)
MEMORY_GOAL = 1 * GIB
THRESHOLD = 11  # the open-data default (inspect.risk.measures.DEFAULT_THRESHOLD)

WIZARD_CHILD = (
    _PEAK
    + """
import json, time
from pathlib import Path
from hdh_wizard.inspect.risk.measures import measure_risk
from hdh_wizard.inspect.risk.tables import open_tables
path, quasi, sensitive = Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3].split(",")
start = time.perf_counter()
with open_tables(path, path.name) as (table,):
    m = measure_risk(table.frame, quasi, [s for s in sensitive if s], threshold=THRESHOLD)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "anon": peak_anon_kib(),
                  "records": m.records, "classes": m.classes, "k": m.k,
                  "in_small": m.records_in_small, "unique": m.unique_records,
                  "l": [d.smallest_l for d in m.diversity]}))
""".replace("THRESHOLD", str(THRESHOLD))
)
DUCKDB_CHILD = (
    _PEAK
    + """
import json, time
import duckdb
path = sys.argv[1].replace("'", "''")
quasi, sensitive = sys.argv[2].split(","), [s for s in sys.argv[3].split(",") if s]
groups = ", ".join(f'"{q}"' for q in quasi)
distinct = "".join(f', count(DISTINCT "{s}") AS l{i}' for i, s in enumerate(sensitive))
smallest = "".join(f", min(l{i})" for i in range(len(sensitive)))
start = time.perf_counter()
row = duckdb.sql(
    f"SELECT sum(n), count(*), min(n), sum(n) FILTER (WHERE n < THRESHOLD),"
    f" sum(n) FILTER (WHERE n = 1)"
    f"{smallest} FROM (SELECT count(*) AS n{distinct}"
    f" FROM read_csv('{path}', all_varchar = true) GROUP BY {groups})"
).fetchall()[0]
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "anon": peak_anon_kib(),
                  "records": row[0], "classes": row[1], "k": row[2], "in_small": row[3] or 0,
                  "unique": row[4] or 0, "l": list(row[5:])}))
""".replace("THRESHOLD", str(THRESHOLD))
)


def run(path: Path, quasi: str, sensitive: str) -> dict[str, Measure | None]:
    size = path.stat().st_size
    print(f"\n{path} — {size / 1e9:.2f} GB; quasi-identifiers {quasi}; sensitive {sensitive}")
    warm_up(path)
    args = [quasi, sensitive]
    results: dict[str, Measure | None] = {
        "a": measure("(a) wc -l", WC_CHILD, path),
        "b": measure("(b) hdh-wizard measure_risk", WIZARD_CHILD, path, args),
        "c": None,
    }
    if importlib.util.find_spec("duckdb") is not None:
        results["c"] = measure("(c) DuckDB GROUP BY", DUCKDB_CHILD, path, args)
    else:
        print("  duckdb not installed (pip install -e '.[bench]'), skipped")
    for m in results.values():
        if m is not None:
            show(m)
    return results


def judge(results: dict[str, Measure | None]) -> None:
    print("\nGoals")
    a, b, c = results["a"], results["b"], results["c"]
    if b is None:
        print("  GOAL MISSED: the wizard's measure failed")
        return
    figures = {k: b.extra[k] for k in ("records", "classes", "k", "in_small", "unique", "l")}
    print(f"  wizard: {figures}")
    if a is not None:
        print(f"  (b)/(a) = {b.seconds / a.seconds:.2f} (for information: wc -l baseline)")
    if c is not None:
        duck = {k: c.extra[k] for k in figures}
        same = duck == figures
        print(f"  {'ok' if same else 'GOAL MISSED'}: DuckDB agrees ({duck})")
        ratio = b.seconds / c.seconds
        verdict = "ok" if ratio <= SPEED_GOAL else "GOAL MISSED"
        print(f"  {verdict}: (b)/(c) = {ratio:.2f} (goal ≤ {SPEED_GOAL:g})")
    verdict = "ok" if b.peak_mib * 1024**2 <= MEMORY_GOAL else "GOAL MISSED"
    print(
        f"  {verdict}: (b) peak memory {b.peak_mib:.0f} MiB (goal ≤ {MEMORY_GOAL // 1024**2} MiB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, help="CSV to measure (default: generated)")
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the generated CSV")
    parser.add_argument("--qi", default="age,sexe,finess", help="quasi-identifiers")
    parser.add_argument("--sensitive", default="code_cim10", help="sensitive attributes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="risk-speed-") as scratch:
        path = args.csv or generate(Path(scratch) / "sejours.csv", args.size_gb)
        if not path.is_file():
            print(f"{path}: not a file")
            return 0
        judge(run(path, args.qi, args.sensitive))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
