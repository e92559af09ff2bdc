"""Unit tests of ``src.database.redaction``: patterns, registered secrets, the record factory.

The end-to-end test logs botocore's real DEBUG wire log of a signed request (with a
session token) to a real handler and checks the secret key and token never reach it.
A fixture restores the process-wide state (record factory, registered secrets, the
installed flag) so these tests leave no trace on others.
"""

from __future__ import annotations

import logging
import traceback
from typing import Iterator

import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ClientError, ConnectionClosedError

from src.database import redaction
from src.database.aws.target import Target
from src.database.emulator.endpoint import EmbeddedEndpoint
from src.database.redaction import REDACTED, redact, register_secrets

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKENvalue1234567890abcdefTOKEN"


@pytest.fixture
def clean_redaction() -> Iterator[None]:
    """Restore the record factory, the registered secrets and the installed flag afterwards."""
    factory = logging.getLogRecordFactory()
    installed = redaction._installed
    secrets = set(redaction._secrets)
    try:
        yield
    finally:
        logging.setLogRecordFactory(factory)
        redaction._installed = installed
        with redaction._lock:
            redaction._secrets.clear()
            redaction._secrets.update(secrets)


@pytest.fixture
def fresh_install(clean_redaction: None) -> None:
    """The factory installed afresh on top of the standard one."""
    logging.setLogRecordFactory(logging.LogRecord)
    redaction._installed = False
    redaction.install()


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """pytest's caplog at DEBUG on the root logger, botocore, src.database and an unrelated logger."""
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "myapp", "src.database"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


# -- redact -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("X-Amz-Security-Token: FwoGZXIvYXdzEabc", "FwoGZXIvYXdzEabc"),
        ("{'X-Amz-Security-Token': b'FwoGZXIvYXdzEabc', 'X-Amz-Date': b'2024'}", "FwoGZXIvYXdzEabc"),
        ("x-amz-security-token=FwoGZXIvYXdzEabc&next=1", "FwoGZXIvYXdzEabc"),
        (
            "{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef'}",
            "Signature=0123456789abcdef",
        ),
        ("authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=feedface", "Signature=feedface"),
        ("aws_secret_access_key = abcdefSECRETxyz", "abcdefSECRETxyz"),
        ("'aws_session_token': 'tokenTOKENtoken'", "tokenTOKENtoken"),
        ("AWS_SECRET_ACCESS_KEY=abcdefSECRETxyz", "abcdefSECRETxyz"),
        # issue 20 §7: headers echoed inside a JSON string (escaped quotes), once or twice escaped
        (
            r'{"body": "{\"Authorization\": \"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/'
            r'aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef\"}"}',
            "Signature=0123456789abcdef",
        ),
        (r'\"Authorization\": \"AWS4-HMAC-SHA256 Credential=AKID\/20240101, Signature=feedface\"', "feedface"),
        (r'\\\"Authorization\\\": \\\"AWS4-HMAC-SHA256 Credential=AKID, Signature=feedface\\\"', "feedface"),
        (r'{\"X-Amz-Security-Token\": \"FwoGZXIvYXdzE\/abc+def==\"}', "FwoGZXIvYXdzE"),
        (r'{\"SecretAccessKey\": \"abcdefSECRET\/xyz\"}', "SECRET"),
    ],
)
def test_redact_replaces_credential_header_values(text: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result
    assert REDACTED in result


def test_an_escaped_authorization_header_keeps_the_json_around_it() -> None:
    text = r'{\"Authorization\": \"AWS4-HMAC-SHA256 Credential=AKID, Signature=feedface\", \"Host\": \"x\"}'
    assert redact(text) == rf'{{\"Authorization\": \"{REDACTED}\", \"Host\": \"x\"}}'


def test_redact_keeps_the_rest_of_the_text() -> None:
    result = redact("{'X-Amz-Target': b'DynamoDB_20120810.PutItem', 'X-Amz-Security-Token': b'abcdefgh'}")
    assert result == f"{{'X-Amz-Target': b'DynamoDB_20120810.PutItem', 'X-Amz-Security-Token': b'{REDACTED}'}}"


def test_redact_leaves_harmless_text_alone() -> None:
    text = "PutItem on VibeDigest-dev succeeded after 2 retries"
    assert redact(text) == text


def test_registered_secrets_are_redacted_anywhere(clean_redaction: None) -> None:
    register_secrets(SECRET_KEY, SESSION_TOKEN)
    result = redact(f"key={SECRET_KEY} token:{SESSION_TOKEN} again {SECRET_KEY}")
    assert SECRET_KEY not in result and SESSION_TOKEN not in result
    assert result.count(REDACTED) == 3


def test_short_and_missing_values_are_not_registered(clean_redaction: None) -> None:
    """Short values ('testing', the local dummy key) would redact ordinary words everywhere."""
    before = set(redaction._secrets)
    register_secrets("testing", "", None)
    assert redaction._secrets == before
    assert redact("integration testing") == "integration testing"


# -- install and the record factory ----------------------------------------------------------


def test_install_is_idempotent(fresh_install: None) -> None:
    factory = logging.getLogRecordFactory()
    assert factory is not logging.LogRecord
    redaction.install()
    redaction.install()
    assert logging.getLogRecordFactory() is factory


def test_records_of_watched_loggers_are_redacted_through_a_real_handler(
    fresh_install: None, capture: pytest.LogCaptureFixture
) -> None:
    register_secrets(SECRET_KEY)
    for name in ("botocore.endpoint", "boto3.resources", "urllib3.connectionpool", "src.database.client"):
        logging.getLogger(name).debug("headers=%s key=%s", {"X-Amz-Security-Token": "abcdefghijk"}, SECRET_KEY)
    text = capture.text
    assert "abcdefghijk" not in text and SECRET_KEY not in text
    assert text.count(REDACTED) == 8
    assert all(record.args is None for record in capture.records)


def test_records_of_other_loggers_are_untouched(fresh_install: None, capture: pytest.LogCaptureFixture) -> None:
    register_secrets(SECRET_KEY)
    logging.getLogger("myapp").warning("Authorization: %s", SECRET_KEY)
    (record,) = capture.records
    assert record.msg == "Authorization: %s"
    assert record.args == (SECRET_KEY,)
    assert SECRET_KEY in capture.text


def test_a_broken_format_string_is_left_to_logging(fresh_install: None) -> None:
    record = logging.getLogRecordFactory()("botocore.x", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    assert (record.msg, record.args) == ("%s and %s", ("one",))


def test_botocore_wire_log_of_a_signed_request_carries_no_secret(
    fresh_install: None, capture: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, moto_server: EmbeddedEndpoint
) -> None:
    """Real botocore DEBUG output of a real HTTP request with a session token, secrets registered by Target."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    client = Target(region="us-east-1", endpoint_url=moto_server.url).client("dynamodb")
    client.list_tables()
    text = capture.text
    assert "Sending http request" in text  # the wire log really was produced
    assert "Signature=" in text or "Authorization" in text
    assert SECRET_KEY not in text
    assert SESSION_TOKEN not in text
    assert REDACTED in text


# -- exceptions: redact_exception and exc_info records -------------------------------------------


def _signature_mismatch(token: str) -> ClientError:
    """A ClientError as botocore builds it from AWS's answer to a signature it cannot verify."""
    message = f"The Canonical String for this request should have been\n'POST\n/\nx-amz-security-token:{token}\n'"
    return ClientError(
        {"Error": {"Code": "InvalidSignatureException", "Message": message},
         "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {"x-echo": token}}},
        "DescribeTable",
    )


def test_redact_exception_cleans_the_whole_chain_in_place(clean_redaction: None) -> None:
    register_secrets(SESSION_TOKEN)
    request = AWSPreparedRequest("POST", "https://dynamodb.us-east-1.amazonaws.com/",
                                 {"X-Amz-Security-Token": "unregistered-token", "Authorization": "AWS4 Signature=ab"},
                                 b"{}", False)
    inner = ConnectionClosedError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/", request=request)
    outer = _signature_mismatch(SESSION_TOKEN)
    outer.__context__ = inner
    outer.add_note(f"note with {SESSION_TOKEN}")
    wrapper = RuntimeError(f"raised with {SESSION_TOKEN}".encode())
    wrapper.__cause__ = outer

    assert redaction.redact_exception(wrapper) is wrapper

    text = "".join(traceback.format_exception(wrapper)) + repr(vars(outer)) + repr(vars(inner)) + repr(wrapper.args)
    assert SESSION_TOKEN not in text and "unregistered-token" not in text and "Signature=ab" not in text
    assert outer.response["Error"]["Code"] == "InvalidSignatureException"  # the rest is kept
    assert outer.response["Error"]["Message"].endswith(f"x-amz-security-token:{REDACTED}\n'")
    assert outer.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert request.headers["Authorization"] == REDACTED and request.method == "POST"
    assert str(outer) == f"An error occurred (InvalidSignatureException) when calling the DescribeTable operation: " \
        f"The Canonical String for this request should have been\n'POST\n/\nx-amz-security-token:{REDACTED}\n'"


def test_redact_exception_survives_cycles_and_odd_exceptions() -> None:
    first, second = ValueError("x-amz-security-token:abcdefgh"), KeyError("k")
    first.__context__, second.__context__ = second, first
    assert redaction.redact_exception(first) is first
    assert str(first) == f"x-amz-security-token:{REDACTED}"
    error = OSError(2, "No such file", "x-amz-security-token:abcdefgh")
    redaction.redact_exception(error)  # C-level attributes (filename) are left; no exception
    assert error.errno == 2

    class FixedArgs(Exception):
        args = property(lambda self: ("fixed",))  # type: ignore[assignment]

    odd = FixedArgs()
    assert redaction.redact_exception(odd) is odd and odd.args == ("fixed",)


def test_an_exception_text_not_made_from_its_args_is_redacted_when_logged(
    fresh_install: None, capture: pytest.LogCaptureFixture
) -> None:
    """``OSError`` prints its file name, a C-level attribute ``redact_exception`` cannot change: ``exc_text`` is redacted."""
    error = OSError(2, "No such file", "x-amz-security-token:abcdefgh")
    logging.getLogger("src.database.aws.target").debug("failed", exc_info=error)
    (record,) = capture.records
    assert "abcdefgh" not in capture.text and f"x-amz-security-token:{REDACTED}" in capture.text
    assert record.exc_text is not None and "abcdefgh" not in record.exc_text


def test_exc_info_records_of_watched_loggers_are_redacted(
    fresh_install: None, capture: pytest.LogCaptureFixture, clean_redaction: None
) -> None:
    """``logging.exception`` on a watched logger: the exception text printed and the exception itself."""
    register_secrets(SESSION_TOKEN)
    error = _signature_mismatch(SESSION_TOKEN)
    try:
        raise error
    except ClientError:
        logging.getLogger("botocore.endpoint").exception("failed")
    (record,) = capture.records
    assert SESSION_TOKEN not in capture.text and "Traceback (most recent call last)" in capture.text
    assert SESSION_TOKEN not in repr(record.exc_info) and SESSION_TOKEN not in error.response["Error"]["Message"]


def test_exc_info_records_of_other_loggers_are_untouched(fresh_install: None, capture: pytest.LogCaptureFixture) -> None:
    error = ValueError("x-amz-security-token:abcdefgh")
    logging.getLogger("myapp").error("failed", exc_info=error)
    (record,) = capture.records
    assert record.exc_text is None or "abcdefgh" in record.exc_text
    assert str(error) == "x-amz-security-token:abcdefgh"
