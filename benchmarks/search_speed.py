"""The anonymity search on a large health CSV, beside one measure pass of the same choice.

    python benchmarks/search_speed.py [CSV] [--size-gb 2] [--qi age,sexe,duree_sejour,deces]
                                      [--sensitive libelle] [--near-unique date_entree,finess]

Without CSV, one is generated with `benchmarks/make_health_csv.py`. Each measurement runs in
its own child process reporting its wall time and peak memory (inspect_speed.py's helpers):

  (a) `wc -l` (baseline: reading the bytes once),
  (b) one measure pass: `measure_risk` over the quasi-identifiers and sensitive attributes,
  (c) the automatic search (`solutions.search_table`, the screen's and `risk --search`'s),
  (d) the search asked on near-unique quasi-identifiers (the QIs above plus `--near-unique`):
      it must refuse, quickly and in little memory, naming the columns to generalise first.

Goals (docs/performance.md): (c) ≤ 3 × (b), (c) and (d) peak memory ≤ 1 GiB. Exits 0 whatever
the figures (a measurement, not a test); missed goals print "GOAL MISSED". The search against
ARX itself, on ARX's Adult benchmark, is `benchmarks/anonymity_search.py ADULT_FOLDER`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inspect_speed import _PEAK, GIB, WC_CHILD, Measure, generate, measure, show, warm_up  # noqa: E402
from risk_speed import WIZARD_CHILD as MEASURE_CHILD  # noqa: E402

SPEED_GOAL = 3.0
MEMORY_GOAL = 1 * GIB

SEARCH_CHILD = (
    _PEAK
    + """
import json, time
from pathlib import Path
from hdh_wizard.errors import HdhWizardError
from hdh_wizard.inspect.risk.analysis import Choice
from hdh_wizard.inspect.risk.solutions import search_table
from hdh_wizard.inspect.risk.tables import open_tables
path, quasi, sensitive = Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3].split(",")
start = time.perf_counter()
refused = ""
best = None
try:
    with open_tables(path, path.name) as (table,):
        found = search_table(table, Choice(tuple(quasi), tuple(s for s in sensitive if s)))
    node = found.result.best
    if node is not None:
        best = {"loss": node.loss, "smallest": node.smallest, "classes": node.classes,
                "rules": [f"{r.column}={r.coarsening.value}" for r in found.rules_of(node) or ()],
                "optimal": found.result.optimal, "evaluated": found.result.evaluated}
except HdhWizardError as error:
    refused = error.key
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "anon": peak_anon_kib(),
                  "best": best, "refused": refused}))
"""
)


def run(path: Path, quasi: str, sensitive: str, near_unique: str) -> dict[str, Measure | None]:
    print(f"\n{path} — {path.stat().st_size / 1e9:.2f} GB; QIs {quasi}; sensitive {sensitive}")
    warm_up(path)
    args = [quasi, sensitive]
    wide = [f"{quasi},{near_unique}", sensitive]
    results = {
        "a": measure("(a) wc -l", WC_CHILD, path),
        "b": measure("(b) one measure pass", MEASURE_CHILD, path, args),
        "c": measure("(c) the search", SEARCH_CHILD, path, args),
        "d": measure("(d) the search, near-unique QIs", SEARCH_CHILD, path, wide),
    }
    for m in results.values():
        if m is not None:
            show(m)
    return results


def judge(results: dict[str, Measure | None]) -> None:
    print("\nGoals")
    a, b, c, d = (results[k] for k in "abcd")
    if b is None or c is None:
        print("  GOAL MISSED: a measurement failed")
        return
    print(f"  search's best: {c.extra['best']}")
    if a is not None:
        print(f"  (c)/(a) = {c.seconds / a.seconds:.1f} (for information: wc -l baseline)")
    ratio = c.seconds / b.seconds
    print(f"  {'ok' if ratio <= SPEED_GOAL else 'GOAL MISSED'}: (c)/(b) = {ratio:.2f} (goal ≤ 3)")
    for m in (c, d):
        if m is None:
            continue
        fits = m.peak_mib * 1024**2 <= MEMORY_GOAL
        print(f"  {'ok' if fits else 'GOAL MISSED'}: {m.label} peak {m.peak_mib:.0f} MiB (≤ 1024)")
    if d is not None:
        refused = d.extra["refused"] == "risk.search.error.too_many_combinations"
        verdict = "ok" if refused else "GOAL MISSED"
        print(f"  {verdict}: near-unique QIs refused in {d.seconds:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="?", type=Path, help="CSV to search (default: generated)")
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the generated CSV")
    parser.add_argument("--qi", default="age,sexe,duree_sejour,deces", help="quasi-identifiers")
    parser.add_argument("--sensitive", default="libelle", help="sensitive attributes")
    parser.add_argument("--near-unique", default="date_entree,finess", help="QIs added for (d)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="search-speed-") as scratch:
        path = args.csv or generate(Path(scratch) / "sejours.csv", args.size_gb)
        judge(run(path, args.qi, args.sensitive, args.near_unique))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
