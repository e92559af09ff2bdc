"""``StackSpec``: the one value that describes the stack a deploy makes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .template import ExpectedTable, Template, expected_table


@dataclass(frozen=True)
class StackSpec:
    """The stack to deploy: its name, environment, table, tags and template."""

    stack_name: str
    environment: str
    table_name: str
    tags: dict[str, str]
    template: Template

    @cached_property
    def expected(self) -> ExpectedTable:
        """The table the template must make, read once when first needed (adoption, verification).

        Not read up front: CloudFormation, not this check, reports a template the deploy cannot
        apply (e.g. a second table in a failing update).
        """
        return expected_table(self.template, self.environment)

    @classmethod
    def of(
        cls,
        template: Template,
        *,
        stack_name: str,
        environment: str,
        tags: dict[str, str],
        table_name: str | None = None,
    ) -> StackSpec:
        """``template`` deployed as ``stack_name`` for ``environment``; the table defaults to the template's."""
        if table_name is not None:
            return cls(stack_name, environment, table_name, dict(tags), template)
        expected = expected_table(template, environment)
        spec = cls(stack_name, environment, expected.table_name, dict(tags), template)
        spec.__dict__["expected"] = expected  # cached_property's own cache: read once, not again later
        return spec
