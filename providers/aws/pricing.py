"""AWS resource types, priced from the catalog; types AWS does not charge for are listed as free."""

from __future__ import annotations

from terraml.cost.model import Line
from terraml.cost.pricing import ResourceToPrice, free_because, no_price_row
from terraml.policy.capacity import POOL_LABEL

FREE = {
    **dict.fromkeys(
        ["aws_vpc", "aws_subnet", "aws_route_table", "aws_route", "aws_route_table_association",
         "aws_internet_gateway", "aws_default_security_group", "aws_security_group",
         "aws_security_group_rule"], "VPC networking objects carry no charge"),
    **dict.fromkeys(["aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy",
                     "aws_iam_openid_connect_provider"], "IAM carries no charge"),
    **dict.fromkeys(
        ["aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
         "aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy",
         "aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_notification"],
        "bucket configuration; the bucket line carries the storage"),
    "aws_kms_alias": "aliases carry no charge; the key does",
    "aws_ecr_lifecycle_policy": "registry configuration; the repository line carries the storage",
    "aws_launch_template": "launch templates carry no charge; the node group line carries the instances",
    "aws_eks_addon": "add-ons carry no charge; they run on the cluster's nodes",
    "aws_sagemaker_model": "models carry no charge; the endpoint line carries the instances",
    "aws_sagemaker_endpoint_configuration": "configurations carry no charge; the endpoint line carries the instances",
    "aws_appautoscaling_target": "Application Auto Scaling carries no charge",
    "aws_appautoscaling_policy": "Application Auto Scaling carries no charge",
}
# Charged by AWS, but the catalog has no price row for them yet: listed, never $0.
NO_PRICE_ROW = {
    "aws_kms_key": "KMS keys and requests",
    "aws_cloudwatch_log_group": "CloudWatch Logs ingestion and storage",
    "aws_flow_log": "flow logs, billed as CloudWatch Logs ingestion",
    "aws_eip": "public IPv4 addresses",
    "aws_cloudwatch_metric_alarm": "CloudWatch alarms",
    "aws_budgets_budget": "AWS Budgets beyond the free ones",
}


def eks_cluster(r: ResourceToPrice) -> list[Line]:
    return r.fee("aws.eks.control_plane", "control plane", r.usage.hours_per_month, "cluster-hours",
                 "standard support; extended-support versions cost more (aws.eks.control_plane_extended)")


def _scaling(block: dict) -> dict:
    scaling = block.get("scaling_config") or {}
    return (scaling[0] if scaling else {}) if isinstance(scaling, list) else scaling


def _spot_sibling(r: ResourceToPrice) -> dict | None:
    """The spot group an on-demand group backs up: an `auto` pool's two groups carry the same pool label
    (terraml.policy.capacity), whatever their names."""
    pool = (r.block.get("labels") or {}).get(POOL_LABEL)
    if not pool or r.block.get("capacity_type") == "SPOT":
        return None
    spot_groups = r.stack.memo("aws.spot_groups", lambda: {
        (b.get("cluster_name"), (b.get("labels") or {}).get(POOL_LABEL)): b
        for b in r.stack.of_type("aws_eks_node_group").values() if b.get("capacity_type") == "SPOT"})
    return spot_groups.get((r.block.get("cluster_name"), pool))


def eks_node_group(r: ResourceToPrice) -> list[Line]:
    types = r.block.get("instance_types") or []
    scaling = _scaling(r.block)
    if not types:
        return r.unpriced("no instance_types (set in a launch template terraml cannot see)", "nodes")
    spot = r.block.get("capacity_type") == "SPOT"
    note = "node disks (EBS) not priced: no EBS row in the catalog"
    if len(types) > 1:
        note += f"; {len(types)} instance types, priced as the first ({types[0]})"
    sibling = _spot_sibling(r)
    if sibling is None:
        return r.nodes("nodes", types[0], scaling.get("min_size", 0), scaling.get("max_size", 0), spot, note)
    # The on-demand half of a spot/on-demand pair runs only when spot cannot: its line is the extra cost of
    # nodes falling back, so the pair together costs at most max_size nodes on on-demand.
    row = r.catalog.vm("aws", r.region, types[0])
    spot_types = sibling.get("instance_types") or []
    if row is None or row.on_demand_usd_per_hour is None or spot_types != types:
        return r.nodes("nodes", types[0], scaling.get("min_size", 0), scaling.get("max_size", 0), spot, note)
    spot_price = row.spot_usd_per_hour if row.spot_usd_per_hour is not None else row.on_demand_usd_per_hour
    extra = round(row.on_demand_usd_per_hour - spot_price, 6)
    pair_max = _scaling(sibling).get("max_size", 0)
    return [r.hourly("on-demand fallback (extra over spot)", 0, pair_max, extra,
                     f"vm_prices.csv aws {r.region} {types[0]} ondemand - spot", row.source, row.as_of, "on-demand",
                     f"runs only when the spot group cannot; min: none fall back, max: all {pair_max} nodes at "
                     f"${row.on_demand_usd_per_hour:g} instead of ${spot_price:g}; {note}")]


def nat_gateway(r: ResourceToPrice) -> list[Line]:
    gb = r.usage.for_resource(r.usage_key, "data_gb", r.usage.nat_data_gb)
    return (r.fee("aws.nat.hour", "gateway hours", r.usage.hours_per_month, "gateway-hours")
            + r.fee("aws.nat.gb", "data processed", gb, "GB", f"assumes {gb:g} GB/month (usage: nat_data_gb)"))


def s3_bucket(r: ResourceToPrice) -> list[Line]:
    return r.storage("aws.s3.standard_storage", "storage", "bucket_storage_gb", "in S3 Standard",
                     "requests not priced")


def ecr_repository(r: ResourceToPrice) -> list[Line]:
    return r.storage("aws.ecr.storage", "image storage", "registry_storage_gb", "of images")


def vpc_endpoint(r: ResourceToPrice) -> list[Line]:
    if (r.block.get("vpc_endpoint_type") or "Gateway") == "Gateway":
        return r.free("gateway endpoints (S3, DynamoDB) carry no charge")
    return r.unpriced("interface endpoints are charged per hour and GB; no price row in the catalog")


def _autoscaling_range(r: ResourceToPrice, endpoint_name: str) -> tuple[int, int] | None:
    targets = r.stack.memo("aws.endpoint_scaling", lambda: {
        str(b.get("resource_id", "")).split("/")[1]: (b.get("min_capacity", 1), b.get("max_capacity", 1))
        for b in r.stack.of_type("aws_appautoscaling_target").values()
        if str(b.get("resource_id", "")).startswith("endpoint/")})
    return targets.get(endpoint_name)


def sagemaker_endpoint(r: ResourceToPrice) -> list[Line]:
    found = r.stack.resolve(r.block.get("endpoint_config_name"))
    if found is None:
        return r.unpriced("its endpoint configuration is not in this stack", "instances")
    variants = found[2].get("production_variants") or []
    lines = []
    for variant in variants if isinstance(variants, list) else [variants]:
        instance = variant.get("instance_type")
        if not instance:
            lines += r.unpriced("serverless variant: priced per request, not by terraml", "instances")
            continue
        count = variant.get("initial_instance_count", 1)
        low, high = _autoscaling_range(r, r.block.get("name", "")) or (count, count)
        row = r.catalog.managed_row("aws", r.region, instance, "real-time inference")
        if row is None:
            lines += r.unpriced(f"no SageMaker hosting price for {instance} in {r.region}", "instances")
            continue
        lines.append(r.hourly(f"instances ({variant.get('variant_name', 'variant')})", low, high, row.usd_per_hour,
                              f"managed_ml_prices.csv aws {r.region} {instance} hosting", row.source, row.as_of,
                              "on-demand", "replicas from the endpoint's autoscaling target",
                              unit="instance-hours"))
    return lines


def sagemaker_feature_group(r: ResourceToPrice) -> list[Line]:
    return r.unpriced("SageMaker Feature Store paid read/write units and storage are not in the catalog "
                      "(only the first two months' free tier); the offline store is part of the bucket's storage")


PRICERS = {
    "aws_eks_cluster": eks_cluster,
    "aws_eks_node_group": eks_node_group,
    "aws_nat_gateway": nat_gateway,
    "aws_s3_bucket": s3_bucket,
    "aws_ecr_repository": ecr_repository,
    "aws_vpc_endpoint": vpc_endpoint,
    "aws_sagemaker_endpoint": sagemaker_endpoint,
    "aws_sagemaker_feature_group": sagemaker_feature_group,
    **{t: free_because(why) for t, why in FREE.items()},
    **{t: no_price_row(what) for t, what in NO_PRICE_ROW.items()},
}
