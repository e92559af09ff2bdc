"""Gap ``import``: ``IMPORT`` change sets (``ResourcesToImport``) adopt existing tables.

moto treats ``ChangeSetType="IMPORT"`` as ``CREATE`` and ignores
``ResourcesToImport``. This follows CloudFormation's documented rules for the
resource type this project uses (``AWS::DynamoDB::Table``, identified by
``TableName``): every resource to import is in the template with a
``DeletionPolicy``, exists, and belongs to no other stack; an import changes
nothing else: no ``Outputs`` and no stack ``Tags`` may be added or changed ("As part
of the import operation, you cannot modify or add [Outputs]", "... [Tags]"), the
template adds only the resources being imported and changes none of the stack's. The change lists them
with action ``Import``; executing it adopts them unchanged and ends
``IMPORT_COMPLETE``. Each rule names its source beside the code that models it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.dynamodb.models import dynamodb_backends

from ...settings import TABLE_TYPE
from .change_sets import stack_named
from .execution import APPLIERS, Operation
from .scope import patch

# AWS's user guide on resource import: the validations it lists and its considerations
# ("Considerations during an import operation").
RESOURCE_IMPORT = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html"
IDENTIFIERS = {TABLE_TYPE: "TableName"}  # the resource types this layer can import

_PENDING: ContextVar[list[dict[str, Any]] | None] = ContextVar("vibedigest_moto_imports", default=None)
Original = Callable[..., Any]


def install() -> None:
    """Patch moto's change-set creation and register the IMPORT executor."""
    patch(CloudFormationResponse, "create_change_set", "import", _validate_request)
    patch(CloudFormationBackend, "create_change_set", "import", _mark_imports)
    APPLIERS["IMPORT"] = _adopt


def _validate_request(original: Original, response: Any) -> Any:
    if response._get_param("ChangeSetType") != "IMPORT":
        return original(response)
    backend = response.cloudformation_backend
    imports = response._get_param("ResourcesToImport") or []
    if not imports:
        raise ValidationError(message="ResourcesToImport must be specified for an IMPORT change set")
    template = Stack.parse_template(response._get_param("TemplateBody") or "{}")
    resources = template.get("Resources") or {}
    stack: Any = stack_named(backend, response._get_param("StackName"))
    live = stack is not None and stack.status != "REVIEW_IN_PROGRESS"
    frozen = _stack_level_changes(response, template, stack if live else None)
    if frozen:
        # An import may not change stack tags or outputs: other deploy tools drop stack tags from their
        # import change sets for it ("fix: can't specify tags when importing",
        # https://github.com/the-avid-engineer/InfrastructureCli/commit/48bcc6769191aa72ec099f04cac192b69773f3a1);
        # the message is the one MiniStack models (ministack/services/cloudformation/changesets.py:719-725).
        listed = ", ".join(frozen)
        raise ValidationError(message=f"As part of the import operation, you cannot modify or add [{listed}]")
    wanted = {item["LogicalResourceId"] for item in imports}
    existing = (stack.template_dict.get("Resources") or {}) if live else {}
    others = sorted(set(resources) - wanted - set(existing))
    if others:
        # An import adds only the resources it imports (RESOURCE_IMPORT: the template describes "the
        # original stack resources and the resources you're importing"); the message is MiniStack's
        # (ministack/services/cloudformation/changesets.py:355-357).
        raise ValidationError(message=f"Resources [{', '.join(others)}] is missing from ResourceToImport list")
    modified = sorted(lid for lid in existing if lid not in wanted and existing[lid] != resources.get(lid))
    if modified:
        # ... and changes none of the stack's resources; MiniStack's message
        # (ministack/services/cloudformation/changesets.py:358-362)
        raise ValidationError(
            message=f"You have modified resources [{', '.join(modified)}] in your template that are not being "
            "imported. Update, create or delete operations cannot be executed during import operations."
        )
    for item in imports:
        _check_importable(backend, item, resources.get(item["LogicalResourceId"]))
    token = _PENDING.set(imports)
    try:
        return original(response)
    finally:
        _PENDING.reset(token)


def _stack_level_changes(response: Any, template: dict[str, Any], stack: Any | None) -> list[str]:
    """What the import would add or change besides its resources: ``Outputs``, stack ``Tags`` (sorted)."""
    frozen = []
    old_outputs = stack.template_dict.get("Outputs") if stack is not None else None
    if (template.get("Outputs") or None) != (old_outputs or None):
        frozen.append("Outputs")
    tags = {t["Key"]: t["Value"] for t in response._get_param("Tags") or []}
    if tags and tags != (dict(stack.tags or {}) if stack is not None else {}):
        frozen.append("Tags")
    return frozen


def _check_importable(backend: Any, item: dict[str, Any], resource: dict[str, Any] | None) -> None:
    logical_id, resource_type = item["LogicalResourceId"], item["ResourceType"]
    if resource is None or resource.get("Type") != resource_type:
        # each resource to import is in the template (RESOURCE_IMPORT); MiniStack's message
        # (ministack/services/cloudformation/changesets.py:327-330)
        raise ValidationError(message=f"The logical resource ids [{logical_id}] provided in ResourceToImport do "
                              "not exist in the template.")
    if "DeletionPolicy" not in resource:
        # "Each resource to import must have a DeletionPolicy attribute" (RESOURCE_IMPORT); the message
        # is MiniStack's too (ministack/services/cloudformation/changesets.py:363-366)
        raise ValidationError(
            message=f"The following resources to import [{logical_id}] must have DeletionPolicy attribute "
            "specified in the template."
        )
    key = IDENTIFIERS.get(resource_type)
    if key is None:  # this endpoint's own limit: only the table type is modelled
        raise ValidationError(message=f"Resource type {resource_type} does not support import on this endpoint")
    identifier = (item.get("ResourceIdentifier") or {}).get(key)
    if identifier not in dynamodb_backends[backend.account_id][backend.region_name].tables:
        # "The resource to import exists" (RESOURCE_IMPORT's validations)
        raise ValidationError(message=f"Resources [{identifier}] to import do not exist")
    for other in backend.stacks.values():  # "does not belong to another stack" (RESOURCE_IMPORT's validations)
        if any(
            getattr(r, "physical_resource_id", None) == identifier
            and getattr(r, "cf_resource_type", None) == resource_type
            for r in other.resource_map._parsed_resources.values()
        ):
            raise ValidationError(message=f"Resource {identifier} already belongs to stack {other.name}")


def _mark_imports(original: Original, backend: Any, **kwargs: Any) -> tuple[str, str]:
    change_set_id, stack_id = original(backend, **kwargs)
    imports = _PENDING.get()
    if kwargs["change_set_type"] == "IMPORT" and imports is not None:
        change_set = backend.change_sets[change_set_id]
        change_set.resources_to_import = imports
        wanted = {item["LogicalResourceId"] for item in imports}
        for change in change_set.changes:
            if change.logical_resource_id in wanted:
                change.action = "Import"
    return change_set_id, stack_id


def _adopt(backend: Any, change_set: Any, operation: Operation) -> None:
    """Put each existing resource into the stack's resource map, unchanged.

    "CloudFormation doesn't check that the template configuration matches the actual
    configuration of the resource properties" (RESOURCE_IMPORT): the table is taken as it is.
    """
    resource_map = operation.stack.resource_map
    resource_map._template = change_set.template_dict
    resource_map.input_parameters = change_set.parameters
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = change_set.template_dict["Resources"]
    tables = dynamodb_backends[backend.account_id][backend.region_name]
    for item in change_set.resources_to_import:
        logical_id, resource_type = item["LogicalResourceId"], item["ResourceType"]
        operation.begin(logical_id, resource_type, "IMPORT")
        operation.failure = (logical_id, resource_type, "IMPORT")
        table: Any = tables.get_table(item["ResourceIdentifier"][IDENTIFIERS[resource_type]])
        table.cf_resource_type, table.logical_resource_id = resource_type, logical_id
        resource_map._parsed_resources[logical_id] = table
        operation.failure = None
        operation.complete(logical_id, resource_type, "IMPORT", table.name)
