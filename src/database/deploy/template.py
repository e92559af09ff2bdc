"""The CloudFormation template: found, parsed and linted by cfn-lint, then read for expectations.

Roles:
- ``load_template`` reads the file, parses it with cfn-lint's own decoder (which
  understands ``!Ref``/``!Sub`` short forms) and lints it; any cfn-lint error
  raises ``TemplateError`` so a broken template never reaches an AWS call. A clean
  result is remembered by ``lint_cache``, so an unchanged template is neither parsed
  nor linted again (and cfn-lint, a second of imports, is not imported at all).
  Within a process, cfn-lint's rules are loaded once per configuration (``cfn_lint``):
  loading them costs several times what checking a template does.
- ``expected_table`` resolves the table resource for one environment (``Ref``,
  ``Fn::Sub``, ``Fn::If``, ``Fn::Equals``, ``Fn::Not`` on parameters) into the values
  the live verification compares against.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TemplateError
from ..settings import TABLE_TYPE, attribute_types, key_schema, validate_environment
from . import lint_cache

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[3] / "infrastructure" / "dynamodb.yml"
_MAX_REPORTED = 5
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
_lint_lock = threading.Lock()


@dataclass(frozen=True)
class Template:
    """A parsed, lint-clean template."""

    path: Path
    body: str
    document: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExpectedTable:
    """What the template says the table of one environment must look like."""

    logical_id: str
    table_name: str
    key_schema: dict[str, str]
    attribute_types: dict[str, str]
    billing_mode: str
    tags: dict[str, str]
    point_in_time_recovery: bool
    sse_enabled: bool
    deletion_protection: bool
    outputs: dict[str, str] = field(default_factory=dict)


def _shown(path: Path, keep: int = 100) -> str:
    """``path`` for a message, its middle elided when long, so one line stays readable."""
    text = str(path)
    return text if len(text) <= 2 * keep + 3 else f"{text[:keep]}...{text[-keep:]}"


def load_template(path: Path | str = DEFAULT_TEMPLATE) -> Template:
    """Read, parse and lint the template; raise ``TemplateError`` on any error."""
    path = Path(path)
    try:
        body = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"Template not found: {_shown(path)}") from None
    except IsADirectoryError:
        raise TemplateError(f"Template {_shown(path)} is a directory; give the template file's path.") from None
    except OSError as error:  # e.g. a symbolic link loop, no permission, a name too long
        reason = os.strerror(error.errno) if error.errno else type(error).__name__
        raise TemplateError(f"Template {_shown(path)} cannot be read: {reason}.") from None
    except UnicodeDecodeError as error:
        raise TemplateError(f"Template {_shown(path)} cannot be read: it is not UTF-8 text ({error.reason}).") from None
    _refuse_aliases(path, body)  # before the cache: a result cached before this check must not let one through
    key = lint_cache.cache_key(body)
    result = lint_cache.lookup(key) if key else None
    if result is None:
        result = _parse_and_lint(path, body)
        if key:
            lint_cache.store(key, result)
    for warning in result.warnings:
        logger.warning("cfn-lint: %s", warning)
    return Template(path=path, body=body, document=dict(result.document), warnings=result.warnings)


def _parse_and_lint(path: Path, body: str) -> lint_cache.LintResult:
    """Parse with cfn-lint's decoder and lint (importing cfn-lint here); raise ``TemplateError`` on errors."""
    from cfnlint.decode.decode import decode_str

    document, parse_errors = decode_str(body)
    if parse_errors or not isinstance(document, dict):
        detail = _describe_matches(parse_errors) if parse_errors else "not a mapping"
        raise TemplateError(f"Template {_shown(path)} is not valid YAML/JSON: {detail}")
    matches = cfn_lint(body)
    errors = [m for m in matches if m.rule.id.startswith("E")]
    if errors:
        raise TemplateError(
            f"cfn-lint found {len(errors)} error(s) in {_shown(path)}; not deploying: {_describe_matches(errors)}"
        )
    warnings = tuple(_describe_match(m) for m in matches if not m.rule.id.startswith("E"))
    return lint_cache.LintResult(document=dict(document), warnings=warnings)


def _refuse_aliases(path: Path, body: str) -> None:
    """Refuse a template with YAML aliases, reading its events only (linear time, nothing expanded).

    CloudFormation rejects YAML aliases in a template body (cfn-lint's W1101), and a
    few nested aliases expand to millions of nodes (an "alias bomb") that would make
    parsing and linting take minutes. A body that is not YAML is left to the parser.
    """
    if "*" not in body:
        return
    import yaml  # cfn-lint's dependency; the C loader when built with it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(body, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise TemplateError(
                    f"Template {_shown(path)} uses a YAML alias (*{str(event.anchor)[:40]}, line {line}), which "
                    "CloudFormation rejects in a template body; write the value out instead."
                )
    except yaml.YAMLError:
        return


def cfn_lint(body: str) -> list[Any]:
    """cfn-lint's matches for ``body``, as ``cfnlint.api.lint(body)`` gives them.

    The same steps as that function (decode, then the default rules in the primary
    region), with the rules loaded once per process and ``.cfnlintrc`` configuration
    instead of at every call. Rules keep state while they check a template, so checks
    run one at a time.
    """
    from cfnlint.decode.decode import decode_str

    document, errors = decode_str(body)  # a document of the linter's own: rules may transform it
    if errors:
        return list(errors)
    if document is None:
        return []
    runner = _runner(lint_cache.config_digest())
    with _lint_lock:
        return list(runner.validate_template(document))


@functools.lru_cache(maxsize=4)
def _runner(config_digest: str) -> Any:
    """cfn-lint's runner with its default rules for the configuration ``config_digest`` stands for."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.helpers import REGION_PRIMARY
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=[REGION_PRIMARY]))


def _describe_match(match: Any) -> str:
    return f"{match.rule.id} line {match.linenumber}: {match.message}"


def _describe_matches(matches: list[Any]) -> str:
    shown = "; ".join(_describe_match(m) for m in matches[:_MAX_REPORTED])
    more = f" (and {len(matches) - _MAX_REPORTED} more)" if len(matches) > _MAX_REPORTED else ""
    return shown + more


def expected_table(template: Template, environment: str) -> ExpectedTable:
    """Resolve the template's single DynamoDB table for ``environment``."""
    resolver = _Resolver(template.document, {"Environment": validate_environment(environment)})
    tables = {k: v for k, v in template.document.get("Resources", {}).items() if v.get("Type") == TABLE_TYPE}
    if len(tables) != 1:
        raise TemplateError(f"Template {template.path} must define exactly one {TABLE_TYPE}, found {len(tables)}.")
    logical_id, resource = next(iter(tables.items()))
    props = resolver.resolve(resource.get("Properties", {}))
    outputs = {
        name: resolver.resolve(output.get("Export", {}).get("Name", ""))
        for name, output in template.document.get("Outputs", {}).items()
    }
    return ExpectedTable(
        logical_id=logical_id,
        table_name=props.get("TableName", ""),
        key_schema=key_schema(props),
        attribute_types=attribute_types(props),
        billing_mode=props.get("BillingMode", "PROVISIONED"),
        tags={t["Key"]: t["Value"] for t in props.get("Tags", [])},
        point_in_time_recovery=bool(
            props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled", False)
        ),
        sse_enabled=bool(props.get("SSESpecification", {}).get("SSEEnabled", False)),
        deletion_protection=bool(props.get("DeletionProtectionEnabled", False)),
        outputs=outputs,
    )


class _Resolver:
    """Resolves the few intrinsic functions the table definition uses, for one parameter set."""

    def __init__(self, document: dict[str, Any], parameters: dict[str, str]) -> None:
        defaults = {k: str(v.get("Default", "")) for k, v in document.get("Parameters", {}).items()}
        self._values = {**defaults, **parameters, "AWS::NoValue": None}
        self._conditions = document.get("Conditions", {})

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self._values.get(arg, arg)
            if key == "Fn::Sub" and isinstance(arg, str):
                return _SUB_VARIABLE.sub(lambda m: str(self._values.get(m.group(1), m.group(0))), arg)
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(arg[0])
        return {k: self.resolve(v) for k, v in node.items()}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self._conditions[name]))
