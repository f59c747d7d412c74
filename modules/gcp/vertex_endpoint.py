"""A Vertex AI endpoint owned by the stack; its models are deployed later by the Vertex AI backend.

Deploying a model onto the endpoint and moving traffic between models happen outside Terraform, so the
endpoint ignores its traffic split: the next ``cdktn deploy`` never sends traffic back where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

SKIPS = {
    "CKV2_GCP_33": "a private (Private Service Connect) endpoint needs a forwarding rule on a service attachment "
                   "that exists only once a model is deployed; every prediction needs IAM "
                   "(aiplatform.endpoints.predict), as SageMaker's runtime API does",
}


@dataclass(frozen=True, kw_only=True)
class VertexEndpointProps:
    endpoint_id: str
    """Numeric (Vertex AI's rule for ids the caller picks)."""
    display_name: str
    region: str
    kms_key_name: str
    """Encrypts the endpoint and what is deployed to it (read through the Vertex AI agent's grant)."""
    description: str = ""


class VertexEndpoint(Module):
    def __init__(self, scope: Construct, id: str, props: VertexEndpointProps):
        super().__init__(scope, id)
        self.endpoint = Resource(self, "endpoint", "google_vertex_ai_endpoint", {
            "name": props.endpoint_id,
            "display_name": props.display_name,
            "location": props.region,
            "description": props.description or None,
            "encryption_spec": {"kms_key_name": props.kms_key_name},
        }, tags={}, lifecycle={"ignore_changes": ["traffic_split"]}, skip_checks=SKIPS)
        self.id = self.endpoint.attr("id")
