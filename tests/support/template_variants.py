"""Variants of the shipped template that rehearse failures: each is lint-clean, so it reaches AWS.

- ``rejected_name``: a table name DynamoDB refuses (a create fails, ROLLBACK_COMPLETE);
- ``failing_update``: a tag change plus a second table DynamoDB refuses (the update fails
  as a whole, UPDATE_ROLLBACK_COMPLETE, the tag change rolled back);
- ``swapped_keys``: partition and sort key swapped (CloudFormation would replace the table);
- ``with_tag``: one more table tag (a plain, in-place update).
"""

from __future__ import annotations

from pathlib import Path

from src.database.deploy.template import DEFAULT_TEMPLATE, Template, load_template

NAME_LINE = '      TableName: !Sub "VibeDigest-${Environment}"\n'
_KEYS = "- AttributeName: {}\n          KeyType: HASH\n        - AttributeName: {}\n          KeyType: RANGE"


def _write(directory: Path, name: str, body: str) -> Template:
    path = directory / f"{name}.yml"
    path.write_text(body, encoding="utf-8")
    return load_template(path)


def variant(directory: Path, name: str, old: str, new: str) -> Template:
    """The shipped template with ``old`` (which must occur) replaced by ``new``, written to ``directory``."""
    body = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    if old not in body:
        raise ValueError(f"the shipped template no longer contains {old!r}")
    return _write(directory, name, body.replace(old, new))


def rejected_name(directory: Path) -> Template:
    """A table name DynamoDB rejects (a space and a '!')."""
    return variant(directory, "rejected", NAME_LINE, '      TableName: !Sub "VibeDigest ${Environment}!"\n')


def failing_update(directory: Path) -> Template:
    """A tag change on the table plus a second table DynamoDB rejects."""
    body = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    table = body[body.index("  DigestTable:\n") : body.index("\nOutputs:")]
    broken = table.replace("  DigestTable:", "  BrokenTable:").replace(NAME_LINE, '      TableName: "no way!"\n')
    tagged = body.replace("Value: CloudFormation", "Value: changed-by-the-failed-update")
    return _write(directory, "failing-update", tagged.replace("\nOutputs:", "\n" + broken + "\nOutputs:"))


def swapped_keys(directory: Path) -> Template:
    """Partition and sort key swapped."""
    return variant(directory, "swapped", _KEYS.format("digest_date", "item_id"), _KEYS.format("item_id", "digest_date"))


def with_tag(directory: Path, key: str, value: str) -> Template:
    """One more table tag."""
    marker = "Value: CloudFormation"
    return variant(directory, f"tag-{key}", marker, f"{marker}\n        - Key: {key}\n          Value: {value}")
