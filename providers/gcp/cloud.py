"""GCP: validated in the spec and priced; GKE stacks and the Vertex AI backend are not built yet."""

from __future__ import annotations

from terraml.cloud import Cloud, Feature, ProviderSource
from terraml.providers.gcp.regions import GCP_REGIONS, MACHINE_SHAPE, REGION_SHAPE, region_of


class GcpCloud(Cloud):
    NAME = "gcp"
    TITLE = "GCP"
    EXTRA = "gcp"
    MACHINE_FIELD = "machine_type"
    REGION_SHAPE = REGION_SHAPE
    KNOWN_REGIONS = GCP_REGIONS
    MACHINE_SHAPE = MACHINE_SHAPE
    # Pinned for real with the GKE stack, to the version its typed bindings are generated from.
    TERRAFORM_PROVIDERS = {"google": ProviderSource("hashicorp/google", "~> 7.0", "cdktn_provider_google")}
    REGION_PROVIDER = "google"
    SPOT_PRICE_CAP = False  # GCP has no spot price cap
    # Vertex AI Feature Store (Bigtable online serving) stores embeddings.
    FEATURE_TYPES = frozenset({"integral", "fractional", "string", "vector"})
    UNSUPPORTED = {
        Feature.STACKS: "GCP stacks (GKE, Artifact Registry, Vertex AI) are not built yet; the gcp block is fully "
                        "validated",
        Feature.TRAINING: "the Vertex AI backend is not built yet; train with --cloud local or aws",
        Feature.SERVING: "Vertex AI endpoints are not built yet",
        Feature.UNDEPLOY: "Vertex AI endpoints are not built yet",
        Feature.BILLING: "not built yet: the GCP source reads the Cloud Billing export in BigQuery",
    }

    def spec_block(self):
        from terraml.providers.gcp.spec import GcpBlock

        return GcpBlock

    def state_block(self):
        from terraml.providers.gcp.spec import GcpState

        return GcpState

    def check_block(self, block, path: str, region: str | None, findings) -> None:
        if region is None:
            return
        for i, ep in enumerate(block.endpoints):
            where = f"{path}.endpoints[{i}]"
            if findings.machine(self, region, ep.machine_type, f"{where}.machine_type") and ep.accelerator:
                findings.accelerator(self, region, ep.accelerator, f"{where}.accelerator")

    def pricers(self):
        from terraml.providers.gcp.pricing import PRICERS

        return PRICERS

    def resource_region(self, stack, block: dict) -> str:
        return region_of(block.get("location") or block.get("region"), stack.provider_region("google") or "unknown")

    def fetch_prices(self, rows: list[dict]):
        from terraml.providers.gcp.prices import fetch_default

        return fetch_default(rows)
