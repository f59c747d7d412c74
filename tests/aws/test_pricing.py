"""Estimates of the synthesized AWS example stacks against figures computed by hand from the price rows.

Price rows used (from terraml/data/pricing): EKS control plane $0.10/h; g6.xlarge us-east-1 on-demand
$0.8048; g5.2xlarge us-east-1 on-demand $1.212, spot $0.4896; NAT $0.045/h and $0.045/GB; S3 $0.023/GB;
ECR $0.10/GB; ml.g5.xlarge hosting $1.4084/h.
"""

from __future__ import annotations

from decimal import Decimal

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.model import Usage
from terraml.cost.tfjson import read_stacks

from ..conftest import H, lines, money


def test_eks_control_plane(example):
    [line] = lines(example, "vision-aws", "aws_eks_cluster")
    assert money(line) == (H * 0.10, H * 0.10) == (73.0, 73.0)


def test_on_demand_node_group_at_min_and_max(example):
    [line] = lines(example, "vision-aws", "aws_eks_node_group", contains="serve")
    assert money(line) == (round(1 * H * 0.8048, 4), round(4 * H * 0.8048, 4)) == (587.504, 2350.016)
    assert line.capacity == "on-demand" and "g6.xlarge ondemand" in line.price_ref


def test_auto_pool_costs_spot_up_to_all_nodes_on_on_demand(example):
    [spot] = lines(example, "vision-aws", "aws_eks_node_group", contains="train-spot")
    [fallback] = lines(example, "vision-aws", "aws_eks_node_group", contains="train-on-demand")
    assert money(spot) == (0.0, round(8 * H * 0.4896, 4)) == (0.0, 2859.264)
    assert money(fallback) == (0.0, round(8 * H * (1.212 - 0.4896), 4)) == (0.0, 4218.816)
    assert spot.monthly_max + fallback.monthly_max == Decimal(str(8 * H)) * Decimal("1.212")  # all on on-demand


def test_spot_only_pool(example):
    [line] = lines(example, "recsys-aws", "aws_eks_node_group", contains="train-spot")
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
