"""The real Secret Service (gnome-keyring on a private D-Bus, as on a desktop login) and the keys
the secrets tests store in it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest
import secretstorage
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

DEMO = "https://demo.data.gouv.fr"
PRODUCTION = "https://www.data.gouv.fr"
S3 = "https://s3.hdh.example.org:9000/releases"
DEMO_KEY = "udata_Zx81kQp2HsT9vLw0RmYc4Nd7bJf3a"
PROD_KEY = "udata_Pq93mWn1RtY6cXv8KbZs2Lh5gDe0u"
STORAGE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
HAS_SECRET_SERVICE = bool(shutil.which("gnome-keyring-daemon") and shutil.which("dbus-daemon"))
# CI installs them (scripts/setup.sh --dev): there, their absence is a failure, not a skip.
assert HAS_SECRET_SERVICE or not os.environ.get("CI"), "CI needs gnome-keyring and dbus"
NEEDS_SECRET_SERVICE = pytest.mark.skipif(
    not HAS_SECRET_SERVICE,
    reason="the real Secret Service needs the Debian packages gnome-keyring and dbus",
)


class SecretServiceSession:
    """A private D-Bus session with gnome-keyring's Secret Service, as on a desktop login.

    The keyring files live in `home`, so a restart finds what was stored (the next day's run).
    The bus address is the same across restarts; `environ()` is what a subprocess needs.
    """

    PASSWORD = b"login password"

    def __init__(self, home: Path) -> None:
        self.home = home
        self._socket_dir = Path(tempfile.mkdtemp(prefix="hdh-bus-"))  # short: AF_UNIX path limit
        self.address = f"unix:path={self._socket_dir / 'bus'}"
        self._bus: subprocess.Popen[bytes] | None = None
        self._daemon: subprocess.Popen[bytes] | None = None

    def environ(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "DBUS_SESSION_BUS_ADDRESS": self.address,
        }

    def start(self, *, unlock: bool = True) -> None:
        """`unlock=False`: the daemon runs but no login keyring is opened (no password given)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._bus = subprocess.Popen(
            [
                "dbus-daemon",
                "--session",
                "--nofork",
                "--print-address=1",
                f"--address={self.address}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.environ(),
        )
        assert self._bus.stdout is not None
        self._bus.stdout.readline()  # printed once the bus listens
        command = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        self._daemon = subprocess.Popen(
            [*command, "--unlock"] if unlock else command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.environ(),
        )
        assert self._daemon.stdin is not None
        if unlock:
            self._daemon.stdin.write(self.PASSWORD)
        self._daemon.stdin.close()
        self._wait_for_the_service()

    def _wait_for_the_service(self) -> None:
        deadline = time.monotonic() + 15
        with open_dbus_connection(bus=self.address) as connection:
            while time.monotonic() < deadline:
                reply = connection.send_and_get_reply(
                    message_bus.NameHasOwner("org.freedesktop.secrets")
                )
                if reply.body[0]:
                    return
                time.sleep(0.05)
        raise RuntimeError("gnome-keyring-daemon did not take the Secret Service name")

    def stop(self) -> None:
        for process in (self._daemon, self._bus):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._daemon = self._bus = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def lock_default_collection(self) -> None:
        with contextlib.closing(secretstorage.dbus_init()) as connection:
            secretstorage.get_default_collection(connection).lock()

    def items(self) -> list[dict[str, str]]:
        """The attributes of every item of the default collection (what Seahorse would list)."""
        with contextlib.closing(secretstorage.dbus_init()) as connection:
            collection = secretstorage.get_default_collection(connection)
            return [item.get_attributes() for item in collection.get_all_items()]

    def files_holding(self, text: str) -> list[Path]:
        needle = text.encode()
        return [p for p in self.home.rglob("*") if p.is_file() and needle in p.read_bytes()]

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._socket_dir, ignore_errors=True)

    def __enter__(self) -> SecretServiceSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
