"""Where to connect, and the one place boto3 sessions and clients are built.

``Target`` bundles a region, an optional endpoint URL, an optional profile, the
retry/timeout ``ClientSettings`` and an optional ``Deadline`` that every client built
from it honours (the CLI's ``--timeout``: the whole command, every AWS call
included). Credentials come only from boto3's standard chain (environment
variables, ``AWS_PROFILE`` or ``profile``, shared files, SSO, instance roles),
except for local emulators, which get fixed dummy credentials so that real ones are
never sent to them. Endpoints left unset follow boto3's own resolution, including
``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_DYNAMODB``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from .. import redaction
from ..errors import ConfigurationError, shown
from ..settings import ClientSettings, validate_endpoint_url, validate_known_region, validate_region
from .aws_call import location, prepare
from .deadline import Deadline
from .translation import credential_source_error, translate

if TYPE_CHECKING:
    import boto3

logger = logging.getLogger(__name__)

LOCAL_REGION = "us-east-1"
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"
# the services the deploy tool calls, and the variable that names each one's endpoint (botocore's)
SERVICE_ENDPOINT_VARIABLES = {
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "cloudformation": "AWS_ENDPOINT_URL_CLOUDFORMATION",
}
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", *SERVICE_ENDPOINT_VARIABLES.values())


@dataclass(frozen=True)
class Target:
    """A connection target: real AWS (the default), LocalStack, or any local endpoint."""

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    settings: ClientSettings = field(default_factory=ClientSettings.from_env)
    dummy_credentials: bool = False
    deadline: Deadline | None = None

    def __post_init__(self) -> None:
        if self.region is not None:
            validate_region(self.region)
        if self.endpoint_url is not None:
            validate_endpoint_url(self.endpoint_url)
        elif self.region is not None and not any(os.environ.get(v) for v in ENDPOINT_VARIABLES):
            validate_known_region(self.region)  # the AWS endpoint is built from the name: it must exist
        if self.profile is not None and not isinstance(self.profile, str):
            raise ConfigurationError(f"profile must be a string, got {type(self.profile).__name__}.")
        if not isinstance(self.settings, ClientSettings):
            raise ConfigurationError(f"settings must be a ClientSettings, got {type(self.settings).__name__}.")

    @classmethod
    def local(
        cls,
        endpoint_url: str | None,
        region: str | None = None,
        settings: ClientSettings | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> Target:
        """A local emulator (embedded moto server or LocalStack) with dummy credentials.

        ``endpoint_url`` None: each service's endpoint comes from the ``AWS_ENDPOINT_URL*``
        variables, as botocore reads them (see ``configured_endpoints``).
        """
        return cls(
            region=LOCAL_REGION if region is None else region,
            endpoint_url=endpoint_url,
            settings=settings or ClientSettings.from_env(),
            dummy_credentials=True,
            deadline=deadline,
        )

    def session(self) -> boto3.Session:
        """Build a boto3 session; the profile and region are checked here, not at first call."""
        import boto3  # here, not at import: boto3 adds s3transfer and its resource layer (~45 ms, 7,000 objects)

        return boto3.Session(botocore_session=self.core_session())

    def core_session(self) -> botocore.session.Session:
        """The botocore session under ``session`` (credentials, profile, region), enough for a client."""
        redaction.install()
        try:
            core = botocore.session.Session()
            if self.dummy_credentials:
                core.set_credentials(DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)
            elif self.profile is not None:
                core.set_config_variable("profile", self.profile)
            if self.region is not None:
                core.set_config_variable("region", self.region)
            core.get_scoped_config()  # an unknown profile fails here, as in boto3.Session
        except BotoCoreError as error:
            raise translate(error, operation="session setup") from error
        return core

    def client(
        self, service: str, session: boto3.Session | None = None, *, validate_parameters: bool = True
    ) -> BaseClient:
        """Build a low-level client for ``service`` with this target's endpoint and settings.

        Without a ``session`` the client comes from a botocore session: the same client,
        without importing boto3, so a cold start costs no more than raw boto3's.
        ``validate_parameters=False`` turns off botocore's parameter validation, for a
        caller that validates what needs it itself (``DynamoDBClient``).
        """
        built: boto3.Session | botocore.session.Session = session or self.core_session()
        create = built.create_client if isinstance(built, botocore.session.Session) else built.client
        try:  # resolved here (the client would resolve them anyway) so a failed source is named as such
            built.get_credentials()
        except BotoCoreError as error:
            raise translate(error, operation="credential resolution") from error
        except ValueError as error:  # botocore lets a credential_process's unparsable output through
            redaction.redact_exception(error)  # its .doc is the whole output, the secret key perhaps in it
            raise credential_source_error(error, operation="credential resolution") from error
        try:
            config = self.settings.botocore_config(config_chain(built))
            if not validate_parameters:
                config = config.merge(Config(parameter_validation=False))
            client = create(service, endpoint_url=self.endpoint_url, config=config)
        except BotoCoreError as error:
            raise translate(error, operation=f"{service} client setup") from error
        except ValueError as error:  # botocore's answer to e.g. a bad AWS_ENDPOINT_URL_* or config-file value
            raise ConfigurationError(
                f"Cannot build the {service} client: {shown(str(error))}. "
                "Check the AWS_ENDPOINT_URL* variables and the AWS config file."
            ) from error
        remember_credentials(built)
        retries = client.meta.config.retries or {}
        logger.debug(
            "Built %s client for %s (retry mode %s, %s attempts)",
            service,
            location(client),
            retries.get("mode"),
            retries.get("total_max_attempts", "botocore's default"),
        )
        prepare(client)
        return self.deadline.bind(client) if self.deadline is not None else client


def configured_endpoints(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The variable that sets the endpoint of each service the tool calls, by service ({} when none does).

    botocore's rule: ``AWS_ENDPOINT_URL_<SERVICE>``, else ``AWS_ENDPOINT_URL``, and
    neither with ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true``. Each value is checked
    like ``--endpoint-url``; a service left without one is refused rather than sent
    to AWS with dummy credentials.
    """
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return {}
    found = {
        service: next((v for v in (variable, "AWS_ENDPOINT_URL") if environ.get(v)), "")
        for service, variable in SERVICE_ENDPOINT_VARIABLES.items()
    }
    if not any(found.values()):
        return {}
    for service, variable in found.items():
        if not variable:
            raise ConfigurationError(
                f"{' and '.join(sorted(set(filter(None, found.values()))))} set the endpoint of some services but "
                f"not of {service}: set AWS_ENDPOINT_URL (or {SERVICE_ENDPOINT_VARIABLES[service]}) too."
            )
        try:
            validate_endpoint_url(environ[variable])
        except ConfigurationError as error:
            raise ConfigurationError(f"{variable}: {error}") from None
    return found


def config_chain(session: boto3.Session | botocore.session.Session) -> botocore.session.Session:
    """The botocore session whose configuration (environment, profile) a client of ``session`` is built from.

    boto3 does not expose the botocore session under a ``boto3.Session``: one for the
    same profile reads the same environment and files (boto3 names an unset profile
    "default", which need not exist in them).
    """
    if isinstance(session, botocore.session.Session):
        return session
    profile = session.profile_name
    return botocore.session.Session(profile=profile if profile in session.available_profiles else None)


def remember_credentials(session: boto3.Session | botocore.session.Session) -> None:
    """Register the session's secret key and token for redaction, if it has any."""
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
    except BotoCoreError:  # unresolved credentials fail later, at the first call, with a clear error
        return
    if frozen is not None:
        redaction.register_secrets(frozen.secret_key, frozen.token)

