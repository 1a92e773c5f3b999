"""How fast, and at what CPU cost, a large file goes to a local S3 server, against boto3's own
TransferManager, measured in the same run.

    python benchmarks/s3_upload_speed.py [FILE] [--size-gb 2] [--workers N] [--rounds 1]

FILE defaults to /work/bench/health2g.csv when it exists, else 2 GB of random bytes generated
once in /work/bench/s3-bench.bin. A local S3 server (moto, `ThreadedMotoServer`) runs in a child
process on 127.0.0.1; each upload runs in its own child process, which reports its wall time,
its CPU time (user + system of the whole process, `getrusage(RUSAGE_SELF)`) and its peak
resident memory (`ru_maxrss`); the server's CPU during each upload is read from /proc:

  (a) boto3's `upload_file` (TransferManager, default TransferConfig: 8 MiB parts, 10 threads);
  (b) the wizard's `upload_file`, SHA-256 known, resume on: the real case after the inspection,
      which recorded the file's SHA-256 (same size, modification time and fingerprint). Each
      part's Content-MD5 and CRC32 are sent and its ETag checked, and the `MultipartState` is
      written to a JSON file (temp file, fsync, rename) after every part, as the state file is;
  (c) the same with the SHA-256 unknown: the whole file is read for it first (it becomes the
      object's metadata, set when the upload is created, so it cannot overlap the parts).

Goals (docs/performance.md): (b) throughput ≥ 1.0 × (a)'s and CPU ≤ 1.5 × (a)'s; peak memory
≤ 1 GiB.
(c) is printed against the same goals, with its floor: (b) plus the SHA-256 read first. The
wizard's phases (`HDH_WIZARD_PHASES`: the SHA-256, the parts, the completion) are printed beside
its totals, and so are what explains the rest: the CPU MD5 and SHA-256 take over the file here
(the wizard computes each part's MD5, boto3 does not; boto3 signs each body with its SHA-256
over http, the wizard does not), the client + server CPU of each upload (the server shares the
machine's cores), and the throughput up to the completion (moto then joins the parts in Python
and spools the object to disk, seconds S3 does not take). moto keeps objects in memory: each
object is deleted right after its run. The file is read once first so that every run finds it
in the page cache; the order of the uploads turns from one round to the next. Exits 0 whatever
the figures (a measurement, not a test); missed goals are printed as "GOAL MISSED" lines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = Path("/work/bench/health2g.csv")
GENERATED = Path("/work/bench/s3-bench.bin")
GIB = 1024**3
SPEED_GOAL = 1.0  # throughput ÷ boto3's, at least
CPU_GOAL = 1.5  # CPU ÷ boto3's, at most
MEMORY_GOAL = 1 * GIB
BUCKET = "hdh-bench"
KEY_ID, SECRET = "AKIDBENCH", "bench-secret"

SERVER_CHILD = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""

_MEASURE = """
import json, resource, sys, time
def measures(seconds):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss  # KiB
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "maxrss": peak}
"""

TRANSFER_MANAGER_CHILD = (
    _MEASURE
    + """
import boto3
endpoint, path, key = sys.argv[1:4]
client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench-secret")
completing = []
def before_complete(**_):
    completing.append(time.perf_counter())
client.meta.events.register("before-call.s3.CompleteMultipartUpload", before_complete)
start = time.perf_counter()
client.upload_file(path, "hdh-bench", key)
end = time.perf_counter()
figures = measures(end - start)
figures["complete"] = end - completing[0] if completing else 0.0
print(json.dumps(figures))
"""
)

WIZARD_CHILD = (
    _MEASURE
    + """
import os
from pathlib import Path
from hdh_wizard.services.storage import StorageConfig, connect, upload_file
endpoint, path, key, state_path, workers, sha256 = sys.argv[1:7]
config = StorageConfig(endpoint, "us-east-1", "hdh-bench", "", "AKIDBENCH")
client = connect(config, "bench-secret", max_connections=int(workers) + 2)
state_file = Path(state_path)
saves = [0, 0.0]
def save(state):
    # As the state file is saved: beside it, synced, renamed over it.
    began = time.perf_counter()
    text = json.dumps(None if state is None else state.to_dict())
    temporary = state_file.with_suffix(".tmp")
    with temporary.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, state_file)
    saves[0] += 1
    saves[1] += time.perf_counter() - began
start = time.perf_counter()
result = upload_file(client, Path(path), key, workers=int(workers), sha256=sha256 or None,
                     on_state=save, skip_existing=False)
figures = measures(time.perf_counter() - start)
figures.update(parts=result.parts, saves=saves[0], saving=saves[1], sha256=result.sha256)
print(json.dumps(figures))
"""
)

RUNS = ("tm", "known", "unknown")
LABELS = {
    "tm": "(a) boto3 upload_file (TransferManager)",
    "known": "(b) wizard, SHA-256 known, resumable",
    "unknown": "(c) wizard, SHA-256 unknown, resumable",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of a generated file")
    parser.add_argument("--workers", type=int, default=None, help="the wizard's parallel parts")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each upload (best kept)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from hdh_wizard.services.storage import DEFAULT_WORKERS, file_sha256

    workers = args.workers or DEFAULT_WORKERS
    path = args.file or (DEFAULT_FILE if DEFAULT_FILE.exists() else _generated(args.size_gb))
    size = path.stat().st_size
    print(f"file: {path} ({size / 1e9:.2f} GB); wizard workers: {workers}; cores: {os.cpu_count()}")
    _warm(path)
    sha256 = file_sha256(path)  # what the inspection recorded
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in RUNS}
    try:
        assert server.stdout is not None
        endpoint = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        admin = _client(endpoint)
        admin.create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory(prefix="hdh-s3-bench-") as folder:
            state = str(Path(folder) / "state.json")
            for round_number in range(args.rounds):
                shift = round_number % len(RUNS)
                for name in RUNS[shift:] + RUNS[:shift]:
                    key = f"bench-{round_number}-{name}"
                    phases = Path(folder) / f"phases-{round_number}-{name}.jsonl"
                    server_before = _cpu_of(server.pid)
                    if name == "tm":
                        run = _run(TRANSFER_MANAGER_CHILD, None, endpoint, str(path), key)
                    else:
                        known = sha256 if name == "known" else ""
                        argv = (endpoint, str(path), key, state, str(workers), known)
                        run = _run(WIZARD_CHILD, phases, *argv)
                        if run["sha256"] != sha256:
                            sys.exit(f"the wizard's SHA-256 differs: {run['sha256']} ≠ {sha256}")
                        run["phases"] = _phases(phases)
                        run["complete"] = run["phases"].get("upload complete", {}).get("wall", 0)
                    run["server_cpu"] = _cpu_of(server.pid) - server_before
                    _delete(admin, key)
                    runs[name].append(run)
                print(f"round {round_number + 1}: server peak memory {_server_peak(server)}")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=60)
    _report(size, runs)


def _generated(size_gb: float) -> Path:
    size = int(size_gb * 1e9)
    if GENERATED.exists() and GENERATED.stat().st_size == size:
        return GENERATED
    GENERATED.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {size / 1e9:.2f} GB of random bytes in {GENERATED}…")
    block = 64 * 1024 * 1024
    with GENERATED.open("wb") as handle:
        left = size
        while left:
            count = min(block, left)
            handle.write(os.urandom(count))
            left -= count
    return GENERATED


def _warm(path: Path) -> None:
    with path.open("rb", buffering=0) as handle:
        while handle.read(16 * 1024 * 1024):
            pass


def _client(endpoint: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def _delete(admin: Any, key: str) -> None:
    admin.delete_object(Bucket=BUCKET, Key=key)


def _run(code: str, phases: Path | None, *argv: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("HDH_WIZARD_PHASES", None)
    if phases is not None:
        env["HDH_WIZARD_PHASES"] = str(phases)
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        sys.exit(f"a benchmark child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _phases(path: Path) -> dict[str, dict[str, float]]:
    from hdh_wizard.phases import read_phases

    return read_phases(path)


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_peak(server: subprocess.Popen[str]) -> str:
    try:
        for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _report(size: int, runs: dict[str, list[dict[str, Any]]]) -> None:
    def speed(run: dict[str, Any]) -> float:
        return size / float(run["seconds"]) / 1e6

    for name in RUNS:
        each = ", ".join(
            f"{speed(run):.1f} MB/s {float(run['cpu']):.1f} s CPU "
            f"(completion {float(run['complete']):.1f} s)"
            for run in runs[name]
        )
        print(f"{LABELS[name][:3]} every round: {each}")
    # Each round's ratios are measured side by side; the best round is kept for each.
    tm = min(runs["tm"], key=lambda run: float(run["seconds"]))
    for name in RUNS:
        run = min(runs[name], key=lambda run: float(run["seconds"]))
        print(
            f"{LABELS[name]:40} {speed(run):7.1f} MB/s {float(run['seconds']):6.1f} s  "
            f"CPU {float(run['cpu']):5.1f} s  peak {float(run['maxrss']) / 1024:5.0f} MiB  "
            f"(server CPU {float(run['server_cpu']):5.1f} s; "
            f"completion {float(run['complete']):.1f} s)"
        )
        if name != "tm":
            print(
                f"    {int(run['parts'])} parts, {int(run['saves'])} state saves "
                f"({float(run['saving']):.1f} s); phases: ",
                end="",
            )
            print(
                ", ".join(
                    f"{phase} {value['wall']:.1f} s / {value['cpu']:.1f} s CPU"
                    for phase, value in run["phases"].items()
                )
                or "none recorded"
            )

    def sending(run: dict[str, Any]) -> float:
        """Seconds until CompleteMultipartUpload: moto then joins the parts in Python and
        spools the object to disk, which S3 does not make the client wait for."""
        return float(run["seconds"]) - float(run["complete"])

    md5, sha256 = _hash_seconds(size)
    print(
        f"hashing the file's bytes here: MD5 {md5:.1f} s CPU (the wizard's Content-MD5 and ETag "
        f"check; boto3 sends no MD5), SHA-256 {sha256:.1f} s CPU (boto3 signs each body with it "
        "over http; the wizard's bodies go unsigned, their MD5 and CRC32 being signed headers)"
    )
    cost = {
        name: min(float(r["cpu"]) + float(r["server_cpu"]) for r in runs[name]) for name in RUNS
    }
    print(
        "client + server CPU (what a busy 2-core machine shares out): "
        + ", ".join(f"{LABELS[name][:3]} {cost[name]:.1f} s" for name in RUNS)
        + f"; (b) ÷ (a) {cost['known'] / cost['tm']:.2f}"
    )
    least = {name: min(float(r["cpu"]) for r in runs[name]) for name in RUNS}
    for name in ("known", "unknown"):
        # The best round of each against the best of boto3's: a busy machine slows some rounds.
        run = min(runs[name], key=lambda run: float(run["seconds"]))
        speed_ratio = float(tm["seconds"]) / float(run["seconds"])
        fastest = min(runs[name], key=sending)
        sending_ratio = sending(min(runs["tm"], key=sending)) / sending(fastest)
        cpu_ratio = least[name] / least["tm"]
        print(
            f"{LABELS[name][:3]} ÷ (a): throughput {speed_ratio:.2f} (goal ≥ {SPEED_GOAL}), "
            f"CPU {cpu_ratio:.2f} (goal ≤ {CPU_GOAL}); "
            f"throughput up to the completion {sending_ratio:.2f}"
        )
        what = LABELS[name]
        if speed_ratio < SPEED_GOAL:
            print(
                f"GOAL MISSED: {what}: throughput {speed_ratio:.2f} × boto3's, below {SPEED_GOAL}"
            )
        if cpu_ratio > CPU_GOAL:
            print(f"GOAL MISSED: {what}: CPU {cpu_ratio:.2f} × boto3's, above {CPU_GOAL}")
        if float(run["maxrss"]) * 1024 > MEMORY_GOAL:
            print(f"GOAL MISSED: {what}: peak memory {float(run['maxrss']) / 1024:.0f} MiB")
    known = min(runs["known"], key=lambda run: float(run["seconds"]))
    first = [r["phases"].get("upload sha256", {"wall": 0.0, "cpu": 0.0}) for r in runs["unknown"]]
    wall, cpu = min(p["wall"] for p in first), min(p["cpu"] for p in first)
    print(
        f"(c)'s floor: (b) plus the SHA-256 read first ({wall:.1f} s, {cpu:.1f} s CPU), which the "
        "upload's creation waits for: throughput "
        f"{float(tm['seconds']) / (float(known['seconds']) + wall):.2f}, "
        f"CPU {(least['known'] + cpu) / least['tm']:.2f}"
    )


def _hash_seconds(size: int) -> tuple[float, float]:
    """CPU seconds MD5 and SHA-256 take over `size` bytes on this machine (64 MiB timed)."""
    import hashlib
    import time

    block = os.urandom(64 * 1024 * 1024)
    found = []
    for algorithm in ("md5", "sha256"):
        began = time.process_time()
        hashlib.new(algorithm, block).digest()
        found.append((time.process_time() - began) * size / len(block))
    return found[0], found[1]


if __name__ == "__main__":
    main()
