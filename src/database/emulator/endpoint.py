"""The embedded local endpoint: moto's server run in-process on 127.0.0.1.

It serves DynamoDB and CloudFormation over real HTTP with no AWS account and no
Docker. State lives in this process and vanishes when it stops. The server runs
with the fidelity layer (``moto_fidelity``), which closes the gaps between moto and
AWS that this project's template and lifecycle touch; docs/emulators.md lists what is left.
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
from types import TracebackType

from ..aws.target import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, LOCAL_REGION
from ..errors import ConfigurationError, shown
from .fidelity import FidelityMotoServer

logger = logging.getLogger(__name__)


def _check_bindable(host: str, port: int) -> None:
    """Refuse a host/port the server cannot listen on, with a clear error.

    Checked by binding once here because moto's threaded server waits forever
    when its own bind fails (port out of range, unknown host, port in use).
    """
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"Port must be between 0 and 65535, got {port}.")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            pass
    except (OSError, UnicodeError) as error:
        # the message only: an OSError's strerror may quote the address as a Python tuple
        errno = getattr(error, "errno", None)
        reason = os.strerror(errno) if isinstance(errno, int) and errno > 0 else type(error).__name__
        if isinstance(error, socket.gaierror):  # getaddrinfo's own codes, not errno values
            reason = error.strerror or type(error).__name__
        raise ConfigurationError(f"Cannot listen on host {shown(host)} port {port}: {reason}.") from None


_WARM_UP_TIMEOUT = 120.0
_WARM_UP_CREDENTIAL = f"AWS4-HMAC-SHA256 Credential={DUMMY_ACCESS_KEY_ID}/20240101/{LOCAL_REGION}"
_WARM_UP_REQUESTS: tuple[tuple[dict[str, str], bytes], ...] = (
    (
        {"Authorization": f"{_WARM_UP_CREDENTIAL}/cloudformation/aws4_request",
         "Content-Type": "application/x-www-form-urlencoded"},
        b"Action=DescribeStacks&Version=2010-05-15",
    ),
    (
        {"Authorization": f"{_WARM_UP_CREDENTIAL}/dynamodb/aws4_request",
         "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"},
        b"{}",
    ),
)


class EmbeddedEndpoint:
    """A moto server on 127.0.0.1; port 0 (the default) picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._server = FidelityMotoServer(ip_address=host, port=port, verbose=False)
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The endpoint URL, e.g. ``http://127.0.0.1:41234``; only after ``start()``."""
        if self._url is None:
            raise RuntimeError("EmbeddedEndpoint.start() has not been called")
        return self._url

    def start(self) -> EmbeddedEndpoint:
        """Start serving in a daemon thread and return self."""
        _check_bindable(self._host, self._port)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._url = f"http://{host}:{port}"
        self._warm_up()
        logger.info("Embedded endpoint listening at %s", self._url)
        return self

    def _warm_up(self) -> None:
        """Answer one request per served service now, so clients never wait for moto's set-up.

        moto imports and builds a service's backend on its first request (seconds on a
        busy machine); a client with timeouts sized for DynamoDB would give up on it.
        """
        for headers, body in _WARM_UP_REQUESTS:
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=_WARM_UP_TIMEOUT) as response:
                    response.read()
            except OSError as error:  # an error answer still did the set-up; anything else shows at first use
                logger.debug("Warm-up request to %s: %s", self.url, type(error).__name__)

    def stop(self) -> None:
        """Stop serving; the emulated state is discarded."""
        if self._url is not None:
            self._server.stop()
            logger.info("Embedded endpoint at %s stopped", self._url)
            self._url = None

    def environment(self, region: str = LOCAL_REGION) -> dict[str, str]:
        """Variables with which boto3, the AWS CLI or this tool reach the endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        }

    def __enter__(self) -> EmbeddedEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
