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
    "aws_flow_log": "flow logs, billed as CloudWatch Logs ingestion (vended-log rates) on the destination group",
}
BUDGETS_FREE = ("AWS Budgets: the first two action-free budgets per account are free; this one has no budget "
                "actions. A third budget in the same account, or one with actions, is charged (no price row)")
EKS_DEFAULT_DISK = "EKS's default node disk (no launch template: size and volume type are not in the stack)"


def eks_cluster(r: ResourceToPrice) -> list[Line]:
    """The control plane fee of the cluster's pinned Kubernetes version on ``r.today``: standard support, or
    extended support from its standard_support_end (eks_versions.csv)."""
    hours, unit = r.usage.hours_per_month, "cluster-hours"
    version = r.block.get("version")
    if not version:
        return r.fee("aws.eks.control_plane", "control plane", hours, unit,
                     "no version pinned: EKS creates the cluster on its default version, in standard support")
    version = f"{version:.2f}" if isinstance(version, float) else str(version)  # 1.30 in JSON is the float 1.3
    row = r.catalog.eks_version(version)
    extended = r.catalog.fee("aws.eks.control_plane_extended")
    ext_price = f"${extended.usd:g}/h" if extended else "the extended-support fee"
    if row is None:
        return r.fee("aws.eks.control_plane", "control plane", hours, unit,
                     f"Kubernetes {version} is not in eks_versions.csv: support tier unknown, priced as standard "
                     f"support; in extended support it would be {ext_price} (aws.eks.control_plane_extended)")
    tier = row.tier(r.today)
    dates = (f"standard support ends {row.standard_support_end}, extended {row.extended_support_end} "
             f"(eks_versions.csv, as of {row.as_of})")
    if tier == "standard":
        return r.fee("aws.eks.control_plane", "control plane", hours, unit,
                     f"Kubernetes {version} on {r.today}: standard support; {dates}; from "
                     f"{row.standard_support_end} the fee is {ext_price}")
    newer = r.catalog.eks_newest_standard(r.today)
    fix = (f"; pin {newer.version} (standard support until {newer.standard_support_end}) to pay the standard fee"
           if newer else "")
    if tier == "extended":
        note = f"Kubernetes {version} on {r.today}: extended support; {dates}{fix}"
    else:
        note = (f"Kubernetes {version} on {r.today}: past the end of extended support ({dates}); AWS upgrades "
                f"the control plane itself, priced at the extended-support fee{fix}")
    return r.fee("aws.eks.control_plane_extended", "control plane", hours, unit, note)


def _scaling(block: dict) -> dict:
    scaling = block.get("scaling_config") or {}
    return (scaling[0] if scaling else {}) if isinstance(scaling, list) else scaling


def _first(value) -> dict:
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value if isinstance(value, dict) else {}


def _pool_groups(r: ResourceToPrice) -> dict:
    """(cluster, pool label, capacity type) -> node group block: an `auto` pool's two groups carry the same pool
    label (terraml.policy.capacity), whatever their names."""
    return r.stack.memo("aws.pool_groups", lambda: {
        (b.get("cluster_name"), (b.get("labels") or {}).get(POOL_LABEL), b.get("capacity_type") or "ON_DEMAND"): b
        for b in r.stack.of_type("aws_eks_node_group").values() if (b.get("labels") or {}).get(POOL_LABEL)})


def _sibling(r: ResourceToPrice) -> dict | None:
    """The other group of this group's `auto` pair (spot <-> on-demand fallback), if there is one."""
    pool = (r.block.get("labels") or {}).get(POOL_LABEL)
    if not pool:
        return None
    other = "ON_DEMAND" if r.block.get("capacity_type") == "SPOT" else "SPOT"
    return _pool_groups(r).get((r.block.get("cluster_name"), pool, other))


def _node_disks(r: ResourceToPrice, count_min: float, count_max: float) -> list[Line]:
    """The EBS volumes of the group's launch template, per node, at the group's min and max size."""
    ref = _first(r.block.get("launch_template"))
    found = r.stack.resolve(ref.get("id") or ref.get("name")) if ref else None
    if found is None or found[0] != "aws_launch_template":
        why = ("its launch template is not in this stack" if ref else EKS_DEFAULT_DISK)
        return r.unpriced(f"node disks: {why}", "node disks (EBS)")
    sizes: dict[str, float] = {}
    for mapping in found[2].get("block_device_mappings") or []:
        ebs = _first(mapping.get("ebs"))
        if ebs:
            kind = str(ebs.get("volume_type") or "unset")
            sizes[kind] = sizes.get(kind, 0) + float(ebs.get("volume_size") or 0)
    if not sizes:
        return r.unpriced("node disks: the launch template maps no EBS volume (the AMI's own disk is not in "
                          "the stack)", "node disks (EBS)")
    lines = []
    for kind, gb in sorted(sizes.items()):
        if kind != "gp3":
            lines += r.unpriced(f"node disks: {kind} EBS volumes have no price row (only gp3)", f"node disks ({kind})")
            continue
        lines += r.fee("aws.ebs.gp3", "node disks (EBS gp3)", gb * count_min, "GB-months",
                       f"{gb:g} GB gp3 per node (launch template {found[1]}) x {count_min:g}-{count_max:g} nodes; "
                       "baseline 3,000 IOPS and 125 MB/s included", quantity_max=gb * count_max,
                       what="EBS gp3 storage, per GB-month")
    return lines


def eks_node_group(r: ResourceToPrice) -> list[Line]:
    types = r.block.get("instance_types") or []
    scaling = _scaling(r.block)
    low, high = scaling.get("min_size", 0), scaling.get("max_size", 0)
    if not types:
        return r.unpriced("no instance_types (set in a launch template terraml cannot see)", "nodes")
    spot = r.block.get("capacity_type") == "SPOT"
    notes = [f"{len(types)} instance types, priced as the first ({types[0]})"] if len(types) > 1 else []
    sibling = _sibling(r)
    if sibling is not None:
        pool = (r.block.get("labels") or {}).get(POOL_LABEL)
        other_max = _scaling(sibling).get("max_size", 0)
        if spot:
            notes.append(f"spot group of auto pool '{pool}'; its on-demand fallback group (max {other_max}) is its "
                         "own line")
        else:
            notes.append(f"on-demand fallback of auto pool '{pool}': runs when the spot group cannot get "
                         f"capacity; both groups can be at max at once, so the pool's max counts {other_max} spot "
                         f"+ {high} on-demand nodes")
    return r.nodes("nodes", types[0], low, high, spot, "; ".join(notes)) + _node_disks(r, low, high)


def eip(r: ResourceToPrice) -> list[Line]:
    return r.fee("aws.vpc.public_ipv4", "public IPv4 address", r.usage.hours_per_month, "address-hours",
                 "AWS charges every public IPv4 address per hour, attached or idle",
                 what="public IPv4 address, per hour")


def kms_key(r: ResourceToPrice) -> list[Line]:
    return r.fee("aws.kms.key", "key", 1, "key-months", "requests (encrypt, decrypt, data keys) not priced",
                 what="KMS customer managed key, per key-month")


def metric_alarm(r: ResourceToPrice) -> list[Line]:
    period = r.block.get("period")
    note = ("high-resolution alarm (period under 60 s) priced at the standard rate; AWS charges more"
            if isinstance(period, int | float) and period < 60 else "standard-resolution metric alarm")
    return r.fee("aws.cloudwatch.alarm", "alarm", 1, "alarm-months", note,
                 what="CloudWatch standard-resolution alarm, per alarm-month")


def log_group(r: ResourceToPrice) -> list[Line]:
    """Ingestion per GB and storage per GB-month, from the usage assumptions (or this group's overrides)."""
    ingest = r.usage.for_resource(r.usage_key, "ingest_gb", r.usage.log_ingest_gb)
    retention = r.block.get("retention_in_days")
    if r.usage.log_storage_gb is not None:
        default, how = r.usage.log_storage_gb, "usage: log_storage_gb"
    elif isinstance(retention, int | float) and retention > 0:
        months = retention * 24 / r.usage.hours_per_month
        default, how = ingest * months, f"{ingest:g} GB/month x {retention:g}-day retention ({months:.3g} months)"
    else:
        default, how = ingest * 12, f"never expires: counted at 12 months of {ingest:g} GB"
    stored = r.usage.for_resource(r.usage_key, "storage_gb", default)
    if stored != default:
        how = "usage override storage_gb"
    return (r.fee("aws.logs.ingest", "log ingestion", ingest, "GB",
                  f"assumes {ingest:g} GB/month (usage: log_ingest_gb, or overrides ingest_gb)",
                  what="CloudWatch Logs standard ingestion, per GB")
            + r.fee("aws.logs.storage", "log storage", stored, "GB-months",
                    f"assumes {stored:g} GB kept ({how}); upper bound: CloudWatch bills the compressed size",
                    what="CloudWatch Logs storage, per GB-month"))


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
    "aws_eip": eip,
    "aws_kms_key": kms_key,
    "aws_cloudwatch_metric_alarm": metric_alarm,
    "aws_cloudwatch_log_group": log_group,
    "aws_budgets_budget": free_because(BUDGETS_FREE),
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
