"""Unit tests of ``src.database.errors``: the hierarchy, default messages and ``translate``.

Every branch of ``translate`` is driven with the real botocore exception class. The
boto exceptions are built carrying a fake secret (in the AWS error message, as AWS
quotes a signed security-token header in a signature mismatch; in the endpoint URL and
the exception text) to prove that the translated message keeps what AWS said with the
secret redacted, and never repeats botocore's exception text.
"""

from __future__ import annotations

import inspect

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from src.database import errors
from src.database.errors import (
    AccessDeniedError,
    ConditionalCheckFailedError,
    ConfigurationError,
    CredentialsError,
    DatabaseError,
    DeploymentError,
    EndpointUnreachableError,
    InvalidCredentialsError,
    ItemValidationError,
    ServiceError,
    TableNotFoundError,
    TemplateError,
    ThrottledError,
    error_code,
    translate,
)
from src.database.redaction import REDACTED

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
SECRET_URL = f"http://user:{SECRET}@127.0.0.1:1"

# Every error class of the module, found rather than listed, so a new one is covered too.
ALL_CLASSES = tuple(
    cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, DatabaseError)
)


AWS_SAID = f"The canonical string should have been 'POST / x-amz-security-token:{SECRET}'"
"""An AWS error message quoting a credential header, as AWS does for a signature mismatch."""
AWS_SAID_REDACTED = f"The canonical string should have been 'POST / x-amz-security-token:{REDACTED}'"


def client_error(code: str, status: int = 400, operation: str = "PutItem") -> ClientError:
    """A ClientError as botocore builds it, its AWS message carrying the fake secret."""
    response = {
        "Error": {"Code": code, "Message": AWS_SAID},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


# -- hierarchy and default messages --------------------------------------------------------


def test_the_class_list_is_complete() -> None:
    named = {ConfigurationError, CredentialsError, InvalidCredentialsError, AccessDeniedError, TableNotFoundError,
             EndpointUnreachableError, ThrottledError, ServiceError, ItemValidationError, DeploymentError,
             TemplateError, DatabaseError}
    assert named <= set(ALL_CLASSES)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda cls: cls.__name__)
def test_every_class_has_a_one_line_default_message(cls: type[DatabaseError]) -> None:
    error = cls()
    assert str(error) == cls.default_message == error.message
    assert error.message.strip() and "\n" not in error.message
    assert isinstance(error, DatabaseError)


def test_default_messages_say_what_to_check() -> None:
    assert "AWS_PROFILE" in CredentialsError().message
    assert "SSO" in InvalidCredentialsError().message
    assert "region and endpoint" in TableNotFoundError().message
    assert "max_attempts" in ThrottledError().message
    assert "permission" in AccessDeniedError().message


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda cls: cls.__name__)
def test_errors_carry_operation_code_and_aws_message(cls: type[DatabaseError]) -> None:
    """Every package error has the three attributes; without AWS they are None/None/""."""
    plain = cls()
    assert (plain.operation, plain.code, plain.aws_message) == (None, None, "")
    error = cls("It failed.", operation="PutItem", code="SomeCode", aws_message="what AWS said")
    assert (error.operation, error.code, error.aws_message) == ("PutItem", "SomeCode", "what AWS said")
    assert str(error) == "It failed: what AWS said"


def test_a_given_message_replaces_the_default() -> None:
    assert ConfigurationError("bad region").message == "bad region"
    assert ConfigurationError("").message == ConfigurationError.default_message


def test_subclass_relations_callers_rely_on() -> None:
    assert issubclass(InvalidCredentialsError, CredentialsError)
    assert issubclass(TemplateError, DeploymentError)
    assert not issubclass(AccessDeniedError, CredentialsError)


def test_error_code_reads_the_code_or_empty() -> None:
    assert error_code(client_error("ThrottlingException")) == "ThrottlingException"
    assert error_code(ClientError({}, "PutItem")) == ""  # type: ignore[arg-type]


# -- translate: non-ClientError branches ----------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected_class", "fragments"),
    [
        (ProfileNotFound(profile="nosuch"), CredentialsError, ["AWS profile 'nosuch' not found", "AWS_PROFILE"]),
        (NoCredentialsError(), CredentialsError, ["No AWS credentials found"]),
        (
            PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            CredentialsError,
            ["Incomplete AWS credentials: Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY."],
        ),
        (
            TokenRetrievalError(provider="sso", error_msg=f"refresh failed, {{'refreshToken': '{SECRET}'}}"),
            InvalidCredentialsError,
            ["SSO session's token could not be refreshed: Error when retrieving token from sso: refresh failed, "
             f"{{'refreshToken': '{REDACTED}'}}."],
        ),
        (
            CredentialRetrievalError(provider="custom-process", error_msg=f"exit 1: aws_secret_access_key={SECRET}"),
            CredentialsError,
            ["The AWS credentials could not be obtained: Error when retrieving credentials from custom-process: "
             f"exit 1: aws_secret_access_key={REDACTED}. Check the profile's credential_process"],
        ),
        (UnauthorizedSSOTokenError(), InvalidCredentialsError, ["SSO session"]),
        (NoRegionError(), ConfigurationError, ["No AWS region configured", "Give region=", "AWS_REGION"]),
        (
            ConnectTimeoutError(endpoint_url=SECRET_URL),
            EndpointUnreachableError,
            ["PutItem timed out in us-east-1", "ClientSettings.connect_timeout"],
        ),
        (
            ReadTimeoutError(endpoint_url=SECRET_URL),
            EndpointUnreachableError,
            ["PutItem timed out in us-east-1", "reading the answer", "took the request", "read_timeout"],
        ),
        (
            ConnectionClosedError(endpoint_url=SECRET_URL),
            EndpointUnreachableError,
            ["endpoint in us-east-1 closed the connection without answering PutItem"],
        ),
        (
            EndpointConnectionError(endpoint_url=SECRET_URL),
            EndpointUnreachableError,
            ["Could not reach the endpoint in us-east-1 for PutItem (EndpointConnectionError)"],
        ),
        (
            HTTPClientError(error=RuntimeError(SECRET)),
            EndpointUnreachableError,
            ["Could not reach the endpoint in us-east-1 for PutItem (HTTPClientError)"],
        ),
        (
            ParamValidationError(report=f"Invalid type {SECRET}"),
            ConfigurationError,
            ["PutItem was not sent in us-east-1: its parameters are invalid"],
        ),
        (BotoCoreError(), ServiceError, ["PutItem failed in us-east-1: BotoCoreError"]),
        (ValueError(SECRET), ServiceError, ["PutItem failed in us-east-1: ValueError"]),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_translate_maps_each_boto_error(
    error: Exception, expected_class: type[DatabaseError], fragments: list[str]
) -> None:
    translated = translate(error, operation="PutItem", table="VibeDigest-dev", where="us-east-1")
    assert type(translated) is expected_class
    for fragment in fragments:
        assert fragment in translated.message
    assert SECRET not in translated.message
    assert "\n" not in translated.message
    assert (translated.operation, translated.code, translated.aws_message) == ("PutItem", None, "")


def test_translate_without_where_leaves_the_location_out() -> None:
    translated = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), operation="DescribeTable")
    assert translated.message.startswith("Could not reach the endpoint for DescribeTable")


def test_translate_returns_package_errors_unchanged() -> None:
    original = TableNotFoundError("already translated")
    assert translate(original, operation="PutItem") is original


def test_a_missing_profile_name_is_shown_as_a_question_mark() -> None:
    error = ProfileNotFound(profile="x")
    error.kwargs.pop("profile")
    assert "AWS profile '?' not found" in translate(error, operation="setup").message


# -- translate: ClientError codes ----------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "Throttling", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
     "TooManyRequestsException"],
)
def test_throttling_codes_become_throttled_error(code: str) -> None:
    translated = translate(client_error(code), operation="BatchWriteItem", where="eu-west-1")
    assert type(translated) is ThrottledError
    assert f"BatchWriteItem was throttled in eu-west-1 after all retry attempts ({code}: " in translated.message
    assert SECRET not in translated.message
    assert (translated.operation, translated.code) == ("BatchWriteItem", code)


@pytest.mark.parametrize(
    "code",
    ["UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
     "ExpiredToken", "ExpiredTokenException", "InvalidToken", "MissingAuthenticationToken", "IncompleteSignature"],
)
def test_invalid_credential_codes_become_invalid_credentials_error(code: str) -> None:
    translated = translate(client_error(code), operation="DescribeTable")
    assert type(translated) is InvalidCredentialsError
    assert f"AWS rejected the credentials for DescribeTable ({code}: {AWS_SAID_REDACTED})" in translated.message
    assert SECRET not in translated.message
    assert translated.aws_message == AWS_SAID_REDACTED


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"])
def test_access_denied_codes_become_access_denied_error(code: str) -> None:
    translated = translate(client_error(code, 403), operation="CreateStack", where="us-east-1")
    assert type(translated) is AccessDeniedError
    assert f"Access denied for CreateStack in us-east-1 ({code}: " in translated.message
    assert SECRET not in translated.message


@pytest.mark.parametrize("table", ["VibeDigest-dev", "custom-table"])
def test_resource_not_found_with_a_table_becomes_table_not_found(table: str) -> None:
    response = {"Error": {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
    translated = translate(
        ClientError(response, "DescribeTable"), operation="DescribeTable", table=table, where="us-east-1"  # type: ignore[arg-type]
    )
    assert type(translated) is TableNotFoundError
    assert translated.message.startswith(
        f"Table '{table}' not found in us-east-1 (ResourceNotFoundException: Requested resource not found)."
    )
    assert "region and endpoint" in translated.message


def test_resource_not_found_without_a_table_is_a_service_error() -> None:
    translated = translate(client_error("ResourceNotFoundException"), operation="DescribeStacks")
    assert type(translated) is ServiceError
    assert translated.message == f"DescribeStacks failed: ResourceNotFoundException: {AWS_SAID_REDACTED}"


def test_a_validation_error_shows_what_aws_said() -> None:
    """Issue 7's first case: the AWS message naming the missing key is in ``str()``, not only in the cause."""
    said = "One or more parameter values were invalid: Missing the key item_id in the item"
    response = {"Error": {"Code": "ValidationException", "Message": said}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    translated = translate(ClientError(response, "PutItem"), operation="PutItem", where="us-east-1")  # type: ignore[arg-type]
    assert type(translated) is ServiceError
    assert str(translated) == f"PutItem failed in us-east-1: ValidationException: {said}"
    assert (translated.operation, translated.code, translated.aws_message) == ("PutItem", "ValidationException", said)


def test_a_failed_condition_becomes_its_own_error() -> None:
    response = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
    translated = translate(ClientError(response, "PutItem"), operation="PutItem", table="VibeDigest-dev")  # type: ignore[arg-type]
    assert type(translated) is ConditionalCheckFailedError
    assert isinstance(translated, ServiceError)
    assert translated.code == "ConditionalCheckFailedException"
    assert str(translated) == (
        "PutItem on VibeDigest-dev: the write's condition was not met, nothing was written "
        "(ConditionalCheckFailedException: The conditional request failed)."
    )


def test_a_long_or_multi_line_aws_message_is_kept_to_one_shortened_line() -> None:
    response = {"Error": {"Code": "ValidationException", "Message": "line one\nline two " + "x" * 1000},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
    translated = translate(ClientError(response, "PutItem"), operation="PutItem")  # type: ignore[arg-type]
    assert "\n" not in translated.message
    assert translated.aws_message.startswith("line one line two xxx")
    assert len(translated.message) < 400


def test_no_translated_message_names_a_cli_command() -> None:
    """Library messages say what to check in library terms; commands to run are the CLI's to add."""
    boto_errors: list[Exception] = [
        ProfileNotFound(profile="p"), NoCredentialsError(), UnauthorizedSSOTokenError(), NoRegionError(),
        ConnectTimeoutError(endpoint_url="http://x"), ReadTimeoutError(endpoint_url="http://x"),
        ConnectionClosedError(endpoint_url="http://x"), EndpointConnectionError(endpoint_url="http://x"),
    ]
    boto_errors += [client_error(code, status) for code, status in [
        ("ResourceNotFoundException", 400), ("ThrottlingException", 400), ("ExpiredToken", 403),
        ("AccessDenied", 403), ("InternalServerError", 500), ("ValidationException", 400),
    ]]
    messages = [translate(e, operation="DescribeTable", table="VibeDigest-dev", where="us-east-1").message
                for e in boto_errors]
    messages += [cls().message for cls in ALL_CLASSES]
    for message in messages:
        for command_like in ("python -m", "--target", "--region", "--env", "VIBEDIGEST_", "'status'"):
            assert command_like not in message, message


@pytest.mark.parametrize(
    "response",
    [{"Error": {"Message": SECRET}}, {"Error": {"Code": "404"}, "ResponseMetadata": {"HTTPStatusCode": 404}}],
)
def test_an_answer_without_an_aws_error_code_points_at_the_endpoint(response: dict[str, object]) -> None:
    """botocore puts the HTTP status in place of the code when the body is not an AWS error."""
    translated = translate(ClientError(response, "PutItem"), operation="PutItem", where="us-east-1")  # type: ignore[arg-type]
    assert type(translated) is ServiceError
    assert translated.message.startswith("PutItem failed in us-east-1: HTTP ")
    assert "without an AWS error code" in translated.message
    assert SECRET not in translated.message


def test_an_unparsable_answer_is_a_service_error() -> None:
    from botocore.parsers import ResponseParserError

    translated = translate(ResponseParserError(f"bad body {SECRET}"), operation="GetItem", where="us-east-1")
    assert type(translated) is ServiceError
    assert "not a valid AWS response" in translated.message
    assert SECRET not in translated.message


@pytest.mark.parametrize(("code", "status"), [("InternalServerError", 500), ("ServiceUnavailable", 503)])
def test_server_side_errors_say_they_survived_the_retries(code: str, status: int) -> None:
    translated = translate(client_error(code, status), operation="PutItem", where="us-east-1")
    assert type(translated) is ServiceError
    assert translated.message.startswith(f"PutItem failed in us-east-1: {code}: {AWS_SAID_REDACTED} (HTTP {status}), "
                                         "a server-side error")
    assert "max_attempts" in translated.message
    assert SECRET not in translated.message


def test_translated_errors_can_chain_the_original() -> None:
    """``translate`` returns the error; callers raise it ``from`` the boto one (as client.py does)."""
    original = client_error("ThrottlingException")
    with pytest.raises(ThrottledError) as excinfo:
        raise translate(original, operation="PutItem") from original
    assert excinfo.value.__cause__ is original


def test_every_code_set_is_disjoint() -> None:
    """A code in two sets would silently pick the first branch; keep them apart."""
    sets = [errors.THROTTLING_CODES, errors._INVALID_CREDENTIAL_CODES, errors._ACCESS_DENIED_CODES]
    for index, first in enumerate(sets):
        for second in sets[index + 1:]:
            assert not first & second

