"""The fidelity layer: closes the gaps between moto and AWS that this project's template touches.

Installed only into the moto servers the project starts (``FidelityMotoServer``,
used by ``local_endpoint.EmbeddedEndpoint``): each patch dispatches on
``scope.active()``, true only while such a server handles a request, so an
application's own ``mock_aws`` tests in the same process keep moto's stock
behaviour. Each gap is named (``GAPS``) and lives in one module (``costs`` and
``json_requests``, ``json_responses``, ``queries`` hold speed patches that change no answer, each kept for
a margin on a command a user runs, recorded in ``tests/benchmarks/RESULTS.md``); removing a gap
when moto fixes it upstream means deleting its ``patch(...)`` line and its code.
``tests/test_moto_fidelity.py`` pins the moto internals every gap relies on.
"""

from __future__ import annotations

import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import (
    ThreadedMotoServer,  # the public path (moto.server), as moto documents it
)
from werkzeug.serving import make_server

from . import (
    answers,
    change_sets,
    costs,
    drift,
    execution,
    imports,
    item_size,
    json_requests,
    json_responses,
    queries,
    tables,
)
from .scope import active, serving

__all__ = ["GAPS", "FidelityMotoServer", "active", "install"]

# gap name -> what it closes (the module docstrings say how)
GAPS: dict[str, str] = {
    "sse": "template SSESpecification reaches DynamoDB (SSEDescription)",
    "pitr": "template PointInTimeRecoverySpecification is applied",
    "sse-update": "DynamoDB UpdateTable applies SSESpecification",
    "table-name": "a table name DynamoDB rejects fails the create",
    "table-updates": (
        "stack updates apply tags, PITR, SSE, deletion protection, billing; refuse custom-named replacement"
    ),
    "no-changes": "an empty change set is FAILED with CloudFormation's reason, not a ValidationError",
    "review-stack": "CREATE/IMPORT change sets reuse a REVIEW_IN_PROGRESS stack",
    "replacement": "modified tables' changes carry Replacement and Details",
    "list-change-sets": "ListChangeSets lists one stack's change sets",
    "delete-stack-change-sets": "deleting a stack deletes its change sets",
    "resource-events": "resource-level stack events",
    "rollback": "failed creates/updates/imports roll back to *ROLLBACK_COMPLETE; outputs and exports for change sets",
    "import": "IMPORT change sets with ResourcesToImport; refused with stack tags, outputs or other changes",
    "drift-aware": "DeploymentMode=REVERT_DRIFT change sets list and revert a table's drift",
    "drift-detection": "DetectStackDrift and its status and resource drifts, for tables",
    "query-errors": "an error answered to a CloudFormation (query-protocol) call is XML, not DynamoDB's JSON",
    "item-size": "items are sized once by DynamoDB's rule, refused above its 409,600 bytes (moto: 405,000)",
    # costs, not gaps: work moto's server does that changes no answer
    "kms-key-pair": "a KMS key makes its RSA key pair on first use (sign, verify, public key), not at create",
    "request-parse": "moto parses JSON requests with plans compiled once per shape, not by walking the shape",
    "response-serialize": "moto serializes DynamoDB items with plans compiled once per shape, not by walking the shape",
    "query-partition": "a Query on the partition key alone reads that partition, not the sorted table, uncopied",
}

_installed = threading.Lock()

# How often the serving loop looks for a stop request: every command on the embedded endpoint
# ends by stopping it and waits for that poll, and socketserver's default (0.5 s) is a wait a
# user sees; a shorter poll costs an idle `serve` little CPU.
_STOP_POLL_SECONDS = 0.05


def install() -> None:
    """Install every gap's patch (idempotent; inert outside the project's servers)."""
    with _installed:
        tables.install()
        change_sets.install()
        execution.install()
        imports.install()
        drift.install()
        costs.install()
        json_requests.install()
        json_responses.install()
        queries.install()
        item_size.install()


class FidelityMotoServer(ThreadedMotoServer):
    """moto's threaded server whose requests run with the fidelity layer active."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> None:
        install()
        super().__init__(ip_address=ip_address, port=port, verbose=verbose)

    def _server_entry(self) -> None:
        """Moto's own ``_server_entry`` with the application wrapped by ``scope.serving``."""
        app = serving(answers.in_request_protocol(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=_STOP_POLL_SECONDS)
