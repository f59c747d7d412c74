"""Service accounts with only the project roles they need, and Workload Identity bindings.

Grants on one resource (a bucket, a repository, a dataset) are made next to that resource; only roles
that have no narrower scope are granted on the project. Primitive roles (owner, editor, viewer) never.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource

PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})


@dataclass(frozen=True, kw_only=True)
class ServiceAccountProps:
    account_id: str
    project: str
    display_name: str
    project_roles: list[str] = field(default_factory=list)
    """Roles granted on the project (only those that cannot be scoped to a resource)."""
    workload_identity: list[str] = field(default_factory=list)
    """Kubernetes service accounts ('<namespace>/<name>') allowed to act as this account (Workload Identity)."""
    workload_pool: str | None = None
    """The cluster's Workload Identity pool ('<project>.svc.id.goog'); required with ``workload_identity``."""


class ServiceAccount(Module):
    def __init__(self, scope: Construct, id: str, props: ServiceAccountProps, *, depends_on: list | None = None):
        super().__init__(scope, id)
        primitive = PRIMITIVE_ROLES.intersection(props.project_roles)
        if primitive:
            raise ValueError(f"{props.account_id}: primitive roles {sorted(primitive)} grant far too much; "
                             "grant predefined roles instead")
        self.account = Resource(self, "account", "google_service_account", {
            "account_id": props.account_id, "project": props.project, "display_name": props.display_name})
        self.email = self.account.attr("email")
        self.member = f"serviceAccount:{self.email}"
        for role in props.project_roles:
            Resource(self, f"role-{role.removeprefix('roles/').replace('.', '-')}", "google_project_iam_member", {
                "project": props.project, "role": role, "member": self.member})
        for ksa in props.workload_identity:
            # The pool exists once the cluster does; binding before that fails.
            Resource(self, f"wi-{ksa.replace('/', '-')}", "google_service_account_iam_member", {
                "service_account_id": self.account.attr("name"), "role": "roles/iam.workloadIdentityUser",
                "member": f"serviceAccount:{props.workload_pool}[{ksa}]"}, depends_on=depends_on)
