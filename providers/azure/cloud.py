"""Azure: validated in the spec and priced; AKS stacks and the Azure ML backend are not built yet."""

from __future__ import annotations

from terraml.cloud import Cloud, Feature, ProviderSource
from terraml.providers.azure.regions import AZURE_LOCATIONS, MACHINE_SHAPE, REGION_SHAPE


class AzureCloud(Cloud):
    NAME = "azure"
    TITLE = "Azure"
    EXTRA = "azure"
    REGION_FIELD = "location"
    REGION_SHAPE = REGION_SHAPE
    KNOWN_REGIONS = AZURE_LOCATIONS
    MACHINE_SHAPE = MACHINE_SHAPE
    # Pinned for real with the AKS stack, to the versions its typed bindings are generated from.
    TERRAFORM_PROVIDERS = {"azurerm": ProviderSource("hashicorp/azurerm", "~> 4.0", "cdktn_provider_azurerm"),
                           "azapi": ProviderSource("azure/azapi", "~> 2.0", "cdktn_provider_azapi")}
    SPOT_PRICE_CAP = True  # AKS spot_max_price is enforced by Azure itself
    FEATURE_TYPES = frozenset({"integral", "fractional", "string"})
    UNSUPPORTED = {
        Feature.STACKS: "Azure stacks (AKS, ACR, Azure ML) are not built yet; the azure block is fully validated",
        Feature.TRAINING: "the Azure ML backend is not built yet; train with --cloud local or aws",
        Feature.SERVING: "Azure ML online endpoints are not built yet",
        Feature.UNDEPLOY: "Azure ML online endpoints are not built yet",
        Feature.BILLING: "not built yet: the Azure source runs a Cost Management query",
    }

    def spec_block(self):
        from terraml.providers.azure.spec import AzureBlock

        return AzureBlock

    def state_block(self):
        from terraml.providers.azure.spec import AzureState

        return AzureState

    def check_block(self, block, path: str, region: str | None, findings) -> None:
        if region is None:
            return
        for i, ep in enumerate(block.endpoints):
            findings.machine(self, region, ep.instance_type, f"{path}.endpoints[{i}].instance_type")

    def pricers(self):
        from terraml.providers.azure.pricing import PRICERS

        return PRICERS

    def resource_region(self, stack, block: dict) -> str:
        location = block.get("location")
        if not location:  # AKS node pools take the cluster's location
            found = stack.resolve(block.get("kubernetes_cluster_id"))
            location = found[2].get("location") if found else None
        return location or "unknown"

    def fetch_prices(self, rows: list[dict]):
        from terraml.providers.azure.prices import fetch_default

        return fetch_default(rows)
