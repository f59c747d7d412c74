"""GCP: GKE team stacks (Artifact Registry, Cloud Storage, Vertex AI), validated and priced, and the Vertex AI
backend (CustomJobs on Spot or standard capacity; model rollouts on the stack's endpoints)."""

from __future__ import annotations

from decimal import Decimal

from terraml.cloud import Cloud, Feature, ProviderSource
from terraml.providers.gcp.names import NAME_RULES, GcpNames
from terraml.providers.gcp.regions import GCP_REGIONS, MACHINE_SHAPE, REGION_SHAPE, ZONE, region_of

MAX_PREFIX = 20
"""GKE needs room in the team's range for nodes, services, the control plane and a pod block per node."""


class GcpCloud(Cloud):
    NAME = "gcp"
    TITLE = "GCP"
    EXTRA = "gcp"
    MACHINE_FIELD = "machine_type"
    REGION_SHAPE = REGION_SHAPE
    KNOWN_REGIONS = GCP_REGIONS
    MACHINE_SHAPE = MACHINE_SHAPE
    # cdktn_provider_google 21.1.0 is generated from hashicorp/google 8.7.0: the stacks take its patch
    # releases only, so every attribute they write is one the typed bindings were checked against.
    TERRAFORM_PROVIDERS = {"google": ProviderSource("hashicorp/google", "~> 8.7.0", "cdktn_provider_google")}
    REGION_PROVIDER = "google"
    SPOT_PRICE_CAP = False  # GCP has no spot price cap
    # Vertex AI Feature Store (Bigtable online serving) stores embeddings.
    FEATURE_TYPES = frozenset({"integral", "fractional", "string", "vector"})
    NAME_RULES = NAME_RULES
    API_OVERRIDE_ENV = "TERRAML_VERTEX_API_ENDPOINT"  # e.g. http://127.0.0.1:PORT: the tests' stand-in
    UNSUPPORTED = {
        Feature.SIMULATED_INTERRUPTIONS: "Vertex AI cannot preempt a Spot job on request; simulate spot "
                                         "interruptions with --cloud local",
    }

    def spec_block(self):
        from terraml.providers.gcp.spec import GcpBlock

        return GcpBlock

    def state_block(self):
        from terraml.providers.gcp.spec import GcpState

        return GcpState

    def check_block(self, block, path: str, region: str | None, findings) -> None:
        """No spot price caps; a range GKE fits in; GPUs that fit their machine family; zones of the region."""
        from terraml.providers.gcp.machines import gpu_zone_problem, gpus_for

        for i, pool in enumerate(block.gpu_pools):
            if pool.spot.max_price_ratio is not None and pool.spot.mode != "on-demand":
                findings.error(f"{path}.gpu_pools[{i}].spot.max_price_ratio",
                               f"{pool.spot.max_price_ratio}: GCP has no spot price cap (Spot VMs are billed at the "
                               "current spot price, never capped); remove max_price_ratio, or use mode 'on-demand' "
                               "if spot is too dear.")
            for j, zone in enumerate(pool.zones):
                match = ZONE.match(zone)
                if region is not None and (match is None or match.group(1) != region):
                    findings.error(f"{path}.gpu_pools[{i}].zones[{j}]",
                                   f"'{zone}' is not a zone of {region}; zones are named '{region}-a', "
                                   f"'{region}-b', ...")
            accelerator = pool.accelerator
            if pool.machine_type:
                gpus, problem = gpus_for(pool.machine_type, pool.accelerator, pool.accelerator_count)
                if problem:
                    findings.error(f"{path}.gpu_pools[{i}].machine_type", f"{problem}.")
                accelerator = gpus.accelerator if gpus else accelerator
            # GKE fails at apply when a pool's zone lacks its GPU: check against the offline zone table.
            problem = gpu_zone_problem(region, list(pool.zones), accelerator) if region and accelerator else None
            if problem:
                findings.error(f"{path}.gpu_pools[{i}].{'zones' if pool.zones else 'accelerator'}", problem)
        cidr = block.network.cidr
        if cidr.prefixlen > MAX_PREFIX:
            findings.error(f"{path}.network.cidr",
                           f"{cidr} is a /{cidr.prefixlen}; GKE needs a /{MAX_PREFIX} or larger (terraml gives pods "
                           "half of it, a /25 per node). Use a larger range, e.g. a /16.")
        if region is None:
            return
        for i, ep in enumerate(block.endpoints):
            where = f"{path}.endpoints[{i}]"
            if findings.machine(self, region, ep.machine_type, f"{where}.machine_type") and ep.accelerator:
                if findings.accelerator(self, region, ep.accelerator, f"{where}.accelerator"):
                    _, problem = gpus_for(ep.machine_type, ep.accelerator, ep.accelerator_count)
                    if problem:
                        findings.error(f"{where}.accelerator", f"{problem}.")

    def resource_names(self, platform, team) -> dict[str, str]:
        block = team.environment(self.NAME)
        groups = [g.name for g in block.feature_store.groups] if block.feature_store else []
        return GcpNames.for_team(platform, team).all_names([p.name for p in block.gpu_pools], groups,
                                                           [e.name for e in block.endpoints])

    def build_stack(self, scope, ctx):
        from terraml.providers.gcp.stack import GcpTeamStack

        return GcpTeamStack(scope, ctx)

    def backend(self, settings):
        return self.load("terraml.providers.gcp.vertex").VertexBackend.from_settings(settings)

    def pricers(self):
        from terraml.providers.gcp.pricing import PRICERS

        return PRICERS

    def region_resolver(self, stack):
        default = stack.provider_region("google") or "unknown"

        def region(block: dict) -> str:
            location = block.get("location") or block.get("region")
            return region_of(location.lower() if isinstance(location, str) else None, default)

        return region

    def fetch_prices(self, rows: list[dict]):
        from terraml.providers.gcp.prices import fetch_default

        return fetch_default(rows)

    def spend(self, team: str, month: str, platform=None) -> tuple[Decimal, str]:
        """From the Cloud Billing export in BigQuery, grouped by the team label. The export table comes from
        $TERRAML_GCP_BILLING_EXPORT_TABLE, else the team's clouds.gcp.billing_export_table."""
        import os

        from terraml.providers.gcp.spec import resolve_export_table

        found = platform.team(team) if platform is not None else None
        block = found.environment(self.NAME) if found is not None else None
        table = resolve_export_table(None, os.environ, block)  # UnsupportedFeature when none is configured
        billing = self.load("terraml.providers.gcp.billing")
        return billing.BigQueryBillingSpend(table).spend(team, month)
