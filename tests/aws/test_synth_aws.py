"""The AWS team stacks hold the resources the spec asks for, with the values it asks for."""

from __future__ import annotations

import json

import pytest

from terraml.catalog import load_catalog


def blocks(stack: dict, rtype: str) -> list[dict]:
    return list(stack.get("resource", {}).get(rtype, {}).values())


def one(stack: dict, rtype: str, **match) -> dict:
    found = [b for b in blocks(stack, rtype) if all(b.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one {rtype} matching {match}, found {len(found)}"
    return found[0]


def statements(doc: str) -> list[dict]:
    return json.loads(doc)["Statement"]


def test_example_produces_one_stack_per_team_and_cloud(synth_dir):
    assert sorted(p.name for p in (synth_dir / "stacks").iterdir()) == ["nlp-azure", "nlp-gcp", "recsys-aws",
                                                                         "vision-aws"]


def test_auto_pool_is_a_spot_group_plus_an_on_demand_fallback(stacks):
    vision = stacks["vision-aws"]
    spot = one(vision, "aws_eks_node_group", node_group_name="acme-vision-prod-train-spot")
    fallback = one(vision, "aws_eks_node_group", node_group_name="acme-vision-prod-train-ondemand")
    assert spot["capacity_type"] == "SPOT" and fallback["capacity_type"] == "ON_DEMAND"
    assert spot["instance_types"] == fallback["instance_types"] == ["g5.2xlarge"]
    assert spot["scaling_config"] == {"min_size": 0, "max_size": 8, "desired_size": 0}
    assert fallback["scaling_config"]["min_size"] == 0
    # The autoscaler's priority expander tries groups named *-spot-* before *-ondemand-*.
    release = one(vision, "helm_release", name="cluster-autoscaler")
    values = json.loads(release["values"][0])
    assert values["extraArgs"]["expander"] == "priority"
    tiers = {int(k): v for k, v in values["expanderPriorities"].items()}
    spot_tier = next(p for p, regexes in tiers.items() if ".*-spot-.*" in regexes)
    demand_tier = next(p for p, regexes in tiers.items() if ".*-ondemand-.*" in regexes)
    assert spot_tier > demand_tier


def test_gpu_pools_are_tainted_labelled_and_scale_to_zero(stacks):
    for group in blocks(stacks["vision-aws"], "aws_eks_node_group"):
        if group["node_group_name"].endswith("-system"):
            assert "taint" not in group
            continue
        assert group["taint"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
        assert group["ami_type"] == "AL2023_x86_64_NVIDIA"
        assert group["labels"]["terraml.io/pool"] in ("train", "serve")
        assert group["lifecycle"]["ignore_changes"] == ["scaling_config[0].desired_size"]
        assert group["tags"]["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "1"


def test_accelerator_pool_gets_the_cheapest_fitting_type(stacks):
    serve = one(stacks["vision-aws"], "aws_eks_node_group", node_group_name="acme-vision-prod-serve-ondemand")
    l4_single = [r for r in load_catalog().vms if r.cloud == "aws" and r.region == "us-east-1"
                 and r.accelerator == "L4" and r.accelerator_count == 1 and r.on_demand_usd_per_hour]
    cheapest = min(l4_single, key=lambda r: r.on_demand_usd_per_hour)
    assert serve["instance_types"] == [cheapest.instance_type] == ["g6.xlarge"]
    assert serve["capacity_type"] == "ON_DEMAND"
    assert serve["scaling_config"] == {"min_size": 1, "max_size": 4, "desired_size": 1}


def test_spot_only_pool_has_no_on_demand_group(stacks):
    groups = [g for g in blocks(stacks["recsys-aws"], "aws_eks_node_group") if "-train-" in g["node_group_name"]]
    assert [(g["capacity_type"], g["instance_types"]) for g in groups] == [("SPOT", ["g4dn.xlarge"])]


def test_cluster_is_private_encrypted_and_logged(stacks):
    cluster = one(stacks["vision-aws"], "aws_eks_cluster", name="acme-vision-prod")
    assert cluster["vpc_config"]["endpoint_public_access"] is False
    assert cluster["vpc_config"]["endpoint_private_access"] is True
    assert cluster["encryption_config"]["resources"] == ["secrets"]
    assert set(cluster["enabled_cluster_log_types"]) == {"api", "audit", "authenticator", "controllerManager",
                                                         "scheduler"}
    assert cluster["version"] == "1.33"


def test_vpc_has_private_subnets_and_one_nat_per_zone(stacks):
    vision = stacks["vision-aws"]
    assert one(vision, "aws_vpc")["cidr_block"] == "10.20.0.0/16"
    subnets = blocks(vision, "aws_subnet")
    private = sorted(s["cidr_block"] for s in subnets if "internal-elb" in json.dumps(s["tags"]))
    assert private == ["10.20.0.0/18", "10.20.128.0/18", "10.20.64.0/18"]
    assert all(s["map_public_ip_on_launch"] is False for s in subnets)
    assert len(blocks(vision, "aws_nat_gateway")) == 3
    zones = sorted({s["availability_zone"] for s in subnets})
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]  # pinned by name, never from a lookup


def test_registry_is_immutable_scanned_and_encrypted(stacks):
    repo = one(stacks["vision-aws"], "aws_ecr_repository", name="acme/vision-prod")
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["encryption_configuration"][0]["encryption_type"] == "KMS"
    rules = json.loads(one(stacks["vision-aws"], "aws_ecr_lifecycle_policy")["policy"])["rules"]
    assert rules[0]["selection"]["countNumber"] == 200


def test_artifact_bucket_is_versioned_encrypted_private_and_expires_old_versions(stacks):
    vision = stacks["vision-aws"]
    assert one(vision, "aws_s3_bucket")["bucket"] == "acme-vision-prod-ml-artifacts-us-east-1"
    assert one(vision, "aws_s3_bucket_versioning")["versioning_configuration"] == {"status": "Enabled"}
    sse = one(vision, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    block = one(vision, "aws_s3_bucket_public_access_block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))
    rule = one(vision, "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]


def test_sagemaker_role_is_scoped_to_the_team(stacks):
    vision = stacks["vision-aws"]
    policy = one(vision, "aws_iam_role_policy", name="acme-vision-prod-sagemaker-execution-inline")
    bucket = "${aws_s3_bucket.artifacts_bucket_A41425E9.arn}"
    for st in statements(policy["policy"]):
        actions, resources = st["Action"], st["Resource"]
        assert not ("*" in resources and any(a == "*" or a.endswith(":*") for a in actions)), st
        if any(a.startswith("s3:") for a in actions):
            assert all(r in (bucket, f"{bucket}/*") for r in resources), st
        if any(a.startswith("kms:") for a in actions):
            assert resources == ["${aws_kms_key.kms_key_28C05A0F.arn}"]
        if "ecr:BatchGetImage" in actions:
            assert resources == ["${aws_ecr_repository.registry_repository_BAFE171E.arn}"]
        if resources == ["*"]:  # only actions IAM cannot scope to a resource
            assert set(actions) <= {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData",
                                    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                                    "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"}
    role = one(vision, "aws_iam_role", name="acme-vision-prod-sagemaker-execution")
    assert statements(role["assume_role_policy"])[0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_feature_group_has_online_and_offline_stores(stacks):
    group = one(stacks["vision-aws"], "aws_sagemaker_feature_group")
    assert group["feature_group_name"] == "acme-vision-prod-image-stats"
    assert group["record_identifier_feature_name"] == "image_id"
    assert group["event_time_feature_name"] == "ingested_at"
    assert {d["feature_name"]: d["feature_type"] for d in group["feature_definition"]} == {
        "image_id": "String", "ingested_at": "String", "width": "Integral", "height": "Integral",
        "mean_luma": "Fractional", "label": "String"}
    assert group["online_store_config"]["enable_online_store"] is True
    assert group["offline_store_config"]["s3_storage_config"]["s3_uri"] == \
        "s3://acme-vision-prod-ml-artifacts-us-east-1/feature-store"


def test_endpoint_survives_model_rollouts_and_autoscales(stacks):
    vision = stacks["vision-aws"]
    endpoint = one(vision, "aws_sagemaker_endpoint", name="acme-vision-prod-classifier")
    assert endpoint["lifecycle"]["ignore_changes"] == ["endpoint_config_name"]
    config = one(vision, "aws_sagemaker_endpoint_configuration")
    variant = config["production_variants"][0]
    assert (variant["instance_type"], variant["initial_instance_count"], variant["variant_name"]) == \
        ("ml.g5.xlarge", 1, "AllTraffic")
    target = one(vision, "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (1, 3)
    assert target["resource_id"] == "endpoint/acme-vision-prod-classifier/variant/AllTraffic"
    alarms = {a["alarm_name"] for a in blocks(vision, "aws_cloudwatch_metric_alarm")}
    assert alarms == {"acme-vision-prod-classifier-5xx", "acme-vision-prod-classifier-latency"}


def test_budget_filters_on_the_team_tag_and_alerts_owners(stacks):
    budget = one(stacks["vision-aws"], "aws_budgets_budget")
    assert budget["limit_amount"] == "20000.00" and budget["time_unit"] == "MONTHLY"
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": ["user:team$vision"]}]
    actual = sorted(n["threshold"] for n in budget["notification"] if n["notification_type"] == "ACTUAL")
    assert actual == [50, 80, 100]
    assert all(n["subscriber_email_addresses"] == ["vision-leads@acme.example"] for n in budget["notification"])
    recsys = one(stacks["recsys-aws"], "aws_budgets_budget")
    assert sorted(n["threshold"] for n in recsys["notification"] if n["notification_type"] == "ACTUAL") == [80, 100]


@pytest.mark.parametrize("stack,team,cost_center", [("vision-aws", "vision", "CC-1042"),
                                                    ("recsys-aws", "recsys", "CC-3311")])
def test_every_tagged_resource_has_the_mandatory_tags(stacks, stack, team, cost_center):
    expected = {"team": team, "cost-center": cost_center, "environment": "prod", "managed-by": "terraml"}
    tagged = 0
    for rtype, named in stacks[stack]["resource"].items():
        for block in named.values():
            if "tags" in block:
                tagged += 1
                assert expected.items() <= block["tags"].items(), rtype
    assert tagged > 30


def test_state_backend_comes_from_defaults(stacks):
    backend = stacks["recsys-aws"]["terraform"]["backend"]["s3"]
    assert backend == {"bucket": "acme-terraform-state", "region": "us-east-1", "encrypt": True,
                       "key": "terraml/acme/prod/recsys-aws.tfstate", "dynamodb_table": "acme-terraform-locks"}
    assert stacks["recsys-aws"]["provider"]["aws"] == [{"region": "us-west-2"}]


REF = __import__("re").compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")


@pytest.mark.parametrize("stack", ["vision-aws", "recsys-aws"])
def test_every_reference_points_at_a_block_in_the_stack(stacks, stack):
    """terraml computes Terraform names itself (no call into Node); each must be one cdktn wrote."""
    doc = stacks[stack]
    text = json.dumps({k: v for k, v in doc.items() if k != "//"})
    refs = {(bool(m.group(1)), m.group(2), m.group(3)) for m in REF.finditer(text)}
    assert len(refs) > 25
    for is_data, rtype, name in refs:
        section = doc["data"] if is_data else doc["resource"]
        assert name in section.get(rtype, {}), f"dangling reference {rtype}.{name}"


def test_state_without_a_lock_table_uses_the_s3_lockfile(tmp_path, example_spec):
    """S3 native locking needs Terraform/OpenTofu >= 1.10, the versions the stacks target (cdktn validates it)."""
    from terraml.synth import synth

    state = example_spec.platform.defaults.state
    aws = state.aws.model_copy(update={"lock_table": None})
    defaults = example_spec.platform.defaults.model_copy(update={"state": state.model_copy(update={"aws": aws})})
    platform = example_spec.platform.model_copy(update={"defaults": defaults})
    synth(platform, tmp_path / "out", team="recsys")
    backend = json.loads((tmp_path / "out" / "stacks" / "recsys-aws" / "cdk.tf.json").read_text())["terraform"]
    assert backend["backend"]["s3"]["use_lockfile"] is True and "dynamodb_table" not in backend["backend"]["s3"]


def test_endpoint_alarms_are_the_specs_rollout_thresholds(tmp_path, example_spec):
    """endpoints[].rollout means the same on SageMaker (its rollback alarms) as in terraml's watcher on Vertex
    and Azure ML: the error alarm is the 5XX share of invocations in percent, not a count of errors."""
    from terraml.spec.base import Rollout
    from terraml.synth import synth

    platform = example_spec.platform
    team = platform.team("vision")
    aws = team.clouds.aws
    endpoint = aws.endpoints[0].model_copy(update={"rollout": Rollout(max_error_percent=2.5, max_p99_latency_ms=800)})
    team = team.model_copy(update={"clouds": team.clouds.model_copy(update={
        "aws": aws.model_copy(update={"endpoints": [endpoint]})})})
    platform = platform.model_copy(update={"teams": [team]})
    synth(platform, tmp_path / "out", team="vision")
    stack = json.loads((tmp_path / "out" / "stacks" / "vision-aws" / "cdk.tf.json").read_text())
    errors = one(stack, "aws_cloudwatch_metric_alarm", alarm_name="acme-vision-prod-classifier-5xx")
    assert errors["threshold"] == 2.5 and errors["comparison_operator"] == "GreaterThanThreshold"
    rate = next(q for q in errors["metric_query"] if q.get("return_data"))
    assert rate["expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    assert {q["id"]: q["metric"]["metric_name"] for q in errors["metric_query"] if "metric" in q} == {
        "errors": "Invocation5XXErrors", "invocations": "Invocations"}
    latency = one(stack, "aws_cloudwatch_metric_alarm", alarm_name="acme-vision-prod-classifier-latency")
    assert latency["threshold"] == 800 * 1000  # ModelLatency is in microseconds


def test_a_canary_bake_longer_than_sagemaker_allows_is_a_spec_error(tmp_path):
    from terraml.errors import SpecError
    from terraml.spec import load_platform

    from ..conftest import EXAMPLE

    text = EXAMPLE.read_text().replace("            max_replicas: 3\n",
                                       "            max_replicas: 3\n            rollout: {bake_minutes: 90}\n", 1)
    (tmp_path / "platform.yaml").write_text(text)
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path / "platform.yaml")
    [problem] = [p for p in info.value.problems if p.path.endswith("rollout.bake_minutes")]
    assert problem.path == "teams[0].clouds.aws.endpoints[0].rollout.bake_minutes"
    assert "at most 60 minutes" in problem.message
