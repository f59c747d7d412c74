"""Azure: AKS team stacks with Azure ML, validated in the spec and priced; training jobs and online
endpoints through the Azure ML backend (azureml.py)."""

from __future__ import annotations

from decimal import Decimal
from ipaddress import IPv4Network

from terraml.cloud import Cloud, Feature, ProviderSource
from terraml.errors import UnsupportedFeature
from terraml.providers.azure.names import NAME_RULES, TAG_FORBIDDEN, TAG_MAX_NAME_STORAGE, TAG_MAX_VALUE, AzureNames
from terraml.providers.azure.regions import AZURE_LOCATIONS, MACHINE_SHAPE, REGION_SHAPE

# The AKS overlay ranges (modules/azure/aks_cluster.py), repeated here so the spec check needs no cdktn.
OVERLAY_RANGES = {"pod_cidr": IPv4Network("192.168.0.0/16"), "service_cidr": IPv4Network("172.16.0.0/16")}


class AzureCloud(Cloud):
    NAME = "azure"
    TITLE = "Azure"
    EXTRA = "azure"
    REGION_FIELD = "location"
    REGION_SHAPE = REGION_SHAPE
    KNOWN_REGIONS = AZURE_LOCATIONS
    MACHINE_SHAPE = MACHINE_SHAPE
    # The provider versions the typed bindings were generated from (cdktn-provider-azurerm 18.9.0:
    # hashicorp/azurerm 5.10.0; cdktn-provider-azapi 1.0.0: azure/azapi 2.13.0), from there up to the next
    # major: every attribute the gates check exists in those versions.
    TERRAFORM_PROVIDERS = {"azurerm": ProviderSource("hashicorp/azurerm", "~> 5.10", "cdktn_provider_azurerm"),
                           "azapi": ProviderSource("azure/azapi", "~> 2.13", "cdktn_provider_azapi")}
    SPOT_PRICE_CAP = True  # AKS spot_max_price is enforced by Azure itself
    FEATURE_TYPES = frozenset({"integral", "fractional", "string"})
    NAME_RULES = NAME_RULES
    API_OVERRIDE_ENV = "TERRAML_AZUREML_TRANSPORT"  # module:factory of an azure-core transport (a testing hook)
    UNSUPPORTED = {
        Feature.SIMULATED_INTERRUPTIONS: "low-priority preemption on Azure ML is real and cannot be asked for; "
                                         "simulate interruptions with --cloud local",
    }

    def spec_block(self):
        from terraml.providers.azure.spec import AzureBlock

        return AzureBlock

    def state_block(self):
        from terraml.providers.azure.spec import AzureState

        return AzureState

    def tag_problem(self, key: str, value: str) -> str | None:
        """Azure's tag rules (names.py), at their strictest: every team stack has a storage account."""
        if not 1 <= len(key) <= TAG_MAX_NAME_STORAGE:
            return f"Azure tag names are 1-{TAG_MAX_NAME_STORAGE} characters on storage accounts; shorten it."
        if TAG_FORBIDDEN.search(key):
            return "Azure tag names cannot contain < > % & \\ ? /; rename it."
        if len(value) > TAG_MAX_VALUE:
            return f"Azure tag values are at most {TAG_MAX_VALUE} characters; shorten it."
        return None

    def check_block(self, block, path: str, region: str | None, findings) -> None:
        for name, overlay in OVERLAY_RANGES.items():
            if block.network.cidr.overlaps(overlay):
                findings.error(f"{path}.network.cidr", f"{block.network.cidr} overlaps the AKS overlay {name} "
                                                       f"{overlay}; pick a network outside {overlay}.")
        seen: dict[str, str] = {}
        from terraml.policy.capacity import KINDS

        names = AzureNames("o", "t", "e", block.subscription_id)
        for i, pool in enumerate(block.gpu_pools):
            for kind in KINDS:
                for derived in (names.node_pool(pool.name, kind.suffix), names.ml_compute(pool.name, kind.suffix)):
                    other = seen.setdefault(derived, pool.name)
                    if other != pool.name:
                        findings.error(f"{path}.gpu_pools[{i}].name", f"'{pool.name}' and '{other}' both become "
                                                                      f"'{derived}' on Azure; rename one.")
        if region is None:
            return
        findings.machine(self, region, block.system_vm_size, f"{path}.system_vm_size")
        for i, ep in enumerate(block.endpoints):
            findings.machine(self, region, ep.instance_type, f"{path}.endpoints[{i}].instance_type")

    def resource_names(self, platform, team) -> dict[str, str]:
        block = team.environment(self.NAME)
        return AzureNames.for_team(platform, team).all_names([p.name for p in block.gpu_pools],
                                                             [e.name for e in block.endpoints])

    def build_stack(self, scope, ctx):
        from terraml.providers.azure.stack import AzureTeamStack

        return AzureTeamStack(scope, ctx)

    def backend(self, settings):
        return self.load("terraml.providers.azure.azureml").AzureMLBackend.from_settings(settings)

    def pricers(self):
        from terraml.providers.azure.pricing import PRICERS

        return PRICERS

    def region_resolver(self, stack):
        def region(block: dict) -> str:
            location = block.get("location")
            if not location:  # AKS node pools take the cluster's location
                found = stack.resolve(block.get("kubernetes_cluster_id"))
                location = found[2].get("location") if found else None
            return location or "unknown"

        return region

    def fetch_prices(self, rows: list[dict]):
        from terraml.providers.azure.prices import fetch_default

        return fetch_default(rows)

    def spend(self, team: str, month: str, platform=None) -> tuple[Decimal, str]:
        """Cost Management's actual cost of the month over the subscription of the team's azure block, grouped
        by the team tag."""
        billing = self.load("terraml.providers.azure.billing")
        scopes = billing.subscriptions_of(platform, team) if platform is not None else []
        if not scopes:
            raise UnsupportedFeature(f"azure: actual spend needs team '{team}''s clouds.azure.subscription_id from "
                                     "the spec; pass --spec.")
        return billing.CostManagementSpend(scopes).spend(team, month)
