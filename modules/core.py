"""Building blocks every construct uses: generic resources, providers and the tagging aspect.

terraml emits resources through cdktn core's generic ``TerraformResource`` instead of the typed
provider bindings: the bindings cost seconds and gigabytes to load (one jsii assembly per provider),
while the generic class synthesizes the same Terraform JSON. The test suite rebuilds every block
with the typed bindings to prove the attributes, nesting and types are right.
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktn import IAspect, TerraformDataSource, TerraformProvider, TerraformResource, Token
from constructs import Construct, IConstruct

# provider name -> (registry source, version constraint). Versions match the bindings the tests use.
PROVIDERS: dict[str, tuple[str, str]] = {
    "aws": ("hashicorp/aws", "~> 6.0"),
    "helm": ("hashicorp/helm", "~> 3.0"),
}


def _metadata(resource_type: str) -> dict[str, str]:
    name = resource_type.split("_", 1)[0]
    source, version = PROVIDERS[name]
    return {"provider_name": name, "provider_version_constraint": version}


def _apply(element, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        if value is not None:
            element.add_override(key, value)


class Resource(TerraformResource):
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
        _apply(self, attrs)
        if skip_checks:
            self.add_override("//.checkov", [f"checkov:skip={c}:{why}" for c, why in sorted(skip_checks.items())])

    def attr(self, name: str) -> str:
        """A reference to one of the resource's attributes, e.g. ``role.attr("arn")``."""
        return self.get_string_attribute(name)

    def expr(self, path: str) -> str:
        """A reference to a nested attribute path, e.g. ``identity[0].oidc[0].issuer``."""
        return Token.as_string(self.interpolation_for_attribute(path))


class DataSource(TerraformDataSource):
    def __init__(self, scope: Construct, id: str, resource_type: str, attrs: dict[str, Any] | None = None):
        super().__init__(scope, id, terraform_resource_type=resource_type,
                         terraform_generator_metadata=_metadata(resource_type))
        _apply(self, attrs or {})

    def expr(self, path: str) -> str:
        return Token.as_string(self.interpolation_for_attribute(path))


class Provider(TerraformProvider):
    def __init__(self, scope: Construct, name: str, attrs: dict[str, Any], alias: str | None = None):
        source, version = PROVIDERS[name]
        super().__init__(scope, alias or name, terraform_resource_type=name, terraform_provider_source=source,
                         terraform_generator_metadata={"provider_name": name, "provider_version_constraint": version})
        _apply(self, attrs)


@jsii.implements(IAspect)
class TagAspect:
    """Applies the mandatory tags to every taggable resource of a stack, once, in one place.

    Resource tags win over nothing: the mandatory keys (team, cost-center, environment) always
    carry the stack's values. Launch templates also pass the tags on to the instances and volumes
    they start, which EKS managed node groups do not do by themselves (cost allocation needs them).
    """

    def __init__(self, tags: dict[str, str]):
        self.tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, Resource) or node.own_tags is None:
            return
        merged = {**node.own_tags, **self.tags}
        node.add_override("tags", merged)
        if node.terraform_resource_type == "aws_launch_template":
            node.add_override("tag_specifications", [
                {"resource_type": kind, "tags": merged} for kind in ("instance", "volume", "network-interface")
            ])
