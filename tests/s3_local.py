"""A local S3 server for the tests, a proxy in front of it that counts and breaks requests, and a
server that checks credentials.

- `LocalS3`: moto's `ThreadedMotoServer` on 127.0.0.1, on a free port, in this process. It
  accepts any keys and keeps objects in memory; every test makes its own bucket (`new_bucket`).
- `S3FaultProxy`: the client under test talks to it as to the storage; it forwards each request
  to the server, logs it as an S3 operation (`UploadPart`, with its part number and headers),
  and on demand answers an error instead (`fail`), waits first (`delay`), alters a body on the
  way (`corrupt`), or stops accepting connections (`refuse` / `accept`). Its log is how tests
  count the requests the server received, from this process or a killed child.
- `AuthS3`: moto in a child process with IAM checks switched on (a process-wide switch in
  moto, hence its own process): a bucket, a user allowed under one prefix only, and its keys.
  Wrong keys get the real `InvalidAccessKeyId` / `SignatureDoesNotMatch`, other prefixes
  `AccessDenied`.

`python -m tests.s3_local` serves moto on a free port, prints it, and stops when its standard
input closes (what `AuthS3` runs).
"""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent
ANY_KEY_ID = "AKIDLOCALTEST"  # moto without IAM checks accepts any keys
ANY_SECRET = "local-test-secret-never-shown-0123456789"


def _quiet_werkzeug() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise


class LocalS3:
    """moto's S3 on 127.0.0.1, in a thread of this process."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        _quiet_werkzeug()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> LocalS3:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()


def raw_client(endpoint: str, key_id: str = ANY_KEY_ID, secret: str = ANY_SECRET) -> Any:
    """A plain boto3 client, for the tests' own setup and look-ups (not the code under test)."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def new_bucket(endpoint: str) -> str:
    """A fresh bucket with a unique name."""
    name = f"hdh-test-{uuid.uuid4().hex[:12]}"
    raw_client(endpoint).create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------------------------------------
# The proxy


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    operation: str  # S3's name for it: UploadPart, PutObject, ListParts…
    part_number: int | None
    headers: Mapping[str, str]  # lower-case names
    status: int  # what the client was answered; 0: the client went away mid-request
    body_size: int


def operation_of(method: str, path: str, query: Mapping[str, list[str]]) -> str:
    """The S3 operation of a path-style request."""
    segments = [s for s in path.split("/") if s]
    if "uploadId" in query:
        if method == "PUT":
            return "UploadPart"
        return {
            "POST": "CompleteMultipartUpload",
            "GET": "ListParts",
            "DELETE": "AbortMultipartUpload",
        }.get(method, "?")
    if "uploads" in query:
        return "CreateMultipartUpload" if method == "POST" else "ListMultipartUploads"
    if not segments:
        return "ListBuckets"
    if len(segments) == 1:
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(
            method, "?"
        )
    return {
        "PUT": "PutObject",
        "GET": "GetObject",
        "HEAD": "HeadObject",
        "DELETE": "DeleteObject",
    }.get(method, "?")


@dataclass
class _Rule:
    operation: str
    part_number: int | None
    remaining: int | None  # None: always
    status: int = 500
    code: str = "InternalError"
    forward: bool = False
    seconds: float = 0.0

    def take(self, operation: str, part_number: int | None) -> bool:
        if self.remaining == 0 or self.operation != operation:
            return False
        if self.part_number is not None and self.part_number != part_number:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
    "content-length",
}


@dataclass
class _Counters:
    in_flight: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)


class S3FaultProxy:
    """A reverse proxy in front of an S3 server (see the module's doc). One request per
    connection, so that `refuse()` takes effect on the very next request."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._faults: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._corruptions: list[_Rule] = []
        self._log: list[SeenRequest] = []
        self._counters = _Counters()
        self._busy = 0
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # -- life

    def start(self) -> S3FaultProxy:
        self._serve(0)
        return self

    def stop(self) -> None:
        self.refuse()

    def __enter__(self) -> S3FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def refuse(self) -> None:
        """The storage goes away: connections are refused from now on."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def accept(self) -> None:
        """The storage is back, on the same port."""
        if self._server is None:
            self._serve(self.port)

    def _serve(self, port: int) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    # -- what to do

    def fail(
        self,
        operation: str,
        *,
        part_number: int | None = None,
        times: int | None = 1,
        status: int = 500,
        code: str = "InternalError",
        forward: bool = False,
    ) -> None:
        """Answer an S3 error to the next `times` matching requests (None: all). `forward`:
        the server gets the request first (it did the work; its answer is lost)."""
        with self._lock:
            self._faults.append(_Rule(operation, part_number, times, status, code, forward))

    def delay(self, operation: str, seconds: float, times: int | None = None) -> None:
        """Wait `seconds` before forwarding the matching requests (a slow link)."""
        with self._lock:
            self._delays.append(_Rule(operation, None, times, seconds=seconds))

    def corrupt(self, operation: str, *, part_number: int | None = None, times: int = 1) -> None:
        """Flip one byte of the matching requests' bodies on the way (their headers unchanged)."""
        with self._lock:
            self._corruptions.append(_Rule(operation, part_number, times))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._corruptions.clear()
            self._log.clear()
            self._counters = _Counters()

    # -- what happened

    def seen(self, operation: str | None = None) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self._log if operation is None or r.operation == operation]

    def part_numbers(self, *, ok_only: bool = False) -> list[int]:
        """The part numbers of the UploadPart requests received, in order of answer."""
        return [
            r.part_number
            for r in self.seen("UploadPart")
            if r.part_number is not None and (r.status == 200 or not ok_only)
        ]

    def peak(self, operation: str) -> int:
        """The most requests of this operation handled at the same time."""
        with self._lock:
            return self._counters.peak.get(operation, 0)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (a killed client's last ones)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    # -- one request

    def _take(self, rules: list[_Rule], operation: str, number: int | None) -> _Rule | None:
        with self._lock:
            for rule in rules:
                if rule.take(operation, number):
                    return rule
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._busy += 1
        try:
            self._handle(handler)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        operation = operation_of(method, split.path, query)
        number_text = (query.get("partNumber") or [""])[0]
        number = int(number_text) if number_text.isdigit() else None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""

        def log(status: int) -> None:
            with self._lock:
                self._log.append(
                    SeenRequest(method, split.path, operation, number, headers, status, len(body))
                )

        if len(body) < length:  # the client died mid-body: nothing reaches the server
            log(0)
            return
        with self._lock:
            count = self._counters.in_flight.get(operation, 0) + 1
            self._counters.in_flight[operation] = count
            self._counters.peak[operation] = max(count, self._counters.peak.get(operation, 0))
        try:
            delay = self._take(self._delays, operation, number)
            if delay is not None:
                time.sleep(delay.seconds)
            if body and self._take(self._corruptions, operation, number) is not None:
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            fault = self._take(self._faults, operation, number)
            answer: tuple[int, list[tuple[str, str]], bytes] | None = None
            if fault is None or fault.forward:
                answer = self._forward(method, handler.path, headers, body)
        finally:
            with self._lock:
                self._counters.in_flight[operation] -= 1
        if fault is not None:
            status = fault.status
            log(status)
            _send(handler, method, status, [("Content-Type", "application/xml")], _error(fault))
        elif answer is None:
            log(502)
            _send(handler, method, 502, [], b"")
        else:
            log(answer[0])
            _send(handler, method, *answer)

    def _forward(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        connection = http.client.HTTPConnection(*self._upstream, timeout=120)
        try:
            sent = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
            if body or method in ("PUT", "POST"):
                sent["content-length"] = str(len(body))
            connection.request(method, target, body=body or None, headers=sent)
            response = connection.getresponse()
            content = response.read()
            return response.status, response.getheaders(), content
        except OSError:
            return None
        finally:
            connection.close()


def _error(rule: _Rule) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{rule.code}</Code><Message>fault injected by the test proxy</Message>"
        "<RequestId>test</RequestId></Error>"
    ).encode()


def _send(
    handler: BaseHTTPRequestHandler,
    method: str,
    status: int,
    headers: list[tuple[str, str]],
    content: bytes,
) -> None:
    try:
        handler.send_response(status)
        length = str(len(content))
        for name, value in headers:
            if name.lower() == "content-length" and method == "HEAD":
                length = value  # a HEAD tells the object's size, and has no body
            elif name.lower() not in _HOP_BY_HOP:
                handler.send_header(name, value)
        handler.send_header("Content-Length", length)
        handler.send_header("Connection", "close")
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(content)
    except OSError:
        pass  # the client went away


def _handler_for(proxy: S3FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 so that a client's `Expect: 100-continue` is answered at once (botocore
        # waits a second for it otherwise); `Connection: close` keeps one request a connection.
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            self.close_connection = True
            proxy.handle(self)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read `proxy.seen()`

    return Handler


# ---------------------------------------------------------------------------------------------
# A server that checks credentials


@dataclass
class AuthS3:
    """moto with IAM checks, in a child process: `bucket`, a user allowed under `prefix` only
    (list, write, read, delete, multipart), and that user's keys."""

    url: str = ""
    bucket: str = "hdh-auth"
    prefix: str = "partner/"
    access_key_id: str = ""
    secret: str = ""
    _process: subprocess.Popen[str] | None = None

    def start(self) -> AuthS3:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.s3_local"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._process = process
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            self.stop()
            raise RuntimeError("the moto server did not start")
        self.url = f"http://127.0.0.1:{port}"
        self._provision()
        return self

    def _provision(self) -> None:
        import boto3

        root = {
            "endpoint_url": self.url,
            "region_name": REGION,
            "aws_access_key_id": "AKIAROOTSETUP",
            "aws_secret_access_key": "setup",
        }
        raw_client(self.url, "AKIAROOTSETUP", "setup").create_bucket(Bucket=self.bucket)
        iam = boto3.client("iam", **root)
        iam.create_user(UserName="partner")
        objects = f"arn:aws:s3:::{self.bucket}/{self.prefix}*"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:PutObject",
                        "s3:GetObject",
                        "s3:DeleteObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    "Resource": objects,
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    "Resource": f"arn:aws:s3:::{self.bucket}",
                },
            ],
        }
        iam.put_user_policy(
            UserName="partner", PolicyName="hdh-prefix", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName="partner")["AccessKey"]
        self.access_key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        # From now on every request is checked against IAM (moto's switch, 0 free requests).
        connection = http.client.HTTPConnection("127.0.0.1", int(self.url.rsplit(":", 1)[1]))
        connection.request("POST", "/moto-api/reset-auth", body=b"0")
        assert connection.getresponse().status == 200
        connection.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve_until_stdin_closes() -> None:
    from moto.server import ThreadedMotoServer

    _quiet_werkzeug()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    _serve_until_stdin_closes()
