"""The CloudFormation template: the shipped one lints clean and says what the brief asks;
broken ones are refused with one clear ``TemplateError`` line before any AWS call.

No network and no moto: these tests only read files and run cfn-lint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

from src.database.deploy.template import (
    DEFAULT_TEMPLATE,
    Template,
    cfn_lint,
    expected_table,
    load_template,
)
from src.database.errors import ConfigurationError, DeploymentError, TemplateError
from src.database.settings import ENVIRONMENTS, TABLE_TYPE

SHIPPED = DEFAULT_TEMPLATE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def template() -> Template:
    """The shipped template, parsed and linted once for the module."""
    return load_template()


def write(tmp_path: Path, body: str, name: str = "template.yml") -> Path:
    """Write ``body`` as a template file under ``tmp_path`` and return its path."""
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def assert_one_line_naming(error: TemplateError, path: Path, *fragments: str) -> None:
    """The message is one line, names the file and contains every fragment."""
    message = str(error)
    assert "\n" not in message, message
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message


# -- the shipped template -------------------------------------------------------------


def test_shipped_template_lints_clean_through_load_template(template: Template) -> None:
    """load_template parses and lints the real file; a clean template carries no warnings."""
    assert template.path == DEFAULT_TEMPLATE
    assert template.body == SHIPPED
    assert template.warnings == ()
    assert template.document["AWSTemplateFormatVersion"] == "2010-09-09"


def lint(body: str) -> list[Any]:
    """``cfnlint.api.lint``, the oracle for ``cfn_lint``; imported here, so a worker running no such test never imports it."""
    from cfnlint.api import lint as api_lint

    return list(api_lint(body))


def described(matches: list[Any]) -> list[str]:
    return [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches]


def test_shipped_template_lints_clean_with_cfnlint_api_directly() -> None:
    """cfn-lint's own API, without our wrapper, finds no error, warning or informational match."""
    assert described(lint(SHIPPED)) == []
    assert described(cfn_lint(SHIPPED)) == []


def test_cfnlint_api_does_report_a_broken_body() -> None:
    """Control for the test above: the same call does find errors, and the package's lint gives the same matches."""
    broken = SHIPPED.replace("PAY_PER_REQUEST", "FOO")
    matches = lint(broken)
    assert any(m.rule.id == "E3030" for m in matches)
    assert described(cfn_lint(broken)) == described(matches)
    assert described(cfn_lint(broken)) == described(matches)  # and again, with the rules reused


@pytest.mark.parametrize(
    "body",
    [
        SHIPPED.replace("Parameters:", "Parameters:\n  Unused:\n    Type: String\n", 1),  # a warning
        "Resources: [unclosed",  # a parse error
        "",  # nothing to lint
    ],
    ids=["warning", "unparsable", "empty"],
)
def test_cfn_lint_answers_as_cfnlint_api_does(body: str) -> None:
    """The package keeps cfn-lint's rules loaded between templates; the matches are cfn-lint's own."""
    assert described(cfn_lint(body)) == described(lint(body))


def test_cfn_lint_follows_a_cfnlintrc_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules are reused per configuration: a ``.cfnlintrc`` appearing in the process is obeyed."""
    broken = SHIPPED.replace("PAY_PER_REQUEST", "FOO")
    monkeypatch.chdir(tmp_path)
    assert "E3030" in {m.rule.id for m in cfn_lint(broken)}
    (tmp_path / ".cfnlintrc").write_text("ignore_checks:\n  - E3030\n", encoding="utf-8")
    assert "E3030" not in {m.rule.id for m in cfn_lint(broken)}
    assert described(cfn_lint(broken)) == described(lint(broken))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_expected_table_per_environment(template: Template, environment: str) -> None:
    """Name, keys, billing, PITR, SSE, deletion protection (prod only), tags and export names."""
    expected = expected_table(template, environment)
    assert expected.logical_id == "DigestTable"
    assert expected.table_name == f"VibeDigest-{environment}"
    assert expected.key_schema == {"HASH": "digest_date", "RANGE": "item_id"}
    assert expected.attribute_types == {"digest_date": "S", "item_id": "S"}
    assert expected.billing_mode == "PAY_PER_REQUEST"
    assert expected.point_in_time_recovery is True
    assert expected.sse_enabled is True
    assert expected.deletion_protection is (environment == "prod")
    assert expected.tags["Project"] == "VibeDigest"
    assert expected.tags["Environment"] == environment
    assert expected.outputs == {
        "TableName": f"VibeDigest-{environment}-TableName",
        "TableArn": f"VibeDigest-{environment}-TableArn",
    }


def test_expected_table_refuses_an_unknown_environment(template: Template) -> None:
    """Only dev/staging/prod resolve; anything else is a configuration error, not a guess."""
    with pytest.raises(ConfigurationError, match="Unknown environment 'qa'"):
        expected_table(template, "qa")


def test_table_resource_retains_data_on_delete_and_replace(template: Template) -> None:
    """DeletionPolicy and UpdateReplacePolicy are Retain on the table (read from the parsed document)."""
    resource = template.document["Resources"]["DigestTable"]
    assert resource["Type"] == TABLE_TYPE
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_outputs_reference_the_table_and_are_exported(template: Template) -> None:
    """TableName is the table's Ref, TableArn its Arn attribute; both exported per environment."""
    outputs = template.document["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": "DigestTable"}
    assert outputs["TableArn"]["Value"] == {"Fn::GetAtt": ["DigestTable", "Arn"]}
    assert outputs["TableName"]["Export"]["Name"] == {"Fn::Sub": "VibeDigest-${Environment}-TableName"}
    assert outputs["TableArn"]["Export"]["Name"] == {"Fn::Sub": "VibeDigest-${Environment}-TableArn"}


def test_environment_parameter_allows_exactly_the_three_environments(template: Template) -> None:
    """The parameter's AllowedValues match the package's environments, so CloudFormation refuses others."""
    parameter = template.document["Parameters"]["Environment"]
    assert parameter["AllowedValues"] == ["dev", "staging", "prod"]
    assert tuple(parameter["AllowedValues"]) == ENVIRONMENTS


# -- broken templates -----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is named in the error."""
    path = tmp_path / "nope.yml"
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_one_line_naming(caught.value, path, "not found")


def test_not_yaml(tmp_path: Path) -> None:
    """Unparsable YAML names the file, cfn-lint's parse rule E0000 and the line."""
    path = write(tmp_path, "Resources: [1, 2\n  b: }\n")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_one_line_naming(caught.value, path, "not valid YAML/JSON", "E0000", "line 2")


def test_not_a_mapping(tmp_path: Path) -> None:
    """Valid YAML whose top level is a list is not a template."""
    path = write(tmp_path, "- Resources\n- Outputs\n")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_one_line_naming(caught.value, path, "not a mapping")


def test_not_utf8(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are refused without a traceback-sized message."""
    path = tmp_path / "binary.yml"
    path.write_bytes(b"\xff\xfe\x00Resources")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_one_line_naming(caught.value, path, "cannot be read")


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        pytest.param(lambda body: body.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: FOO"), "E3030", id="bad-billing-mode"),
        pytest.param(
            lambda body: re.sub(r"      KeySchema:\n(?:        .*\n)+?(?=      PointInTime)", "", body),
            "E3003",
            id="missing-key-schema",
        ),
        pytest.param(lambda body: body.replace("AttributeType: S", "AttributeType: X", 1), "E3030", id="bad-attribute-type"),
    ],
)
def test_lint_error_is_refused_naming_file_and_rule(tmp_path: Path, edit: Callable[[str], str], rule: str) -> None:
    """A cfn-lint error (E-rule) becomes one TemplateError line with the rule id, line and file."""
    body = edit(SHIPPED)
    assert body != SHIPPED  # the edit really changed the template
    path = write(tmp_path, body)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_one_line_naming(caught.value, path, "cfn-lint found", rule, "not deploying")
    assert re.search(rf"{rule} line \d+:", str(caught.value))


def test_template_error_is_a_deployment_error(tmp_path: Path) -> None:
    """Callers that catch DeploymentError (the CLI's deploy path) also catch template errors."""
    with pytest.raises(DeploymentError):
        load_template(tmp_path / "missing.yml")


def test_many_lint_errors_are_summarized_on_one_line(tmp_path: Path) -> None:
    """Beyond five errors the message counts the rest instead of growing without bound."""
    resources = "".join(
        f"  T{i}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: FOO{i}\n" for i in range(8)
    )
    path = write(tmp_path, f"Resources:\n{resources}")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_one_line_naming(caught.value, path, "more)")
    assert str(caught.value).count(" line ") == 5


def _with_second_table(body: str) -> str:
    second = (
        "  SecondTable:\n"
        "    Type: AWS::DynamoDB::Table\n"
        "    DeletionPolicy: Retain\n"
        "    UpdateReplacePolicy: Retain\n"
        "    Properties:\n"
        "      BillingMode: PAY_PER_REQUEST\n"
        "      AttributeDefinitions: [{AttributeName: k, AttributeType: S}]\n"
        "      KeySchema: [{AttributeName: k, KeyType: HASH}]\n"
        "\n"
    )
    return body.replace("\nOutputs:", f"\n{second}Outputs:")


@pytest.mark.parametrize(
    ("body", "found"),
    [
        pytest.param(_with_second_table(SHIPPED), 2, id="two-tables"),
        pytest.param('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n', 0, id="no-table"),
    ],
)
def test_expected_table_needs_exactly_one_table(tmp_path: Path, body: str, found: int) -> None:
    """Two tables or none lint clean but cannot be verified: expected_table refuses them."""
    path = write(tmp_path, body)
    template = load_template(path)  # lint-clean: the refusal below is expected_table's own
    with pytest.raises(TemplateError) as caught:
        expected_table(template, "dev")
    assert_one_line_naming(caught.value, path, f"exactly one {TABLE_TYPE}", f"found {found}")
