"""Fault-injecting HTTP/1.1 reverse proxy for tests (stdlib only).

Roles:

* **client** -- the code under test, typically a boto3/botocore client whose
  ``endpoint_url`` is :attr:`FaultProxy.url`;
* **proxy** -- :class:`FaultProxy`, a threaded HTTP/1.1 server bound to
  ``127.0.0.1`` on a free port.  Every request is read in full, counted,
  matched against the queue of injected faults and then either forwarded
  untouched or answered with the fault;
* **upstream** -- the real service the proxy forwards to (usually a moto
  server such as ``http://127.0.0.1:5000``).

Two helpers cover scenarios without an upstream: :func:`refused_endpoint`
(a URL on which nothing listens) and :class:`SilentEndpoint` (a TCP listener
that accepts connections and never answers).

Example::

    with FaultProxy(moto_url) as proxy:
        proxy.inject(Fault.THROTTLING, times=2, operations={"BatchWriteItem"})
        client = boto3.client("dynamodb", endpoint_url=proxy.url, ...)

Error faults are rendered in the wire format botocore expects for the
request's protocol: an AWS JSON body (``{"__type": ..., "message": ...}``)
when the request carries ``X-Amz-Target`` or a JSON content type (DynamoDB,
most JSON services), otherwise an XML ``<ErrorResponse>`` document (query
protocol services such as CloudFormation, and REST-XML ones such as S3).
"""

from __future__ import annotations

import enum
import http.client
import json
import logging
import random
import select
import socket
import socketserver
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

__all__ = [
    "Fault",
    "FaultProxy",
    "SilentEndpoint",
    "TricklingEndpoint",
    "UNKNOWN_OPERATION",
    "refused_endpoint",
]

_LOG = logging.getLogger(__name__)

_HOST = "127.0.0.1"
#: Key used in :attr:`FaultProxy.requests_by_operation` when no operation
#: name could be derived from a request.
UNKNOWN_OPERATION = "<unknown>"
_JSON_TYPE_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Request headers the proxy recomputes itself instead of forwarding.
_NOT_FORWARDED = _HOP_BY_HOP | {"host", "content-length", "expect"}
_MAX_LINE = 65536
_STOP_POLL_SECONDS = 0.05


class Fault(enum.Enum):
    """A fault the proxy can inject in place of (or around) a forwarded request."""

    THROTTLING = "throttling"
    """HTTP 400 ``ThrottlingException`` ("Rate exceeded")."""
    PROVISIONED_THROUGHPUT = "provisioned_throughput"
    """HTTP 400 ``ProvisionedThroughputExceededException``."""
    HTTP_500 = "http_500"
    """HTTP 500 ``InternalServerError``."""
    HTTP_503 = "http_503"
    """HTTP 503 ``ServiceUnavailable``."""
    UNKNOWN_OPERATION_ERROR = "unknown_operation"
    """HTTP 400 ``UnknownOperationException``: an endpoint without the operation (DynamoDB's, MiniStack's answer)."""
    HTTP_501 = "http_501"
    """HTTP 501 ``InternalFailure``: an endpoint without the operation (LocalStack's answer)."""
    DROP_CONNECTION = "drop_connection"
    """Read the request, then close the connection without any response."""
    NO_RESPONSE = "no_response"
    """Read the request, then stay silent (until stop, ``hold_seconds`` or client close)."""
    SLOW_RESPONSE = "slow_response"
    """Forward the request, but delay the response by ``delay_seconds``."""
    DROP_AFTER_FORWARD = "drop_after_forward"
    """Forward the request (upstream applies it), then close the connection without any response."""
    HTTP_500_AFTER_FORWARD = "http_500_after_forward"
    """Forward the request (upstream applies it), then answer HTTP 500 ``InternalServerError``."""


@dataclass(frozen=True)
class _ErrorSpec:
    status: int
    json_code: str
    xml_code: str
    message: str


_ERROR_SPECS: dict[Fault, _ErrorSpec] = {
    Fault.THROTTLING: _ErrorSpec(400, "ThrottlingException", "Throttling", "Rate exceeded"),
    Fault.PROVISIONED_THROUGHPUT: _ErrorSpec(
        400,
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    Fault.HTTP_500: _ErrorSpec(500, "InternalServerError", "InternalFailure", "Internal server error"),
    Fault.HTTP_503: _ErrorSpec(503, "ServiceUnavailable", "ServiceUnavailable", "Service unavailable"),
    Fault.UNKNOWN_OPERATION_ERROR: _ErrorSpec(
        400, "UnknownOperationException", "UnknownOperationException", "Unknown operation"),
    Fault.HTTP_501: _ErrorSpec(
        501, "InternalFailure", "InternalFailure", "API for service 'dynamodb' not yet implemented or pro feature"),
}
_BAD_GATEWAY = _ErrorSpec(502, "BadGateway", "BadGateway", "Fault proxy could not reach upstream")


@dataclass
class _Rule:
    fault: Fault
    remaining: int | None
    operations: frozenset[str] | None

    def matches(self, operation: str | None) -> bool:
        """Return True if this rule applies to a request for ``operation``."""
        return self.operations is None or (operation is not None and operation in self.operations)


def _operation_name(headers: Any, path: str, body: bytes) -> str | None:
    """Derive the AWS operation name of a request, or None if unknown."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.strip().rsplit(".", 1)[-1] or None
    content_type = (headers.get("Content-Type") or "").lower()
    if content_type.startswith("application/x-www-form-urlencoded") and body:
        actions = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if actions:
            return actions[0]
    split = urlsplit(path)
    actions = parse_qs(split.query).get("Action")
    if actions:
        return actions[0]
    # Smithy RPC v2 (CBOR): POST /service/{Service}/operation/{Operation}
    parts = split.path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "service" and parts[2] == "operation":
        return parts[3]
    return None


def _wants_json(headers: Any) -> bool:
    """Return True if an error for this request should be AWS JSON rather than XML."""
    if headers.get("X-Amz-Target"):
        return True
    return "json" in (headers.get("Content-Type") or "").lower()


def _render_error(spec: _ErrorSpec, as_json: bool) -> tuple[list[tuple[str, str]], bytes]:
    """Build (headers, body) for an error response in the requested wire format."""
    request_id = str(uuid.uuid4())
    if as_json:
        code = spec.json_code
        body = json.dumps({"__type": _JSON_TYPE_PREFIX + code, "message": spec.message}).encode()
        content_type = "application/x-amz-json-1.0"
    else:
        code = spec.xml_code
        kind = "Sender" if spec.status < 500 else "Receiver"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(spec.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    headers = [
        ("Content-Type", content_type),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", request_id),
    ]
    return headers, body


def _read_chunked(rfile: Any) -> bytes:
    """Read a ``Transfer-Encoding: chunked`` body (trailers are discarded)."""
    parts: list[bytes] = []
    while True:
        line = rfile.readline(_MAX_LINE)
        if not line:
            raise ConnectionError("connection closed inside chunked body")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise ConnectionError("connection closed inside chunked body")
        parts.append(chunk)
        rfile.readline(_MAX_LINE)  # CRLF after each chunk


class _ProxyHandler(BaseHTTPRequestHandler):
    """Per-connection handler: read, count, then forward or inject a fault."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Suppress http.server's per-request stderr logging."""

    def _dispatch(self) -> None:
        owner = self.server.owner
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        operation = _operation_name(self.headers, self.path, body)
        fault = owner._on_request(operation)
        if fault is None:
            self._forward(body)
        elif fault in _ERROR_SPECS:
            headers, payload = _render_error(_ERROR_SPECS[fault], _wants_json(self.headers))
            self._respond(_ERROR_SPECS[fault].status, None, headers, payload)
        elif fault is Fault.DROP_CONNECTION:
            self.close_connection = True
        elif fault is Fault.NO_RESPONSE:
            self.close_connection = True
            self._hold(owner._hold_seconds)
        elif fault is Fault.SLOW_RESPONSE:
            self._forward(body, delay=owner._delay_seconds)
        elif fault in (Fault.DROP_AFTER_FORWARD, Fault.HTTP_500_AFTER_FORWARD):
            try:
                owner._call_upstream(self.command, self.path, list(self.headers.items()), body)
            except (OSError, http.client.HTTPException) as exc:
                _LOG.debug("upstream request failed: %r", exc)
            if fault is Fault.DROP_AFTER_FORWARD:
                self.close_connection = True
            else:
                headers, payload = _render_error(_ERROR_SPECS[Fault.HTTP_500], _wants_json(self.headers))
                self._respond(500, None, headers, payload)
        else:  # pragma: no cover - exhaustive over Fault
            raise AssertionError(f"unhandled fault {fault!r}")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        """Read the full request body (Content-Length or chunked)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise ConnectionError("connection closed inside request body")
        return body

    def _forward(self, body: bytes, delay: float = 0.0) -> None:
        """Forward the request upstream and relay the answer (after ``delay`` seconds)."""
        owner = self.server.owner
        try:
            status, reason, headers, payload = owner._call_upstream(
                self.command, self.path, list(self.headers.items()), body
            )
        except (OSError, http.client.HTTPException) as exc:
            _LOG.debug("upstream request failed: %r", exc)
            headers, payload = _render_error(_BAD_GATEWAY, _wants_json(self.headers))
            status, reason = 502, None
        if delay > 0 and owner._stop_event.wait(delay):
            self.close_connection = True  # proxy stopping: drop instead of answering
            return
        self._respond(status, reason, headers, payload)

    def _respond(
        self, status: int, reason: str | None, headers: list[tuple[str, str]], payload: bytes
    ) -> None:
        """Write a complete response with a correct Content-Length."""
        self.send_response_only(status, reason)
        upstream_length: str | None = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-length":
                upstream_length = value
            elif lowered not in _HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            if upstream_length is not None:
                self.send_header("Content-Length", upstream_length)
            payload = b""
        elif status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _hold(self, seconds: float) -> None:
        """Stay silent until the proxy stops, ``seconds`` elapse or the client hangs up."""
        stop = self.server.owner._stop_event
        deadline = time.monotonic() + seconds
        sock = self.connection
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                readable, _, _ = select.select([sock], [], [], min(_STOP_POLL_SECONDS, remaining))
                if readable and not sock.recv(1, socket.MSG_PEEK):
                    return  # client closed its end
            except (OSError, ValueError):
                return
            if readable:  # client sent more bytes; keep holding without spinning
                stop.wait(min(_STOP_POLL_SECONDS, remaining))


class _ProxyServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so stop() can cut them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, owner: FaultProxy) -> None:
        self.owner = owner
        self._tracking_lock = threading.Lock()
        self._open_sockets: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        super().__init__((_HOST, 0), _ProxyHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's (potentially slow) reverse DNS lookup."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = _HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a connection on a tracked daemon thread."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fault-proxy-conn-{client_address[1]}",
            daemon=True,
        )
        with self._tracking_lock:
            self._open_sockets.add(request)
            self._handler_threads.add(thread)
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Run the handler, then forget the thread."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._tracking_lock:
                self._handler_threads.discard(threading.current_thread())

    def shutdown_request(self, request: Any) -> None:
        """Forget and close a finished connection."""
        with self._tracking_lock:
            self._open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about client disconnects; log anything else at debug level."""
        _LOG.debug("fault proxy connection error from %s", client_address, exc_info=True)

    def cut_connections(self, timeout: float) -> None:
        """Shut down every open connection and wait (bounded) for handler threads."""
        with self._tracking_lock:
            sockets = list(self._open_sockets)
            threads = list(self._handler_threads)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class FaultProxy:
    """Reverse proxy in front of ``upstream_url`` that injects queued faults.

    ``delay_seconds`` is the delay of :attr:`Fault.SLOW_RESPONSE`;
    ``hold_seconds`` bounds how long :attr:`Fault.NO_RESPONSE` keeps a
    connection open; ``upstream_timeout`` bounds each forwarded call.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        delay_seconds: float = 1.0,
        hold_seconds: float = 30.0,
        upstream_timeout: float = 30.0,
    ) -> None:
        """Configure the proxy; call :meth:`start` (or use ``with``) to serve."""
        parts = urlsplit(upstream_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream_url must be an http(s) URL, got {upstream_url!r}")
        self._upstream_scheme = parts.scheme
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or (443 if parts.scheme == "https" else 80)
        self._upstream_netloc = parts.netloc.rsplit("@", 1)[-1]
        self._upstream_prefix = parts.path.rstrip("/")
        self._delay_seconds = delay_seconds
        self._hold_seconds = hold_seconds
        self._upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._random_faults: tuple[tuple[Fault, ...], float, frozenset[str] | None, random.Random] | None = None
        self._requests_seen = 0
        self._faults_injected = 0
        self._by_operation: dict[str, int] = {}
        self._stop_event = threading.Event()
        self._server: _ProxyServer | None = None
        self._serve_thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------

    def start(self) -> FaultProxy:
        """Bind 127.0.0.1 on a free port and start serving in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FaultProxy already started")
        self._stop_event.clear()
        self._server = _ProxyServer(self)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _STOP_POLL_SECONDS},
            name="fault-proxy-serve",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut all connections (held ones included); idempotent."""
        server, thread = self._server, self._serve_thread
        if server is None or self._stop_event.is_set():
            return
        self._stop_event.set()  # releases NO_RESPONSE holds and SLOW_RESPONSE delays
        server.shutdown()
        server.server_close()
        server.cut_connections(timeout=1.0)
        if thread is not None:
            thread.join(timeout=1.0)

    def __enter__(self) -> FaultProxy:
        """Start the proxy (if needed) and return it."""
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the proxy."""
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the proxy, ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("FaultProxy not started")
        return f"http://{_HOST}:{self._server.server_address[1]}"

    # -- fault control -------------------------------------------------

    def inject(
        self, fault: Fault, times: int | None = 1, *, operations: set[str] | None = None
    ) -> None:
        """Queue ``fault`` for the next ``times`` matching requests (None: until clear()).

        ``operations`` restricts matching to these operation names (the
        ``X-Amz-Target`` suffix, or the ``Action`` parameter of query-protocol
        requests); None matches every request.  Rules are consulted in the
        order they were injected; the first matching one is applied.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"fault must be a Fault, got {fault!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times!r}")
        ops = None if operations is None else frozenset(operations)
        with self._lock:
            self._rules.append(_Rule(fault, times, ops))

    def inject_at_random(
        self, faults: list[Fault], rate: float, *, seed: int = 0, operations: set[str] | None = None
    ) -> None:
        """Give each matching request not taken by a queued rule one of ``faults`` with probability ``rate``.

        The draws come from ``random.Random(seed)``, so a run can be repeated (request
        order between threads aside). ``clear()`` ends it.
        """
        if not faults or not all(isinstance(fault, Fault) for fault in faults):
            raise TypeError(f"faults must be a non-empty list of Fault, got {faults!r}")
        if not 0 < rate <= 1:
            raise ValueError(f"rate must be in (0, 1], got {rate!r}")
        ops = None if operations is None else frozenset(operations)
        with self._lock:
            self._random_faults = (tuple(faults), rate, ops, random.Random(seed))

    def clear(self) -> None:
        """Drop every queued fault and random injection (counters are kept)."""
        with self._lock:
            self._rules.clear()
            self._random_faults = None

    @property
    def faults_injected(self) -> int:
        """Number of requests that received a fault so far."""
        with self._lock:
            return self._faults_injected

    @property
    def requests_seen(self) -> int:
        """Number of requests received (faulted or forwarded)."""
        with self._lock:
            return self._requests_seen

    @property
    def requests_by_operation(self) -> dict[str, int]:
        """Snapshot of requests seen per operation (unknown ones under ``UNKNOWN_OPERATION``)."""
        with self._lock:
            return dict(self._by_operation)

    @property
    def pending_faults(self) -> int:
        """Number of queued rules still active."""
        with self._lock:
            return len(self._rules)

    # -- internals used by the handler ---------------------------------

    def _on_request(self, operation: str | None) -> Fault | None:
        """Count a request and pop the fault to apply to it, if any."""
        key = operation if operation is not None else UNKNOWN_OPERATION
        with self._lock:
            self._requests_seen += 1
            self._by_operation[key] = self._by_operation.get(key, 0) + 1
            for index, rule in enumerate(self._rules):
                if not rule.matches(operation):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        del self._rules[index]
                self._faults_injected += 1
                return rule.fault
            if self._random_faults is not None:
                faults, rate, ops, draw = self._random_faults
                if (ops is None or key in ops) and draw.random() < rate:
                    self._faults_injected += 1
                    return draw.choice(faults)
        return None

    def _call_upstream(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send one request upstream; return (status, reason, headers, body)."""
        connection_tokens = {
            token.strip().lower()
            for name, value in headers
            if name.lower() == "connection"
            for token in value.split(",")
        }
        conn: http.client.HTTPConnection
        if self._upstream_scheme == "https":
            conn = http.client.HTTPSConnection(
                self._upstream_host, self._upstream_port, timeout=self._upstream_timeout
            )
        else:
            conn = http.client.HTTPConnection(
                self._upstream_host, self._upstream_port, timeout=self._upstream_timeout
            )
        try:
            conn.putrequest(
                method, self._upstream_prefix + path, skip_host=True, skip_accept_encoding=True
            )
            conn.putheader("Host", self._upstream_netloc)
            for name, value in headers:
                lowered = name.lower()
                if lowered not in _NOT_FORWARDED and lowered not in connection_tokens:
                    conn.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            conn.close()


def refused_endpoint() -> str:
    """Return ``http://127.0.0.1:PORT`` where (almost certainly) nothing listens.

    The port is obtained by binding port 0 and closing the socket again, so
    connections are refused immediately.  Another process could in theory
    grab the port in between; that is very unlikely within a test.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port = sock.getsockname()[1]
    return f"http://{_HOST}:{port}"


class SilentEndpoint:
    """TCP listener on 127.0.0.1 that accepts connections and never answers.

    Use as a context manager; connections are kept open until :meth:`close`.
    """

    def __init__(self) -> None:
        """Bind and listen on a free port (accepting starts with :meth:`start`)."""
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((_HOST, 0))
        self._listener.listen(128)
        self._port: int = self._listener.getsockname()[1]
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._accepted: list[socket.socket] = []
        self._thread: threading.Thread | None = None

    def start(self) -> SilentEndpoint:
        """Start accepting connections in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._accept_loop, name="silent-endpoint", daemon=True
            )
            self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stop_event.is_set():
            try:
                readable, _, _ = select.select([self._listener], [], [], _STOP_POLL_SECONDS)
                if not readable:
                    continue
                conn, _ = self._listener.accept()
            except (OSError, ValueError):
                return
            with self._lock:
                self._accepted.append(conn)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the listener."""
        return f"http://{_HOST}:{self._port}"

    @property
    def connections_accepted(self) -> int:
        """Number of connections accepted so far."""
        with self._lock:
            return len(self._accepted)

    def close(self) -> None:
        """Stop accepting and close the listener and every accepted connection."""
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self._listener.close()
        with self._lock:
            accepted, self._accepted = self._accepted, []
        for conn in accepted:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def __enter__(self) -> SilentEndpoint:
        """Start accepting and return self."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the endpoint."""
        self.close()


class TricklingEndpoint:
    """HTTP listener on 127.0.0.1 that reads each request, then answers one byte every ``interval`` seconds.

    ``part="body"``: a complete ``200 OK`` status line and headers announcing a
    ``Content-Length`` of ``length`` bytes, then the body a byte at a time; ``part="status"``:
    the status line itself a byte at a time. Each byte comes well within a read timeout
    (botocore's restarts at every byte), so only a total limit on the answer ends the call.
    ``requests`` counts the requests read; use as a context manager.
    """

    STATUS_LINE = b"HTTP/1.1 200 OK\r\n"

    def __init__(self, part: str = "body", *, interval: float = 0.5, length: int = 1_000_000) -> None:
        """Bind and listen on a free port (serving starts with :meth:`start`)."""
        if part not in ("body", "status"):
            raise ValueError(f"part must be 'body' or 'status', got {part!r}")
        self.part, self.interval, self.length = part, interval, length
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((_HOST, 0))
        self._listener.listen(128)
        self._port: int = self._listener.getsockname()[1]
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._requests = 0
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the listener."""
        return f"http://{_HOST}:{self._port}"

    @property
    def requests(self) -> int:
        """Number of requests read so far."""
        with self._lock:
            return self._requests

    def start(self) -> TricklingEndpoint:
        """Start accepting in a daemon thread; each connection is answered in a thread of its own."""
        thread = threading.Thread(target=self._accept_loop, name="trickling-endpoint", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept_loop(self) -> None:
        while not self._stop_event.is_set():
            try:
                readable, _, _ = select.select([self._listener], [], [], _STOP_POLL_SECONDS)
                if not readable:
                    continue
                conn, _ = self._listener.accept()
            except (OSError, ValueError):
                return
            thread = threading.Thread(target=self._answer, args=(conn,), daemon=True)
            with self._lock:
                self._connections.append(conn)
                self._threads.append(thread)
            thread.start()

    def _answer(self, conn: socket.socket) -> None:
        """Read requests on ``conn`` and trickle an answer to each, until stopped or cut."""
        reader = conn.makefile("rb")
        try:
            while not self._stop_event.is_set():
                length = 0
                line = reader.readline(_MAX_LINE)
                if not line:
                    return
                while line not in (b"\r\n", b"\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip() or 0)
                    line = reader.readline(_MAX_LINE)
                reader.read(length)
                with self._lock:
                    self._requests += 1
                if self.part == "body":
                    head = f"Content-Type: application/x-amz-json-1.0\r\nContent-Length: {self.length}\r\n\r\n"
                    conn.sendall(self.STATUS_LINE + head.encode())
                    trickled = b"{" + b" " * (self.length - 1)
                else:
                    trickled = self.STATUS_LINE
                for index in range(len(trickled)):
                    if self._stop_event.wait(self.interval):
                        return
                    conn.sendall(trickled[index:index + 1])
                if self.part == "status":  # the rest of a (useless) answer, should the client still wait
                    conn.sendall(b"Content-Length: 2\r\n\r\n{}")
        except (OSError, ValueError):
            return
        finally:
            reader.close()

    def close(self) -> None:
        """Stop serving, close the listener and every connection, and wait for the threads."""
        self._stop_event.set()
        self._listener.close()
        with self._lock:
            connections, threads = list(self._connections), list(self._threads)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for thread in threads:
            thread.join(timeout=1.0)

    def __enter__(self) -> TricklingEndpoint:
        """Start serving and return self."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the endpoint."""
        self.close()
