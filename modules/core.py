"""Building blocks every construct uses: generic resources, providers and the tagging aspect.

terraml writes resources and data sources as plain Terraform JSON instead of through the typed provider
bindings: the bindings cost seconds and gigabytes to load (one jsii assembly per provider), while plain
JSON is the same Terraform. The test suite rebuilds every block with the typed bindings to prove the
attributes, nesting and types are right.

Resources and data sources are not cdktn constructs either. Each construct costs a call into the Node
kernel to create it and two more at synth (one per resolve pass); a team stack has about a hundred of
them, which made synth three to four times slower than an empty cdktn app. They are plain Python
objects instead, registered with their stack, and one cdktn element per stack (``StackBlocks``) hands
them all to cdktn in one callback, in exactly the JSON cdktn would have written for each: the same
Terraform names (``logical_id``, cdktn's makeUniqueId), the same ``//`` metadata, meta-arguments and
override notes. Providers, outputs, backends and assets stay cdktn constructs.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from cdktn import TerraformElement, TerraformProvider
from constructs import Construct

from terraml.cloud import ProviderSource

# Providers no one cloud owns (cluster add-ons). Each cloud's own are in its class (TERRAFORM_PROVIDERS).
SHARED_PROVIDERS: dict[str, ProviderSource] = {
    "helm": ProviderSource("hashicorp/helm", "~> 3.0", "cdktn_provider_helm"),
}


def provider_source(name: str) -> ProviderSource:
    """Where a Terraform provider comes from, by name ('aws', 'helm')."""
    if name in SHARED_PROVIDERS:
        return SHARED_PROVIDERS[name]
    from terraml.cloud import of_resource_type

    cloud = of_resource_type(f"{name}_")
    if cloud is None:
        raise KeyError(f"no cloud registers the Terraform provider '{name}'")
    return cloud.TERRAFORM_PROVIDERS[name]


# How cdktn encodes an unresolved token in a string or a list of strings ("${TfToken[TOKEN.12]}").
_TOKEN = re.compile(r"[$#]\{TfToken\[")


def _prune(value: Any) -> Any:
    """Drop None values at any depth: an attribute left unset is absent, not null."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def stack_of(scope: Construct):
    """The terraml stack a scope belongs to (found through plain Python attributes, no jsii call)."""
    return scope if hasattr(scope, "terraml_resources") else getattr(scope, "terraml_stack", None)


def path_in_stack(scope: Construct) -> tuple[str, ...]:
    """The construct ids from the stack down to ``scope`` (the stack itself is the empty path)."""
    return () if hasattr(scope, "terraml_resources") else getattr(scope, "terraml_path", None)


def logical_id(path: tuple[str, ...]) -> str:
    """The Terraform name cdktn gives an element at this path in its stack (its makeUniqueId).

    terraml names its blocks with it, so that a block keeps the name it had when it was a cdktn
    construct (renaming one replaces the cloud resource); the test suite checks it against cdktn's own
    makeUniqueId for the shapes of path terraml uses.
    """
    def clean(part: str) -> str:
        return re.sub(r"[^A-Za-z0-9_-]", "", part)

    parts = [p for p in path if p != "Default"]
    if len(parts) == 1 and len(clean(parts[0])) <= 255:
        return clean(parts[0])
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for part in parts:  # cdktn drops a component that the previous one ends with
        if not human or not human[-1].endswith(part):
            human.append(part)
    return "_".join(clean(p) for p in human if p != "Resource")[:240] + "_" + digest


def _claim(scope: Construct, id: str) -> None:
    """Construct ids are unique within their scope, as cdktn requires of its constructs."""
    taken = getattr(scope, "_terraml_ids", None)
    if taken is None:
        taken = set()
        scope._terraml_ids = taken
    if id in taken:
        where = "/".join(path_in_stack(scope) or ()) or "the stack"
        raise ValueError(f"there is already a construct with id '{id}' in {where}")
    taken.add(id)


class Module(Construct):
    """Base of terraml's constructs: remembers its stack and path, so resources inside can register
    there and know their Terraform names."""

    def __init__(self, scope: Construct, id: str):
        super().__init__(scope, id)
        self.terraml_stack = stack_of(scope)
        parent = path_in_stack(scope)
        self.terraml_path = None if parent is None else (*parent, id)
        if parent is not None:
            _claim(scope, id)


class StackBlocks(TerraformElement):
    """Every resource and data source of one terraml stack, handed to cdktn as one element.

    ``to_terraform`` and ``to_metadata`` return what the blocks' own cdktn constructs would have returned,
    merged. Created by the stack's first block.

    Handing the blocks to Node is most of what synth costs (the jsii kernel takes each value apart), and
    cdktn asks twice: once in its preparing pass, which only looks for what tokens register (Terraform
    functions used, cross-stack references), then for the stack's JSON, right after ``to_metadata`` (cdktn
    0.24 ``TerraformStack.toTerraform``). Blocks hold plain values, so the preparing pass gets nothing,
    unless a block holds a cdktn token: then it gets the blocks, as cdktn's own constructs would give it.
    """

    def __init__(self, stack: Construct):
        super().__init__(stack, "terraml-blocks")
        self.terraml_blocks: list[_Block] = []
        self.terraml_names: set[tuple[str, str, str]] = set()
        self.terraml_providers: set[str] = set()
        self._stack_path = stack.node.path
        self._writing = False  # set by to_metadata: the next to_terraform is for the stack's JSON

    @staticmethod
    def of(stack: Construct) -> StackBlocks:
        blocks = getattr(stack, "_terraml_blocks", None)
        if blocks is None:
            blocks = StackBlocks(stack)
            stack._terraml_blocks = blocks
        return blocks

    @staticmethod
    def blocks(stack: Construct) -> list[_Block]:
        """Every resource and data source of a terraml stack, in the order they were made."""
        blocks = getattr(stack, "_terraml_blocks", None)
        return list(blocks.terraml_blocks) if blocks is not None else []

    def add(self, block: _Block) -> None:
        key = (block.section, block.resource_type, block._logical_id)
        if key in self.terraml_names:
            raise ValueError(f"two blocks of {self._stack_path} are named {block.resource_type}."
                             f"{block._logical_id}; give one of them another construct id")
        self.terraml_names.add(key)
        self.terraml_blocks.append(block)

    def to_terraform(self) -> Any:
        missing = sorted({b.provider_name for b in self.terraml_blocks} - self.terraml_providers)
        if missing:  # cdktn's own check (ValidateProviderPresence), which sees only its constructs
            raise ValueError(f"stack {self._stack_path} has blocks of the Terraform providers {missing} but no "
                             "provider construct for them; add a Provider for each")
        writing, self._writing = self._writing, False
        out: dict[str, dict] = {}
        for block in self.terraml_blocks:
            out.setdefault(block.section, {}).setdefault(block.resource_type, {})[block._logical_id] = \
                block.to_json(self._stack_path)
        if not writing and not _TOKEN.search(json.dumps(out)):
            return {}  # the preparing pass: nothing for it to discover
        return out

    def to_metadata(self) -> Any:
        self._writing = True
        overrides: dict[str, list[str]] = {}
        for block in self.terraml_blocks:
            if block.overrides:
                overrides.setdefault(block.resource_type, []).extend(block.overrides)
        return {"overrides": overrides} if overrides else {}

    def to_hcl_terraform(self) -> Any:
        raise NotImplementedError("terraml stacks synthesize Terraform JSON only (no hclOutput)")


class _Block:
    """What resources and data sources share: their type, plain attributes, meta-arguments, and
    references by their Terraform name."""

    section = "resource"
    _reference_prefix = ""

    def __init__(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any], *,
                 lifecycle: dict | None = None, depends_on: list | None = None,
                 provider: TerraformProvider | None = None, skip_checks: dict[str, str] | None = None):
        stack, parent = stack_of(scope), path_in_stack(scope)
        if stack is None or parent is None:
            raise TypeError(f"{resource_type} '{id}': the scope must be a terraml stack or a Module inside one")
        _claim(scope, id)
        self.resource_type = resource_type
        self.provider_name = resource_type.split("_", 1)[0]
        self.attrs = dict(attrs)
        self.path = (*parent, id)
        self._logical_id = logical_id(self.path)
        self.lifecycle = None if lifecycle is None else dict(lifecycle)
        self.depends_on = None if depends_on is None else list(depends_on)
        self.provider = provider
        self.overrides: dict[str, Any] = {}
        StackBlocks.of(stack).add(self)
        if skip_checks:
            self.add_override("//.checkov", [f"checkov:skip={c}:{why}" for c, why in sorted(skip_checks.items())])

    def add_override(self, path: str, value: Any) -> None:
        """Set a value at a dotted path of the block, over its attributes, as cdktn's addOverride
        does (e.g. ``add_override("//.terraml.note", {...})`` for a comment Terraform ignores)."""
        *parents, last = path.split(".")
        target = self.overrides
        for key in parents:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[last] = value

    def add_depends_on(self, *others: _Block) -> None:
        """Make the block wait for ``others`` too (each joins its depends_on once)."""
        current = self.depends_on or []
        self.depends_on = [*current, *(o for o in dict.fromkeys(others) if o not in current)]

    @property
    def fqn(self) -> str:
        """The block's address, as depends_on names it ('aws_iam_role.role_1A2B3C4D')."""
        return f"{self._reference_prefix}{self.resource_type}.{self._logical_id}"

    def attr(self, name: str) -> str:
        """A reference to an attribute or nested path, e.g. ``role.attr("arn")``,
        ``cluster.attr("identity[0].oidc[0].issuer")``. References within one stack are plain
        Terraform interpolations."""
        return f"${{{self.fqn}.{name}}}"

    def to_json(self, stack_path: str) -> dict[str, Any]:
        """The block as cdktn writes it: attributes, then meta-arguments, then the '//' notes."""
        block = _prune(self.attrs)
        if self.depends_on is not None:
            block["depends_on"] = [_address(d) for d in self.depends_on]
        if self.provider is not None:
            block["provider"] = self.provider.terraml_name
        if self.lifecycle is not None:
            block["lifecycle"] = dict(self.lifecycle)
        _deep_merge(block, self.overrides)
        block["//"] = {**block.get("//", {}),
                       "metadata": {"path": "/".join((stack_path, *self.path)), "uniqueId": self._logical_id}}
        return block


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """cdktn's deepMerge: objects merge key by key, a list extends a list, None deletes, else replaces."""
    for key, value in source.items():
        if isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                target[key] = {}
            _deep_merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = [*target[key], *value]
        elif value is None:
            target.pop(key, None)
        else:
            target[key] = value


def _address(dependency: Any) -> str:
    if not isinstance(dependency, _Block):
        raise TypeError(f"depends_on takes terraml resources and data sources, not {type(dependency).__name__}")
    return dependency.fqn


class Resource(_Block):
    """A Terraform resource given as plain attributes.

    ``tags`` marks the resource as taggable: the stack's tagging aspect merges the mandatory tags
    over it, so constructs only pass what is specific to them. ``skip_checks`` records checkov
    suppressions next to the resource, each with its reason.
    """

    def __init__(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any], *,
                 tags: dict[str, str] | None = None, lifecycle: dict | None = None,
                 depends_on: list | None = None, provider: TerraformProvider | None = None,
                 skip_checks: dict[str, str] | None = None):
        super().__init__(scope, id, resource_type, attrs, lifecycle=lifecycle, depends_on=depends_on,
                         provider=provider, skip_checks=skip_checks)
        self.own_tags = tags
        stack_of(scope).terraml_resources.append(self)


class DataSource(_Block):
    section = "data"
    _reference_prefix = "data."

    def __init__(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any] | None = None):
        super().__init__(scope, id, resource_type, attrs or {})


class Provider(TerraformProvider):
    def __init__(self, scope: Construct, name: str, attrs: dict[str, Any], alias: str | None = None):
        source, version, _ = provider_source(name)
        super().__init__(scope, alias or name, terraform_resource_type=name, terraform_provider_source=source,
                         terraform_generator_metadata={"provider_name": name, "provider_version_constraint": version})
        self.attrs = dict(attrs)
        self.terraml_name = name  # how resources name it (cdktn's fqn: no alias is ever set on the provider)
        stack = stack_of(scope)
        if stack is not None:
            StackBlocks.of(stack).terraml_providers.add(name)

    def _synthesize_attributes(self) -> dict[str, Any]:
        return _prune(self.attrs)


class TagAspect:
    """Applies the mandatory tags to every taggable resource of a stack, once, in one place.

    Resource tags win over nothing: the mandatory keys (team, cost-center, environment) always
    carry the stack's values. A cloud whose resources need more than the ``tags`` attribute (AWS
    launch templates) extends ``visit`` in its own modules folder.
    """

    attribute = "tags"

    def __init__(self, tags: dict[str, str]):
        self.tags = dict(tags)

    def visit(self, node: Resource) -> None:
        if node.own_tags is None:
            return
        node.attrs[self.attribute] = {**node.own_tags, **self.tags}


def apply_aspects(stack, *aspects) -> None:
    """Visit every resource of a stack once with each aspect.

    cdktn's own ``Aspects`` would call back from Node into Python for every construct in the
    tree; the stack already knows its resources, so the walk stays in Python.
    """
    for resource in stack.terraml_resources:
        for aspect in aspects:
            aspect.visit(resource)
