"""Azure tagging: the mandatory tags on every taggable resource, held to Azure's tag rules at synth time.

Azure rejects a tag whose name is longer than 512 characters (128 on storage accounts), whose value is
longer than 256, or whose name contains any of ``< > % & \\ ? /``; tag names are case-insensitive, so two
names that differ only in case are one tag. A bad tag in ``defaults.tags`` would otherwise fail every
resource of the stack at apply time; here it fails the synth with the tag named.
"""

from __future__ import annotations

from terraml.errors import UserError
from terraml.modules.core import Resource, TagAspect
from terraml.providers.azure.names import TAG_FORBIDDEN as FORBIDDEN
from terraml.providers.azure.names import TAG_MAX_NAME as MAX_NAME
from terraml.providers.azure.names import TAG_MAX_NAME_STORAGE as MAX_NAME_STORAGE
from terraml.providers.azure.names import TAG_MAX_VALUE as MAX_VALUE


def check_tags(tags: dict[str, str], *, max_name: int = MAX_NAME, where: str = "defaults.tags") -> None:
    """Raise UserError naming the first tag Azure would reject, and why."""
    seen: dict[str, str] = {}
    for name, value in tags.items():
        if not name:
            raise UserError(f"{where}: a tag name is empty; Azure tag names need at least one character.")
        if len(name) > max_name:
            raise UserError(f"{where}.{name[:40]}...: Azure tag names are at most {max_name} characters "
                            f"here, this one has {len(name)}; shorten it.")
        if FORBIDDEN.search(name):
            raise UserError(f"{where}.{name}: Azure tag names cannot contain < > % & \\ ? /; "
                            "rename the tag.")
        if len(str(value)) > MAX_VALUE:
            raise UserError(f"{where}.{name}: Azure tag values are at most {MAX_VALUE} characters, this one "
                            f"has {len(str(value))}; shorten it.")
        if name.lower() in seen:
            raise UserError(f"{where}.{name}: Azure tag names are case-insensitive, so '{name}' and "
                            f"'{seen[name.lower()]}' are the same tag; keep one.")
        seen[name.lower()] = name


class AzureTagAspect(TagAspect):
    """The base aspect's merge, then Azure's rules on the result (storage accounts have shorter names)."""

    def __init__(self, tags: dict[str, str]):
        check_tags(tags)
        super().__init__(tags)

    def visit(self, node: Resource) -> None:
        super().visit(node)
        if node.own_tags is None:
            return
        limit = MAX_NAME_STORAGE if node.resource_type == "azurerm_storage_account" else MAX_NAME
        check_tags(node.attrs[self.attribute], max_name=limit, where=f"tags of {node.resource_type}")
