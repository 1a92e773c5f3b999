"""How fast a large file goes to a local S3 server, against boto3's own TransferManager.

    python benchmarks/s3_upload_speed.py [FILE] [--size-gb 2] [--workers 8] [--rounds 1]

FILE defaults to /work/bench/h2.csv when it exists, else 2 GB of random bytes generated once in
/work/bench/s3-bench.bin. A local S3 server (moto, `ThreadedMotoServer`) runs in a child process
on 127.0.0.1; each upload runs in its own child process, which reports its wall time and peak
resident memory (`ru_maxrss`):

  (a) boto3's `upload_file` (TransferManager, default TransferConfig: 8 MiB parts, 10 threads);
  (b) the wizard's `upload_file`, with resume support on: the whole file's SHA-256 is computed
      first (it becomes the object's metadata), each part's Content-MD5 and CRC32 are sent and
      its ETag checked, and the `MultipartState` is written to a JSON file (temp file, fsync,
      rename) after every part, as the state file would be;
  (c) the same, given the SHA-256 already known (the release's file list holds it): (b)
      without its first read of the file.

Goals: (b) at least 0.9 × the throughput of (a), (b) peak memory ≤ 1 GiB. moto keeps objects in
memory: each object is deleted right after its run, and the server's peak memory is printed.
The file is read once first so that every run finds it in the page cache. Exits 0 whatever the
figures (a measurement, not a test); missed goals are printed as "GOAL MISSED" lines.
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
DEFAULT_FILE = Path("/work/bench/h2.csv")
GENERATED = Path("/work/bench/s3-bench.bin")
GIB = 1024**3
SPEED_GOAL = 0.9
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

_PEAK = """
import json, resource, sys, time
def peak_kib():
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value // 1024 if sys.platform == "darwin" else value  # macOS counts bytes
"""

TRANSFER_MANAGER_CHILD = (
    _PEAK
    + """
import boto3
endpoint, path, key = sys.argv[1:4]
client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench-secret")
start = time.perf_counter()
client.upload_file(path, "hdh-bench", key)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib()}))
"""
)

WIZARD_CHILD = (
    _PEAK
    + """
import os
from pathlib import Path
from hdh_wizard.services.storage import StorageConfig, TransferPhase, connect, upload_file
endpoint, path, key, state_path, workers, sha256 = sys.argv[1:7]
config = StorageConfig(endpoint, "us-east-1", "hdh-bench", "", "AKIDBENCH")
client = connect(config, "bench-secret", max_connections=int(workers) + 2)
state_file = Path(state_path)
saves = [0]
def save(state):
    # As the state file is saved: beside it, synced, renamed over it.
    text = json.dumps(None if state is None else state.to_dict())
    temporary = state_file.with_suffix(".tmp")
    with temporary.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, state_file)
    saves[0] += 1
hashed = [None]
def progress(report):
    if hashed[0] is None and report.phase is not TransferPhase.HASHING:
        hashed[0] = time.perf_counter() - start
start = time.perf_counter()
result = upload_file(client, Path(path), key, workers=int(workers), sha256=sha256 or None,
                     on_state=save, progress=progress, skip_existing=False)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "maxrss": peak_kib(), "parts": result.parts,
                  "saves": saves[0], "hash_seconds": hashed[0], "sha256": result.sha256}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of a generated file")
    parser.add_argument("--workers", type=int, default=None, help="the wizard's parallel parts")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each upload (best kept)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from hdh_wizard.services.storage import DEFAULT_WORKERS

    workers = args.workers or DEFAULT_WORKERS
    path = args.file or (DEFAULT_FILE if DEFAULT_FILE.exists() else _generated(args.size_gb))
    size = path.stat().st_size
    print(f"file: {path} ({size / 1e9:.2f} GB); wizard workers: {workers}; cores: {os.cpu_count()}")
    _warm(path)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        admin = _client(endpoint)
        admin.create_bucket(Bucket=BUCKET)
        runs: dict[str, list[dict[str, float]]] = {"tm": [], "ours": [], "ours_known": []}
        sha256 = ""
        with tempfile.TemporaryDirectory(prefix="hdh-s3-bench-") as folder:
            state = str(Path(folder) / "state.json")
            for round_number in range(args.rounds):
                key = f"bench-{round_number}"
                tm = _run(TRANSFER_MANAGER_CHILD, endpoint, str(path), key + "-tm")
                _delete(admin, key + "-tm")
                runs["tm"].append(tm)
                ours = _run(WIZARD_CHILD, endpoint, str(path), key, state, str(workers), "")
                sha256 = str(ours["sha256"])
                _delete(admin, key)
                runs["ours"].append(ours)
                known = _run(WIZARD_CHILD, endpoint, str(path), key, state, str(workers), sha256)
                _delete(admin, key)
                runs["ours_known"].append(known)
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


def _run(code: str, *argv: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        sys.exit(f"a benchmark child failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _server_peak(server: subprocess.Popen[str]) -> str:
    try:
        for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _report(size: int, runs: dict[str, list[dict[str, float]]]) -> None:
    def best(name: str) -> dict[str, float]:
        return min(runs[name], key=lambda run: run["seconds"])

    tm, ours, known = best("tm"), best("ours"), best("ours_known")
    for name, label in (("tm", "(a)"), ("ours", "(b)"), ("ours_known", "(c)")):
        each = ", ".join(f"{size / run['seconds'] / 1e6:.1f}" for run in runs[name])
        print(f"{label} every round, MB/s: {each}")

    def speed(run: dict[str, float]) -> float:
        return size / run["seconds"] / 1e6

    print(
        f"(a) boto3 upload_file (TransferManager): {speed(tm):7.1f} MB/s  "
        f"{tm['seconds']:6.1f} s  peak {tm['maxrss'] / 1024:6.0f} MiB"
    )
    print(
        f"(b) wizard upload_file, resumable:       {speed(ours):7.1f} MB/s  "
        f"{ours['seconds']:6.1f} s  peak {ours['maxrss'] / 1024:6.0f} MiB  "
        f"({int(ours['parts'])} parts, {int(ours['saves'])} state saves, "
        f"SHA-256 first: {ours['hash_seconds'] or 0:.1f} s)"
    )
    print(
        f"(c) same, SHA-256 known:                 {speed(known):7.1f} MB/s  "
        f"{known['seconds']:6.1f} s  peak {known['maxrss'] / 1024:6.0f} MiB"
    )
    ratio = speed(ours) / speed(tm)
    print(
        f"ratio (b)/(a): {ratio:.2f} (goal ≥ {SPEED_GOAL}); (c)/(a): {speed(known) / speed(tm):.2f}"
    )
    if ratio < SPEED_GOAL:
        print(f"GOAL MISSED: (b) is {ratio:.2f} × (a), below {SPEED_GOAL}")
    if ours["maxrss"] * 1024 > MEMORY_GOAL:
        print(f"GOAL MISSED: (b) peak memory {ours['maxrss'] / 1024:.0f} MiB, above 1 GiB")


if __name__ == "__main__":
    main()
