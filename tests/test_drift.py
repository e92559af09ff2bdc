"""``drift``: the deploy's drift-aware change sets on endpoints that refuse or ignore them, and the stack's
drift as ``status`` shows it, on answers the embedded endpoint never gives (scripted with ``Stubber``) and
on plain moto (``mock_aws``), which ignores ``DeploymentMode`` and has no drift detection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.server import ThreadedMotoServer

from src.database.aws.deadline import Deadline
from src.database.aws.target import Target
from src.database.deploy.deployer import StackDeployer
from src.database.deploy.drift import (
    IGNORED,
    NOT_DETECTED,
    UNSUPPORTED,
    StackDrift,
    stack_drift,
)
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import Template, load_template
from src.database.settings import ClientSettings
from tests.support.template_variants import with_tag

STACK, TABLE = "vibedigest-dev", "VibeDigest-dev"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/6f1c2d40-0000-11ef-9a7e-0a1b2c3d4e5f"
CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/vibedigest-abc/11111111"
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


@pytest.fixture(scope="module")
def cloudformation() -> BaseClient:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return session.client("cloudformation")


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_stack_whose_drift_cannot_be_detected_now_is_shown_as_such_not_an_error(cloudformation: BaseClient) -> None:
    with Stubber(cloudformation) as stub:
        stub.add_client_error("detect_stack_drift", "ValidationError", "Drift detection is not supported now",
                              expected_params={"StackName": STACK})
        drift = stack_drift(cloudformation, STACK)
    assert drift == StackDrift(NOT_DETECTED, reason="Drift detection is not supported now")
    assert str(drift) == "not detected (Drift detection is not supported now)"


def test_a_missing_permission_is_not_detected_not_unsupported(cloudformation: BaseClient) -> None:
    with Stubber(cloudformation) as stub:
        stub.add_client_error("detect_stack_drift", "AccessDenied", "not authorized to perform DetectStackDrift",
                              http_status_code=403, expected_params={"StackName": STACK})
        drift = stack_drift(cloudformation, STACK)
    assert drift.status == NOT_DETECTED and "DetectStackDrift" in drift.reason


def test_a_detection_cut_short_by_the_deadline_is_unknown() -> None:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    client = Deadline(0.0).bind(session.client("cloudformation", endpoint_url="http://127.0.0.1:9"))
    drift = stack_drift(client, STACK)  # nothing is sent: the time is already up
    assert drift.status == "UNKNOWN" and "time limit" in drift.reason


def test_the_detection_is_awaited_and_each_difference_described(cloudformation: BaseClient) -> None:
    clock = Clock()
    with Stubber(cloudformation) as stub:
        stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "d1"}, {"StackName": STACK})
        base = {"StackId": STACK_ID, "StackDriftDetectionId": "d1", "Timestamp": "2024-05-01T00:00:00Z"}
        stub.add_response("describe_stack_drift_detection_status",
                          {**base, "DetectionStatus": "DETECTION_IN_PROGRESS"}, {"StackDriftDetectionId": "d1"})
        stub.add_response("describe_stack_drift_detection_status",
                          {**base, "DetectionStatus": "DETECTION_COMPLETE", "StackDriftStatus": "DRIFTED"},
                          {"StackDriftDetectionId": "d1"})
        resource = {"StackId": STACK_ID, "ResourceType": "AWS::DynamoDB::Table", "Timestamp": "2024-05-01T00:00:00Z"}
        stub.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": [
            {**resource, "LogicalResourceId": "DigestTable", "StackResourceDriftStatus": "MODIFIED",
             "PropertyDifferences": [{"PropertyPath": "/Tags", "ExpectedValue": '{"a": "1"}',
                                      "ActualValue": "[not json", "DifferenceType": "NOT_EQUAL"}]},
            {**resource, "LogicalResourceId": "Other", "StackResourceDriftStatus": "DELETED"},
            {**resource, "LogicalResourceId": "Third", "StackResourceDriftStatus": "MODIFIED"},
        ]}, {"StackName": STACK, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]})
        drift = stack_drift(cloudformation, STACK, sleep=clock.sleep, clock=clock)
    assert str(drift) == ('DRIFTED: DigestTable /Tags is [not json, the template says {"a": "1"}; '
                          "Other was deleted; Third is MODIFIED")
    assert clock.now == 1.0


@pytest.mark.parametrize(("answer", "expected"), [
    ({"DetectionStatus": "DETECTION_IN_PROGRESS"}, "UNKNOWN"),
    ({"DetectionStatus": "DETECTION_FAILED", "StackDriftStatus": "UNKNOWN", "DetectionStatusReason": "boom"},
     "UNKNOWN"),
])
def test_a_detection_that_does_not_finish_is_unknown(cloudformation: BaseClient, answer: dict[str, Any],
                                                     expected: str) -> None:
    clock = Clock()
    base = {"StackId": STACK_ID, "StackDriftDetectionId": "d1", "Timestamp": "2024-05-01T00:00:00Z", **answer}
    with Stubber(cloudformation) as stub:
        stub.add_response("detect_stack_drift", {"StackDriftDetectionId": "d1"}, {"StackName": STACK})
        for _ in range(3):
            stub.add_response("describe_stack_drift_detection_status", base, {"StackDriftDetectionId": "d1"})
        drift = stack_drift(cloudformation, STACK, timeout=1.5, sleep=clock.sleep, clock=clock)
    assert drift.status == expected and drift.reason in ("boom", "the detection was still running after 2 s")


def test_an_endpoint_refusing_deployment_mode_gets_a_plain_change_set_and_says_so(
    cloudformation: BaseClient, template: Template
) -> None:
    dynamodb = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1").client("dynamodb")
    lines: list[str] = []
    stack = {"StackName": STACK, "StackId": STACK_ID, "StackStatus": "UPDATE_COMPLETE",
             "CreationTime": "2024-05-01T00:00:00Z"}
    with Stubber(cloudformation) as stub:
        stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
        stub.add_response("list_change_sets", {"Summaries": []}, {"StackName": STACK})
        stub.add_client_error("create_change_set", "ValidationError", "Unknown parameter DeploymentMode",
                              expected_params={"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "UPDATE",
                                               "TemplateBody": ANY, "Parameters": ANY, "Tags": ANY,
                                               "Description": ANY, "DeploymentMode": "REVERT_DRIFT"})
        stub.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                          {"StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "UPDATE", "TemplateBody": ANY,
                           "Parameters": ANY, "Tags": ANY, "Description": ANY})
        stub.add_response("describe_change_set", {"ChangeSetId": CHANGE_SET_ID, "Status": "FAILED",
                                                  "StatusReason": NO_CHANGES},
                          {"StackName": STACK, "ChangeSetName": CHANGE_SET_ID})
        stub.add_response("delete_change_set", {}, {"StackName": STACK, "ChangeSetName": CHANGE_SET_ID})
        stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
        result = StackDeployer(cloudformation, dynamodb, report=lines.append).deploy(
            StackSpec.of(template, stack_name=STACK, environment="dev", table_name=TABLE, tags={"Project": "VibeDigest"})
        )
        stub.assert_no_pending_responses()
    assert not result.executed
    assert ("This endpoint refused a drift-aware change set (Unknown parameter DeploymentMode); a plain one is used "
            "instead: settings changed outside CloudFormation are not reverted by this deploy.") in lines


def test_plain_moto_ignores_deployment_mode_and_has_no_drift_detection(template: Template, tmp_path: Path) -> None:
    """Plain moto (as ``moto_server`` runs it): the deploy says drift is not reverted there; status says why
    it shows no drift."""
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        cloudformation, dynamodb = session.client("cloudformation"), session.client("dynamodb")
        lines: list[str] = []
        deployer = StackDeployer(cloudformation, dynamodb, report=lines.append, timeout=30)
        kwargs: dict[str, Any] = {"stack_name": STACK, "environment": "dev", "table_name": TABLE, "tags": {}}
        deployer.deploy(StackSpec.of(template, **kwargs))
        assert deployer.deploy(StackSpec.of(with_tag(tmp_path, "Owner", "me"), **kwargs)).executed
        assert lines.count(IGNORED) == 1


def test_a_moto_server_answering_drift_detection_with_http_500_is_unsupported() -> None:
    """moto's own server (no fidelity layer) answers DetectStackDrift with an HTML 500 page."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        target = Target.local(f"http://{host}:{port}", settings=ClientSettings(max_attempts=1))
        drift = stack_drift(target.client("cloudformation", target.session()), STACK)
    finally:
        server.stop()
    assert drift.status == UNSUPPORTED and drift.reason
