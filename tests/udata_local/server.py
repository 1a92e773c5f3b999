"""Start and stop the local udata for a test session.

The server runs as a subprocess of udata's own virtual environment (`.udata-venv`, created by
`scripts/setup.sh --dev`); the tests talk to it over HTTP on 127.0.0.1, as the wizard talks to
data.gouv.fr. Each start is an empty database plus the seeds below.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("launcher.py")
VENV_PYTHON = ROOT / ".udata-venv" / "bin" / "python"


@dataclass(frozen=True)
class SeededUser:
    first_name: str
    last_name: str
    email: str
    password: str
    api_key: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# The partner's data manager, and the HDH Open Science member invited as co-administrator.
PARTNER = SeededUser(
    "Alice",
    "Martin",
    "alice.martin@chu-exemple.fr",
    "Passw0rd!long-1",
    "udata_" + "a1" * 20,
)
OPEN_SCIENCE = SeededUser(
    "Hélène",
    "Durand",
    "helene.durand@health-data-hub.fr",
    "Passw0rd!long-2",
    "udata_" + "b2" * 20,
)
USERS = (PARTNER, OPEN_SCIENCE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UdataServer:
    """One running udata; `restart()` gives an empty database again (and a new port)."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="udata-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/1"

    @property
    def fs_root(self) -> Path:
        return self.workdir / "fs"

    @property
    def log_path(self) -> Path:
        return self.workdir / "udata.log"

    def start(self, timeout: float = 90.0) -> None:
        if not VENV_PYTHON.exists():
            raise RuntimeError(
                f"udata is not installed: run scripts/setup.sh --dev ({VENV_PYTHON})"
            )
        self.fs_root.mkdir(parents=True, exist_ok=True)
        seeds = self.workdir / "seeds.json"
        seeds.write_text(json.dumps({"users": [u.__dict__ for u in USERS]}))
        self.port = free_port()
        log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self.process = subprocess.Popen(
            [str(VENV_PYTHON), str(LAUNCHER), str(self.port), str(self.fs_root), str(seeds)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"udata exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.api}/datasets/licenses/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"udata did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def remove(self) -> None:
        """Stop, then delete the uploaded files and the log (end of the test session)."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


if __name__ == "__main__":  # a manual run: python -m tests.udata_local.server
    server = UdataServer()
    server.start()
    print(server.url, file=sys.stderr)
    try:
        server.process.wait() if server.process else None
    except KeyboardInterrupt:
        server.stop()
