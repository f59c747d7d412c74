"""AWS tagging: the mandatory tags on every taggable resource, and on what launch templates start."""

from __future__ import annotations

from terraml.modules.core import Resource, TagAspect


class AwsTagAspect(TagAspect):
    """Launch templates also pass the tags on to the instances, volumes and interfaces they start,
    which EKS managed node groups do not do by themselves (cost allocation needs them)."""

    def visit(self, node: Resource) -> None:
        super().visit(node)
        if node.own_tags is not None and node.resource_type == "aws_launch_template":
            node.attrs["tag_specifications"] = [
                {"resource_type": kind, "tags": node.attrs[self.attribute]}
                for kind in ("instance", "volume", "network-interface")
            ]
