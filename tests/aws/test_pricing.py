"""Estimates of the synthesized AWS example stacks against figures computed by hand from the price rows.

Price rows used (from terraml/data/pricing): EKS control plane $0.10/h standard support, $0.60/h extended
support (fixed_fees.csv); Kubernetes 1.33 standard support ends 2026-07-29, extended 2027-07-29 and 1.29's
extended support ends 2026-03-23 (eks_versions.csv); g6.xlarge us-east-1 on-demand $0.8048; g5.2xlarge
us-east-1 on-demand $1.212, spot $0.4896; NAT $0.045/h and $0.045/GB; S3 $0.023/GB; ECR $0.10/GB;
ml.g5.xlarge hosting $1.4084/h; p5.48xlarge us-east-1 on-demand $55.04 (vm_prices.csv).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from terraml.catalog import Catalog, FixedFee, load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.model import FREE, UNPRICED, Usage
from terraml.cost.tfjson import read_stacks

from ..conftest import H, lines, money, write_stack

DAY = date(2026, 11, 30)  # "today" for every date-dependent price in these tests


def with_fees(usd: dict[str, float]) -> Catalog:
    """The shipped catalog plus TEST-ONLY fee rows (key -> $), for keys that have no sourced row yet: they test
    the arithmetic, they are not prices."""
    base = load_catalog()
    fees = [*base.fees.values(), *(FixedFee(k, "aws", "test row", "test", v, "all regions",
                                            "test fixture, not a price", "test") for k, v in usd.items())]
    return Catalog(base.vms, base.managed, fees, list(base.eks_versions.values()))


@pytest.mark.parametrize("day,price,tier", [
    (date(2026, 7, 28), 0.10, "standard support"),  # the day before 1.33's standard_support_end
    (date(2026, 7, 29), 0.60, "extended support"),  # extended-support billing starts 00:00 UTC that day
    (DAY, 0.60, "extended support"),
])
def test_eks_control_plane_by_the_pinned_versions_support_tier(synth_dir, day, price, tier):
    est = estimate(read_stacks(synth_dir), load_catalog(), today=day)
    [line] = lines(est, "vision-aws", "aws_eks_cluster")
    assert money(line) == (round(H * price, 4), round(H * price, 4))  # 730 h x $0.10 = 73.0; x $0.60 = 438.0
    assert f"Kubernetes 1.33 on {day}: {tier}" in line.assumption and "2026-07-29" in line.assumption
    key = "aws.eks.control_plane_extended" if price == 0.60 else "aws.eks.control_plane"
    assert line.price_ref == f"fixed_fees.csv {key}"


def test_eks_control_plane_for_versions_past_or_outside_the_table(tmp_path):
    old = write_stack(tmp_path, "a-aws", {"aws_eks_cluster": {"c": {"version": "1.29"}}})
    unknown = write_stack(tmp_path, "b-aws", {"aws_eks_cluster": {"c": {"version": "1.27"}}})
    unpinned = write_stack(tmp_path, "c-aws", {"aws_eks_cluster": {"c": {}}})
    got = {x.stack: x for x in estimate([old, unknown, unpinned], load_catalog(), today=DAY).lines}
    assert money(got["a-aws"]) == (H * 0.60, H * 0.60)  # 1.29's extended support ended 2026-03-23
    assert "past the end of extended support" in got["a-aws"].assumption
    assert money(got["b-aws"]) == (H * 0.10, H * 0.10)
    assert "1.27 is not in eks_versions.csv" in got["b-aws"].assumption and "$0.6/h" in got["b-aws"].assumption
    assert money(got["c-aws"]) == (H * 0.10, H * 0.10) and "no version pinned" in got["c-aws"].assumption


def test_on_demand_node_group_at_min_and_max(example):
    [line] = lines(example, "vision-aws", "aws_eks_node_group", "nodes", contains="serve")
    assert money(line) == (round(1 * H * 0.8048, 4), round(4 * H * 0.8048, 4)) == (587.504, 2350.016)
    assert line.capacity == "on-demand" and "g6.xlarge ondemand" in line.price_ref


def test_auto_pool_max_counts_both_groups_at_max(example):
    """An auto pool is a spot group and an on-demand fallback group, each with max_size = max_nodes (8): the
    autoscaler can run both at max at once, so the pool's max is 8 spot + 8 on-demand nodes."""
    [spot] = lines(example, "vision-aws", "aws_eks_node_group", "nodes", contains="train-spot")
    [fallback] = lines(example, "vision-aws", "aws_eks_node_group", "nodes", contains="train-on-demand")
    assert money(spot) == (0.0, round(8 * H * 0.4896, 4)) == (0.0, 2859.264)
    assert money(fallback) == (0.0, round(8 * H * 1.212, 4)) == (0.0, 7078.08)
    assert spot.monthly_max + fallback.monthly_max == Decimal("2859.264") + Decimal("7078.08")  # 9937.344
    assert (spot.capacity, fallback.capacity) == ("spot", "on-demand")
    assert "both groups can be at max at once" in fallback.assumption and "8 spot + 8 on-demand" in fallback.assumption
    assert "auto pool 'train'" in spot.assumption


def test_node_disks_from_the_launch_templates(example, synth_dir):
    # The shipped catalog has no EBS gp3 row: the disks are listed as unpriced, never $0.
    [disk] = lines(example, "vision-aws", "aws_eks_node_group", "node disks (EBS gp3)", contains="train-spot")
    assert disk.status == UNPRICED and "no 'aws.ebs.gp3' row in fixed_fees.csv" in disk.reason
    [system] = lines(example, "vision-aws", "aws_eks_node_group", "node disks (EBS)", contains="system")
    assert system.status == UNPRICED and "no launch template" in system.reason
    # With a (test-only) $0.5/GB-month row: the launch template maps one 200 GB gp3 volume per node.
    est = estimate(read_stacks(synth_dir), with_fees({"aws.ebs.gp3": 0.5}), today=DAY)
    [serve] = lines(est, "vision-aws", "aws_eks_node_group", "node disks (EBS gp3)", contains="serve")
    assert money(serve) == (1 * 200 * 0.5, 4 * 200 * 0.5) == (100.0, 400.0)  # serve pool: 1-4 nodes
    [train] = lines(est, "vision-aws", "aws_eks_node_group", "node disks (EBS gp3)", contains="train-on-demand")
    assert money(train) == (0.0, 8 * 200 * 0.5) and train.unit == "GB-months"


def test_shipped_rows_price_public_ipv4_kms_keys_and_log_ingestion(example):
    """Shipped rows (fixed_fees.csv): public IPv4 $0.005 per address-hour, KMS $1.00 per key-month, CloudWatch
    Logs ingestion $0.50 per GB."""
    eips = lines(example, "vision-aws", "aws_eip")
    assert len(eips) == 3 and all(money(x) == (3.65, 3.65) for x in eips)  # 730 h x 0.005, one per NAT gateway
    assert money(lines(example, "vision-aws", "aws_kms_key")[0]) == (1.0, 1.0)
    ingest = lines(example, "vision-aws", "aws_cloudwatch_log_group", "log ingestion", contains="eks_logs")[0]
    assert money(ingest) == (5.0, 5.0)  # default log_ingest_gb 10 x 0.50


def test_alarms_and_log_storage_are_unpriced_until_a_sourced_row_exists(example):
    for rtype, component, key in (("aws_cloudwatch_metric_alarm", "alarm", "aws.cloudwatch.alarm"),
                                  ("aws_cloudwatch_log_group", "log storage", "aws.logs.storage")):
        for line in lines(example, "vision-aws", rtype, component):
            assert line.status == UNPRICED and f"no '{key}' row in fixed_fees.csv" in line.reason


def test_ips_keys_alarms_and_logs_with_rows(synth_dir):
    """TEST-ONLY rows ($0.005/h per IPv4, $1 per key-month, $0.10 per alarm-month, $0.50/GB ingested,
    $0.03/GB-month stored) check the quantities, not AWS's prices."""
    catalog = with_fees({"aws.vpc.public_ipv4": 0.005, "aws.kms.key": 1.0, "aws.cloudwatch.alarm": 0.10,
                         "aws.logs.ingest": 0.50, "aws.logs.storage": 0.03})
    est = estimate(read_stacks(synth_dir), catalog, today=DAY)
    eips = lines(est, "vision-aws", "aws_eip")
    assert len(eips) == 3 and all(money(x) == (round(H * 0.005, 4),) * 2 for x in eips)  # 3.65 each
    assert money(lines(est, "vision-aws", "aws_kms_key")[0]) == (1.0, 1.0)
    assert [money(x) for x in lines(est, "vision-aws", "aws_cloudwatch_metric_alarm")] == [(0.1, 0.1)] * 2
    ingest = lines(est, "vision-aws", "aws_cloudwatch_log_group", "log ingestion", contains="eks_logs")[0]
    stored = lines(est, "vision-aws", "aws_cloudwatch_log_group", "log storage", contains="eks_logs")[0]
    assert money(ingest) == (10 * 0.50, 10 * 0.50)  # default log_ingest_gb 10
    # retention 365 days = 365 x 24 / 730 = 12 months of 10 GB kept = 120 GB x $0.03
    assert money(stored) == (round(120 * 0.03, 4),) * 2 == (3.6, 3.6)
    address = f"vision-aws:{ingest.address}"
    usage = Usage(overrides={address: {"ingest_gb": 2, "storage_gb": 50}})
    again = estimate(read_stacks(synth_dir), catalog, usage, today=DAY)
    parts = {x.component: money(x) for x in lines(again, "vision-aws", "aws_cloudwatch_log_group",
                                                  contains="eks_logs")}
    assert parts == {"log ingestion": (1.0, 1.0), "log storage": (1.5, 1.5)}  # 2 x 0.50, 50 x 0.03


def test_budgets_are_free_and_say_why(example):
    [budget] = lines(example, "vision-aws", "aws_budgets_budget")
    assert budget.status == FREE and "first two action-free budgets per account are free" in budget.reason


def test_sagemaker_p4d_p5_hosting_rows_are_post_cut():
    """SOURCES.md section 14: SageMaker p4d/p5 = EC2 x 1.15 after the 2025 cut (21.95764 x 1.15, 55.04 x 1.15)."""
    catalog = load_catalog()
    for instance, ec2, before_cut in (("p4d.24xlarge", 21.957642, 37.688), ("p5.48xlarge", 55.04, 113.068)):
        assert catalog.vm("aws", "us-east-1", instance).on_demand_usd_per_hour == ec2
        row = catalog.managed_row("aws", "us-east-1", f"ml.{instance}", "real-time inference")
        assert row.usd_per_hour == pytest.approx(ec2 * 1.15, abs=1e-5)  # 25.251286 and 63.296
        assert row.usd_per_hour < before_cut and "2026-09-01" in row.as_of


def test_spot_only_pool(example):
    [line] = lines(example, "recsys-aws", "aws_eks_node_group", "nodes", contains="train-spot")
    assert money(line) == (0.0, round(4 * H * 0.2155, 4)) and line.capacity == "spot"


def test_nat_gateway_hours_and_data(example):
    parts = {x.component: money(x) for x in lines(example, "vision-aws", "aws_nat_gateway", contains="nat-0")}
    assert parts == {"gateway hours": (32.85, 32.85), "data processed": (4.5, 4.5)}  # 730 x .045, 100 GB x .045
    assert len(lines(example, "vision-aws", "aws_nat_gateway", "gateway hours")) == 3  # one per zone


def test_storage_from_usage_assumptions(example, synth_dir):
    [s3] = lines(example, "vision-aws", "aws_s3_bucket")
    [ecr] = lines(example, "vision-aws", "aws_ecr_repository")
    assert money(s3) == (11.5, 11.5) and money(ecr) == (5.0, 5.0)  # 500 GB x .023, 50 GB x .10
    usage = Usage(bucket_storage_gb=2000, overrides={f"vision-aws:{ecr.address}": {"storage_gb": 10}})
    again = estimate(read_stacks(synth_dir), load_catalog(), usage)
    assert money(lines(again, "vision-aws", "aws_s3_bucket")[0]) == (46.0, 46.0)
    assert money(lines(again, "vision-aws", "aws_ecr_repository")[0]) == (1.0, 1.0)
    assert money(lines(again, "recsys-aws", "aws_ecr_repository")[0]) == (5.0, 5.0)


def test_endpoint_at_min_and_max_replicas(example):
    [line] = lines(example, "vision-aws", "aws_sagemaker_endpoint")
    assert money(line) == (round(1 * H * 1.4084, 4), round(3 * H * 1.4084, 4))
    assert "hosting" in line.price_ref
