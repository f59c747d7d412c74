"""Building blocks every construct uses: generic resources, providers and the tagging aspect.

terraml emits resources through cdktn core's generic ``TerraformResource`` instead of the typed
provider bindings: the bindings cost seconds and gigabytes to load (one jsii assembly per provider),
while the generic class synthesizes the same Terraform JSON. The test suite rebuilds every block
with the typed bindings to prove the attributes, nesting and types are right.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cdktn import TerraformDataSource, TerraformProvider, TerraformResource
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


def _metadata(resource_type: str) -> dict[str, str]:
    name = resource_type.split("_", 1)[0]
    version = provider_source(name).version
    return {"provider_name": name, "provider_version_constraint": version}


def _prune(value: Any) -> Any:
    """Drop None values at any depth: an attribute left unset is absent, not null."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


class _PlainAttributes:
    """Hands all attributes to cdktn in one callback at synth time.

    One ``add_override`` per attribute would cost a jsii round trip each (about a thousand per
    team stack); overriding the protected ``synthesizeAttributes`` costs one per resource.
    """

    attrs: dict[str, Any]

    def _synthesize_attributes(self) -> dict[str, Any]:
        return _prune(self.attrs)


def stack_of(scope: Construct):
    """The terraml stack a scope belongs to (found through plain Python attributes, no jsii call)."""
    return scope if hasattr(scope, "terraml_resources") else getattr(scope, "terraml_stack", None)


def path_in_stack(scope: Construct) -> tuple[str, ...]:
    """The construct ids from the stack down to ``scope`` (the stack itself is the empty path)."""
    return () if hasattr(scope, "terraml_resources") else getattr(scope, "terraml_path", None)


def logical_id(path: tuple[str, ...]) -> str:
    """The Terraform name cdktn gives an element at this path in its stack (its makeUniqueId).

    Computed here so that references cost no call into the Node kernel; the test suite checks every
    reference in the synthesized stacks against the names cdktn actually wrote.
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


class Module(Construct):
    """Base of terraml's constructs: remembers its stack and path, so resources inside can register
    there and know their Terraform names."""

    def __init__(self, scope: Construct, id: str):
        super().__init__(scope, id)
        self.terraml_stack = stack_of(scope)
        parent = path_in_stack(scope)
        self.terraml_path = None if parent is None else (*parent, id)


class _Referable(_PlainAttributes):
    """What resources and data sources share: their type, plain attributes, and references by a
    Terraform name computed in Python."""

    _reference_prefix = ""

    def _name_in_stack(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any]) -> None:
        self.resource_type = resource_type
        self.attrs = dict(attrs)
        parent = path_in_stack(scope)
        self._logical_id: str | None = None if parent is None else logical_id((*parent, id))

    def attr(self, name: str) -> str:
        """A reference to an attribute or nested path, e.g. ``role.attr("arn")``,
        ``cluster.attr("identity[0].oidc[0].issuer")``. References within one stack are plain
        Terraform interpolations."""
        if self._logical_id is None:  # outside a terraml stack: ask cdktn
            self._logical_id = self.friendly_unique_id
        return f"${{{self._reference_prefix}{self.resource_type}.{self._logical_id}.{name}}}"


class Resource(_Referable, TerraformResource):
    """A Terraform resource given as plain attributes.

    ``tags`` marks the resource as taggable: the stack's tagging aspect merges the mandatory tags
    over it, so constructs only pass what is specific to them. ``skip_checks`` records checkov
    suppressions next to the resource, each with its reason.
    """

    def __init__(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any], *,
                 tags: dict[str, str] | None = None, lifecycle: dict | None = None,
                 depends_on: list | None = None, provider: TerraformProvider | None = None,
                 skip_checks: dict[str, str] | None = None):
        super().__init__(scope, id, terraform_resource_type=resource_type,
                         terraform_generator_metadata=_metadata(resource_type),
                         lifecycle=lifecycle, depends_on=depends_on, provider=provider)
        self.own_tags = tags
        self._name_in_stack(scope, id, resource_type, attrs)
        stack = stack_of(scope)
        if stack is not None:
            stack.terraml_resources.append(self)
        if skip_checks:
            self.add_override("//.checkov", [f"checkov:skip={c}:{why}" for c, why in sorted(skip_checks.items())])


class DataSource(_Referable, TerraformDataSource):
    _reference_prefix = "data."

    def __init__(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any] | None = None):
        super().__init__(scope, id, terraform_resource_type=resource_type,
                         terraform_generator_metadata=_metadata(resource_type))
        self._name_in_stack(scope, id, resource_type, attrs or {})


class Provider(_PlainAttributes, TerraformProvider):
    def __init__(self, scope: Construct, name: str, attrs: dict[str, Any], alias: str | None = None):
        source, version, _ = provider_source(name)
        super().__init__(scope, alias or name, terraform_resource_type=name, terraform_provider_source=source,
                         terraform_generator_metadata={"provider_name": name, "provider_version_constraint": version})
        self.attrs = dict(attrs)


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
