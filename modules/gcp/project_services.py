"""The Google APIs the team stack uses, enabled in the team's project, and every block made to wait for its API.

A project's APIs are shared: other stacks and people use the same project, so the stack enables an API and
never turns it off (``disable_on_destroy = false``; destroying the stack leaves every API on). Which API a
block needs is decided here, once, from its Terraform type: adding a resource type of a new API without an
entry here fails the synth, instead of failing the first apply with "API has not been used in project".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource, StackBlocks

# Terraform type (or the start of one) -> the API its calls go to. The longest matching entry wins.
API_OF_TYPE: dict[str, str] = {
    "google_compute_": "compute.googleapis.com",
    "google_container_": "container.googleapis.com",
    "google_artifact_registry_": "artifactregistry.googleapis.com",
    "google_kms_": "cloudkms.googleapis.com",
    "google_vertex_ai_": "aiplatform.googleapis.com",
    "google_bigquery_": "bigquery.googleapis.com",
    "google_billing_budget": "billingbudgets.googleapis.com",
    "google_monitoring_": "monitoring.googleapis.com",
    "google_service_account": "iam.googleapis.com",  # the accounts and the grants on them
    "google_storage_": "storage.googleapis.com",  # buckets, their grants and the project's storage agent
    "google_project": "cloudresourcemanager.googleapis.com",  # the project and grants on it
    "google_project_service": "serviceusage.googleapis.com",  # on in every project; never managed here
}

# A Google service agent exists once its service's API is on: a grant to it must wait for that API.
AGENT_API: dict[str, str] = {
    "container-engine-robot": "container.googleapis.com",
    "compute-system": "compute.googleapis.com",
    "gcp-sa-artifactregistry": "artifactregistry.googleapis.com",
    "gcp-sa-aiplatform": "aiplatform.googleapis.com",
}
UNMANAGED = frozenset({"serviceusage.googleapis.com"})
"""Needed to enable the others, so it cannot be enabled by the stack (it is on in every project)."""


def api_of(resource_type: str) -> str:
    """The API a Terraform type of the google provider calls, e.g. 'google_container_cluster' ->
    'container.googleapis.com'."""
    matches = [prefix for prefix in API_OF_TYPE if resource_type.startswith(prefix)]
    if not matches:
        raise KeyError(f"no API known for {resource_type}; add its Google API to API_OF_TYPE in "
                       "modules/gcp/project_services.py")
    return API_OF_TYPE[max(matches, key=len)]


@dataclass(frozen=True, kw_only=True)
class ProjectServicesProps:
    project: str
    extra_apis: list[str] = field(default_factory=list)
    """APIs the stack's resources need without calling them from Terraform (GKE's logging, Workload Identity's
    token exchange, image scanning)."""


class ProjectServices(Module):
    """Enables the APIs of every block already in the stack, plus ``extra_apis``, and makes each resource
    depend on its API (and each grant to a service agent on the API that creates the agent). Make it last,
    after every other block of the stack.

    Data sources do not wait: Terraform reads a data source that depends on a resource with changes pending
    only at apply, so the project number would be unknown whenever an API is added, and every grant naming a
    service agent by that number would be replaced. The APIs they read (Cloud Resource Manager, Cloud Storage,
    BigQuery) are on in new projects; their APIs are enabled all the same.
    """

    def __init__(self, scope: Construct, id: str, props: ProjectServicesProps):
        super().__init__(scope, id)
        blocks = StackBlocks.blocks(self.terraml_stack)
        needs = {block: api_of(block.resource_type) for block in blocks}
        apis = sorted((set(needs.values()) | set(props.extra_apis)) - UNMANAGED)
        self.services: dict[str, Resource] = {api: Resource(self, api.split(".")[0], "google_project_service", {
            "project": props.project, "service": api,
            # The project is shared: destroying the stack must never switch an API off under someone else.
            "disable_on_destroy": False, "disable_dependent_services": False}) for api in apis}
        for block, api in needs.items():
            if block.section != "resource":
                continue
            waits = [api, *(a for agent, a in AGENT_API.items()
                             if f"@{agent}.iam.gserviceaccount.com" in str(block.attrs.get("member", "")))]
            block.add_depends_on(*(self.services[a] for a in waits if a in self.services))
