"""Drift: settings of the stack's table changed outside CloudFormation.

Two halves, both CloudFormation's own mechanisms:

- The deploy's updates are drift-aware change sets (``DeploymentMode=REVERT_DRIFT``,
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html):
  CloudFormation compares the live table with the template and its execution brings
  drifted properties back to the template's values. A plain change set compares
  templates only, so a table adopted as it was (an import takes it unchanged) or
  changed by hand would stay as it is and the deploy's verification would fail.
  Every update uses it: the deploy's promise is the table the template describes.
  An endpoint that refuses the parameter (``refuses_drift_mode``) gets a plain change
  set and one that ignores it (its answer has no ``DeploymentMode``) is reported as
  such: either way the deploy says drift is not reverted there (``REFUSED``,
  ``IGNORED``), and the verification shows what differs.
- ``stack_drift`` is what the operator's ``status`` shows: CloudFormation's drift
  detection (DetectStackDrift, then its status and the drifted resources), or why the
  endpoint could not detect it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from ..aws.aws_call import call_aws
from ..errors import AccessDeniedError, DatabaseError, DeadlineExceededError, ServiceError

REVERT_DRIFT = "REVERT_DRIFT"
REFUSED = ("This endpoint refused a drift-aware change set ({reason}); a plain one is used instead: "
           "settings changed outside CloudFormation are not reverted by this deploy.")
IGNORED = ("This endpoint ignored DeploymentMode=REVERT_DRIFT (its change set is a plain one): settings "
           "changed outside CloudFormation are not reverted by this deploy.")
_REFUSING_CODES = frozenset({"ValidationError", "InvalidParameterValue", "InvalidParameterCombination",
                             "UnsupportedOperation", "NotImplemented", "InvalidAction"})
DETECTION_TIMEOUT = 30.0
UNSUPPORTED = "unsupported"  # the endpoint has no drift detection
NOT_DETECTED = "not detected"  # it refused to detect drift for this stack now (e.g. a status AWS does not check)


def refuses_drift_mode(error: ServiceError) -> bool:
    """True when CreateChangeSet's error is a refusal of ``DeploymentMode`` itself."""
    message = error.aws_message or str(error)
    return error.code in _REFUSING_CODES and ("DeploymentMode" in message or "drift" in message.lower())


@dataclass(frozen=True)
class StackDrift:
    """The stack's drift: ``status`` (DRIFTED, IN_SYNC, UNKNOWN, ... or ``unsupported``) and what differs."""

    status: str
    differences: list[str] = field(default_factory=list)
    reason: str = ""

    def __str__(self) -> str:
        if self.status == UNSUPPORTED:
            return f"not supported by this endpoint ({self.reason})"
        if self.status == NOT_DETECTED:
            return f"not detected ({self.reason})"
        shown = "; ".join(self.differences)
        return f"{self.status}: {shown}" if shown else self.status


def stack_drift(
    cloudformation: BaseClient,
    stack_name: str,
    *,
    timeout: float = DETECTION_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> StackDrift:
    """Detect the stack's drift now and describe it; an endpoint that cannot is ``unsupported``, not an error.

    Waits at most ``timeout`` seconds for the detection (then: ``UNKNOWN``, still running),
    and not past the deadline bound to ``cloudformation``'s calls, if any.
    """
    try:
        detection = call_aws(cloudformation, "DetectStackDrift", StackName=stack_name)["StackDriftDetectionId"]
        ends = clock() + timeout
        while True:
            answer = call_aws(cloudformation, "DescribeStackDriftDetectionStatus", StackDriftDetectionId=detection)
            if answer.get("DetectionStatus") != "DETECTION_IN_PROGRESS":
                break
            if clock() >= ends:
                return StackDrift("UNKNOWN", reason=f"the detection was still running after {timeout:.0f} s")
            sleep(1.0)
        if answer.get("DetectionStatus") == "DETECTION_FAILED":
            return StackDrift(answer.get("StackDriftStatus", "UNKNOWN"), reason=answer.get("DetectionStatusReason", ""))
        drifts = call_aws(cloudformation, "DescribeStackResourceDrifts", StackName=stack_name,
                          StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]).get("StackResourceDrifts", [])
    except DeadlineExceededError:
        return StackDrift("UNKNOWN", reason="the command's time limit passed before the detection finished")
    except DatabaseError as error:  # the endpoint has no drift detection, or not for this stack now
        # CloudFormation's own refusals (it knows the action): a stack status it does not check, a missing permission
        refused = error.code == "ValidationError" or isinstance(error, AccessDeniedError)
        return StackDrift(NOT_DETECTED if refused else UNSUPPORTED, reason=_one_line(error.aws_message or str(error)))
    return StackDrift(answer.get("StackDriftStatus", "UNKNOWN"), [d for drift in drifts for d in _described(drift)])


def _described(drift: dict[str, Any]) -> list[str]:
    """One phrase per difference of a drifted resource."""
    logical_id = drift.get("LogicalResourceId", "?")
    if drift.get("StackResourceDriftStatus") == "DELETED":
        return [f"{logical_id} was deleted"]
    return [
        f"{logical_id} {d.get('PropertyPath', '?')} is {_value(d.get('ActualValue'))}, "
        f"the template says {_value(d.get('ExpectedValue'))}"
        for d in drift.get("PropertyDifferences") or []
    ] or [f"{logical_id} is {drift.get('StackResourceDriftStatus')}"]


def _value(text: Any) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True)
    except (TypeError, ValueError):
        return str(text)


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."
