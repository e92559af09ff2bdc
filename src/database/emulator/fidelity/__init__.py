"""The fidelity layer: closes the gaps between moto and AWS that this project's template touches.

Installed only into the moto servers the project starts (``FidelityMotoServer``,
used by ``local_endpoint.EmbeddedEndpoint``): each patch dispatches on
``scope.active()``, true only while such a server handles a request, so an
application's own ``mock_aws`` tests in the same process keep moto's stock
behaviour. Each gap is named (``GAPS``) and lives in one module (``costs`` and
``json_requests``, ``json_responses`` hold patches that change no answer, only moto's CPU time); removing a gap
when moto fixes it upstream means deleting its ``patch(...)`` line and its code.
``tests/test_moto_fidelity.py`` pins the moto internals every gap relies on.
"""

from __future__ import annotations

import threading

from .costs import sessions_share_one_loader

with sessions_share_one_loader():  # the cost "region-list": moto.ec2 builds sessions at import
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
    "kms-key-pair": "a KMS key makes its key pair on first use, not at create (~0.1 s per SSE table)",
    "service-list": "moto's service modules are listed once, not at every request (~150 stat calls each)",
    "backend-lookup": "a backend lookup of a known account skips moto's registration check (~150 dict compares)",
    "region-list": "moto's import lists EC2 regions with sessions sharing one data loader (~0.8 s per process)",
    "template-yaml": "moto parses templates with libyaml and yaml.Loader's constructors (~5 ms less per parse)",
    "request-parse": "moto parses JSON requests with plans compiled per shape (a 25-item batch: 0.8 ms, not 3.3)",
    "response-serialize": "moto serializes DynamoDB items with plans compiled per shape (3,000 items: ~0.2 s, not 4)",
    "query-partition": "a Query on the partition key alone reads that partition, not the sorted table, uncopied",
}

_installed = threading.Lock()

# How often the serving loop looks for a stop request. socketserver's default (0.5 s) made
# every stop wait 0.45 s, at the end of each command on the embedded endpoint; 0.05 s costs
# about 0.3 % of a core while `serve` idles.
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
