"""Gap "query-errors": an error answered to a query-protocol call is the protocol's XML, not DynamoDB's JSON.

moto answers a CloudFormation call whose resource creation failed inside DynamoDB
(a stack's table already exists, say) with DynamoDB's JSON error,
``{"__type": "...#ResourceInUseException", "message": "Table already exists: ..."}``.
CloudFormation speaks the query protocol, whose errors AWS answers as an
``<ErrorResponse>`` document (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html),
so botocore's XML parser cannot read moto's and the AWS code and message are lost.
``in_request_protocol`` wraps the embedded server's WSGI application: an error answer
(HTTP >= 400) to a form-encoded request (the query protocol's) whose body is a JSON
object naming an AWS error is rewritten into that document. Nothing outside the
server's own requests is touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from .scope import WsgiApp

_QUERY_CONTENT_TYPE = "application/x-www-form-urlencoded"


def in_request_protocol(app: WsgiApp) -> WsgiApp:
    """Wrap ``app`` so that its JSON errors to query-protocol requests are answered as XML."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("CONTENT_TYPE", "").startswith(_QUERY_CONTENT_TYPE):
            return app(environ, start_response)
        answer: list[Any] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            answer[:] = [status, headers, exc_info]
            return lambda data: None  # moto returns its body; it never writes through this

        chunks = app(environ, keep)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        status, headers, exc_info = answer
        rewritten = query_error(body) if int(status.split(" ", 1)[0]) >= 400 else None
        if rewritten is not None:
            body = rewritten
            headers = [(n, v) for n, v in headers if n.lower() not in ("content-type", "content-length")]
            headers += [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))]
        start_response(status, headers, exc_info)
        return [body]

    return serve


def query_error(body: bytes) -> bytes | None:
    """The query protocol's error document for a JSON AWS error ``body``; None for any other body."""
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    code = str(parsed.get("__type") or parsed.get("code") or parsed.get("Code") or "")
    code = code.rsplit("#", 1)[-1].split(":", 1)[0]
    if not code:
        return None
    message = str(parsed.get("message") or parsed.get("Message") or "")
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error></ErrorResponse>"
    ).encode()
