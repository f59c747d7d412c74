"""IAM helpers: roles with an assume-role policy and policy documents as plain dicts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(actions: list[str], resources: list[str], **extra) -> dict:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


@dataclass(frozen=True, kw_only=True)
class RoleProps:
    name: str
    service: str | None = None
    """The AWS service principal allowed to assume the role (e.g. 'eks.amazonaws.com')."""
    assume_policy: str | None = None
    """A full assume-role policy, for federated (IRSA) roles; overrides ``service``."""
    managed_policy_arns: list[str] = field(default_factory=list)
    inline_policy: str | None = None
    """A JSON policy document attached to the role as its own policy."""


class Role(Module):
    def __init__(self, scope: Construct, id: str, props: RoleProps):
        super().__init__(scope, id)
        assume = props.assume_policy or policy(
            {"Effect": "Allow", "Principal": {"Service": props.service}, "Action": "sts:AssumeRole"}
        )
        self.role = Resource(self, "role", "aws_iam_role",
                             {"name": props.name, "assume_role_policy": assume}, tags={})
        for i, arn in enumerate(props.managed_policy_arns):
            Resource(self, f"managed-{i}", "aws_iam_role_policy_attachment",
                     {"role": self.role.attr("name"), "policy_arn": arn})
        if props.inline_policy:
            Resource(self, "policy", "aws_iam_role_policy",
                     {"name": f"{props.name}-inline", "role": self.role.attr("id"), "policy": props.inline_policy})
        self.arn = self.role.attr("arn")
        self.name = self.role.attr("name")
