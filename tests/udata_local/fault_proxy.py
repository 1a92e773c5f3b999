"""A small reverse proxy in front of the local udata, with faults on demand.

The client under test talks to the proxy as it would to data.gouv.fr; the proxy forwards each
request byte for byte to the real udata, unless told otherwise:
- `fail(method, path_regex, status, times)`: answer with an error instead (or, `forward=True`,
  after forwarding: the server did the work but its answer is lost);
- `delay(path_regex, seconds)`: wait before forwarding (a slow server, or a slow upload);
- `refuse()` / `accept()`: the server is down (connections refused) / back;
- `log`: every request received (method, path, form fields such as `partindex`), to count.

One request per connection (HTTP/1.0), so `refuse()` takes effect on the very next request.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


class _NoCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: Any) -> bool:
        return False


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # without the query string
    fields: Mapping[str, str]  # the form's text fields (multipart or urlencoded)
    has_file: bool  # a multipart part named "file" was sent
    status: int  # what the client was answered (or would have been, had it waited)


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int | None  # None: always
    status: int = 0
    forward: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str | None] | None = None  # None value: the field must be absent
    seconds: float = 0.0

    def matches(self, method: str, path: str, form: Mapping[str, str]) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if not self.pattern.search(path):
            return False
        return all(form.get(name) == value for name, value in (self.fields or {}).items())


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bool]:
    """The text fields of a form body, and whether it holds a part named "file"."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace"))), False
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or not match:
        return {}, False
    fields: dict[str, str] = {}
    has_file = False
    delimiter = b"--" + match.group(1).encode()
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = part.partition(b"\r\n\r\n")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'name="([^"]*)"', headers)
        if not name:
            continue
        if "filename=" in headers:
            has_file = has_file or name.group(1) == "file"
            continue
        fields[name.group(1)] = content.removesuffix(b"\r\n").decode("utf-8", "replace")
    return fields, has_file


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._faults: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._log: list[LoggedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # No cookie jar: a session cookie kept here would authenticate every later request.
        self._forwarder = httpx.Client(
            base_url=self.upstream, timeout=120.0, cookies=CookieJar(policy=_NoCookies())
        )
        self.port = 0

    # -- life

    def start(self) -> FaultProxy:
        self._serve(0)
        return self

    def stop(self) -> None:
        self._shutdown()
        self._forwarder.close()

    def __enter__(self) -> FaultProxy:
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
        """The site root, as udata_server.url: give it to DataGouvClient."""
        return f"http://127.0.0.1:{self.port}"

    def refuse(self) -> None:
        """The server goes down: new connections are refused."""
        self._shutdown()

    def accept(self) -> None:
        """The server is back, on the same port."""
        if self._server is None:
            self._serve(self.port)

    def _serve(self, port: int) -> None:
        server = _QuietServer(("127.0.0.1", port), _handler_for(self))
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    # -- faults

    def fail(
        self,
        method: str | None,
        path_regex: str,
        status: int = 500,
        times: int | None = 1,
        *,
        forward: bool = False,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, str | None] | None = None,
    ) -> None:
        """Answer `status` to the next `times` matching requests (None: all of them).

        `forward`: send the request to udata first, then lose its answer. `fields`: match only
        forms with these values (e.g. `{"partindex": "2"}`; None: a field that is absent).
        """
        rule = _Rule(
            re.compile(path_regex),
            method.upper() if method else None,
            times,
            status=status,
            forward=forward,
            headers=dict(headers or {}),
            fields=fields,
        )
        with self._lock:
            self._faults.append(rule)

    def delay(
        self,
        path_regex: str,
        seconds: float,
        times: int | None = None,
        *,
        method: str | None = None,
    ) -> None:
        """Wait `seconds` before forwarding the matching requests (the next `times`, or all)."""
        rule = _Rule(re.compile(path_regex), method.upper() if method else None, times)
        rule.seconds = seconds
        with self._lock:
            self._delays.append(rule)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (e.g. a killed client's last one)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def clear(self) -> None:
        """No faults any more, and an empty log."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._log.clear()

    @property
    def log(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def requests(self, method: str | None = None, path_regex: str = "") -> list[LoggedRequest]:
        pattern = re.compile(path_regex)
        return [
            r
            for r in self.log
            if (method is None or r.method == method.upper()) and pattern.search(r.path)
        ]

    def _take(
        self, rules: list[_Rule], method: str, path: str, form: Mapping[str, str]
    ) -> _Rule | None:
        with self._lock:
            for rule in rules:
                if rule.matches(method, path, form):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
        return None

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    # -- one request

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._in_flight += 1
        try:
            self._handle(handler)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        body = _read_body(handler)
        path = urlsplit(handler.path).path
        form, has_file = parse_form(handler.headers.get("Content-Type", ""), body)
        delay = self._take(self._delays, method, path, form)
        if delay is not None:
            time.sleep(delay.seconds)
        fault = self._take(self._faults, method, path, form)
        upstream: httpx.Response | None = None
        if fault is None or fault.forward:
            try:
                upstream = self._forward(handler, method, body)
            except (httpx.HTTPError, RuntimeError):  # RuntimeError: stopped meanwhile
                upstream = None
        if fault is not None:  # instead of udata's answer (forwarded: udata did the work)
            status, headers, content = fault.status, fault.headers, {"message": "fault injected"}
        elif upstream is None:
            status, headers, content = 502, {}, {"message": "upstream unreachable"}
        else:
            status = upstream.status_code
        # Logged before answering: a client that got its answer finds its request in the log.
        self._record(LoggedRequest(method, path, form, has_file, status))
        try:
            if fault is None and upstream is not None:
                _answer(handler, upstream)
            else:
                _answer_json(handler, status, content, headers)
        except OSError:
            pass  # the client went away (its timeout): nothing to answer

    def _forward(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> httpx.Response:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        return self._forwarder.request(method, handler.path, headers=headers, content=body)


class _QuietServer(ThreadingHTTPServer):
    """A request cut by a fault (the proxy stopped mid-forward) is part of the test, not an
    error to print: socketserver would write its traceback into the captured output."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        data = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return bytes(data)
            data += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _answer(handler: BaseHTTPRequestHandler, response: httpx.Response) -> None:
    content = response.content  # decoded: its content-encoding is dropped below
    handler.send_response(response.status_code)
    for key, value in response.headers.multi_items():
        if key.lower() not in _HOP_BY_HOP and key.lower() != "content-encoding":
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)


def _answer_json(
    handler: BaseHTTPRequestHandler, status: int, body: Any, headers: Mapping[str, str]
) -> None:
    content = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            proxy.handle(self)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read `proxy.log`

    return Handler
