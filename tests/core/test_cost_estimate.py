"""Each priced resource type against figures computed by hand from the price rows.

Price rows used (from terraml/data/pricing): EKS control plane $0.10/h; g6.xlarge us-east-1 on-demand
$0.8048; g5.2xlarge us-east-1 on-demand $1.212, spot $0.4896; NAT $0.045/h and $0.045/GB; S3 $0.023/GB;
ECR $0.10/GB; ml.g5.xlarge hosting $1.4084/h; a2-ultragpu-8g us-central1 spot $21.90048; n1-standard-8
us-central1; Standard_NC24ads_A100_v4 eastus on-demand $3.673, spot $0.444433; ACR Basic $0.167/day.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.model import FREE, PRICED, UNPRICED, Usage
from terraml.cost.tfjson import read_stack_file, read_stacks
from terraml.errors import UserError

H = 730


@pytest.fixture(scope="module")
def example(synth_dir):
    return estimate(read_stacks(synth_dir), load_catalog())


def lines(est, stack, rtype, component=None, contains=""):
    found = [x for x in est.lines if x.stack == stack and x.resource_type == rtype and contains in x.address
             and (component is None or x.component == component)]
    assert found, f"no {rtype} {component} in {stack}"
    return found


def money(line):
    return round(float(line.monthly_min), 4), round(float(line.monthly_max), 4)


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


def test_every_line_is_priced_free_or_unpriced_with_a_reason(example):
    for line in example.lines:
        assert line.status in (PRICED, FREE, UNPRICED)
        if line.status == PRICED:
            assert line.price_ref and line.as_of and line.unit_price is not None
        else:
            assert line.reason and line.monthly_max == 0
    unpriced = {x.resource_type for x in example.lines if x.status == UNPRICED}
    assert {"aws_kms_key", "aws_sagemaker_feature_group", "aws_eip"} <= unpriced


def test_every_synthesized_resource_has_a_line(example, stacks):
    addresses = {(name, f"{t}.{n}") for name, doc in stacks.items() for t, named in doc["resource"].items()
                 for n in named}
    assert addresses == {(x.stack, x.address) for x in example.lines}


def stack(tmp_path, name, resources, provider=None):
    doc = {"resource": resources, "provider": provider or {}}
    path = tmp_path / f"{name}.tf.json"
    path.write_text(json.dumps(doc))
    return read_stack_file(path, name)


def test_gke_spot_pool_and_attached_gpus(tmp_path):
    s = stack(tmp_path, "nlp-gcp", {
        "google_container_cluster": {"c": {"name": "c", "location": "us-central1"}},
        "google_container_node_pool": {
            "a100": {"location": "us-central1", "node_locations": ["us-central1-a"],
                     "autoscaling": [{"min_node_count": 0, "max_node_count": 2}],
                     "node_config": [{"machine_type": "a2-ultragpu-8g", "spot": True}]},
            "t4": {"location": "us-central1-a", "node_count": 1,
                   "node_config": {"machine_type": "n1-standard-8",
                                   "guest_accelerator": [{"type": "nvidia-tesla-t4", "count": 1}]}}}})
    est = estimate([s], load_catalog())
    catalog = load_catalog()
    [fee] = lines(est, "nlp-gcp", "google_container_cluster")
    assert money(fee) == (73.0, 73.0)
    [a100] = lines(est, "nlp-gcp", "google_container_node_pool", contains="a100")
    assert money(a100) == (0.0, round(2 * H * 21.90048, 4)) and a100.capacity == "spot"
    host = catalog.vm("gcp", "us-central1", "n1-standard-8").on_demand_usd_per_hour
    gpu = catalog.attached_gpus("gcp", "us-central1", "T4", 1).on_demand_usd_per_hour
    parts = {x.component: money(x) for x in lines(est, "nlp-gcp", "google_container_node_pool", contains="t4")}
    assert parts == {"nodes": (round(H * host, 4),) * 2, "attached GPUs": (round(H * gpu, 4),) * 2}


def test_aks_spot_pool_is_priced_at_spot_not_on_demand(tmp_path):
    s = stack(tmp_path, "nlp-azure", {
        "azurerm_kubernetes_cluster": {"aks": {"location": "eastus", "sku_tier": "Standard",
                                               "default_node_pool": [{"vm_size": "Standard_D4s_v5",
                                                                      "node_count": 2}]}},
        "azurerm_kubernetes_cluster_node_pool": {
            "finetune": {"kubernetes_cluster_id": "${azurerm_kubernetes_cluster.aks.id}",
                         "vm_size": "Standard_NC24ads_A100_v4", "priority": "Spot", "spot_max_price": -1,
                         "auto_scaling_enabled": True, "min_count": 0, "max_count": 2},
            "capped": {"kubernetes_cluster_id": "${azurerm_kubernetes_cluster.aks.id}",
                       "vm_size": "Standard_NC24ads_A100_v4", "priority": "Spot", "spot_max_price": 0.3,
                       "node_count": 1}},
        "azurerm_container_registry": {"acr": {"location": "eastus", "sku": "Basic"}}})
    est = estimate([s], load_catalog(), Usage(registry_storage_gb=10))
    [spot] = lines(est, "nlp-azure", "azurerm_kubernetes_cluster_node_pool", contains="finetune")
    assert money(spot) == (0.0, round(2 * H * 0.444433, 4)) and spot.capacity == "spot"
    [capped] = lines(est, "nlp-azure", "azurerm_kubernetes_cluster_node_pool", contains="capped")
    assert money(capped) == (round(H * 0.3, 4),) * 2 and "max spot price" in capped.assumption
    parts = {x.component: money(x) for x in lines(est, "nlp-azure", "azurerm_kubernetes_cluster")}
    d4 = load_catalog().vm("azure", "eastus", "Standard_D4s_v5").on_demand_usd_per_hour
    assert parts == {"control plane (Standard tier)": (73.0, 73.0),
                     "default node pool": (round(2 * H * d4, 4),) * 2}
    [acr] = lines(est, "nlp-azure", "azurerm_container_registry")
    assert money(acr) == (round(H / 24 * 0.167, 4),) * 2


def test_unknown_resource_type_is_reported_not_fatal(tmp_path):
    s = stack(tmp_path, "x-aws", {"aws_mystery_thing": {"m": {}}, "helm_release": {"h": {}}})
    est = estimate([s], load_catalog())
    by_type = {x.resource_type: x for x in est.lines}
    assert by_type["aws_mystery_thing"].status == UNPRICED
    assert "no pricer for aws_mystery_thing" in by_type["aws_mystery_thing"].reason
    assert by_type["helm_release"].status == FREE


@pytest.mark.parametrize("content,message", [
    ("{not json", "not Terraform JSON: invalid JSON at line 1"),
    ("[1, 2]", "not Terraform JSON: the top level must be an object, got list"),
    ('{"resources": {}}', "not Terraform JSON: unexpected top-level key 'resources'"),
    ('{"resource": {"aws_s3_bucket": [1]}}', "'resource' must map resource types to named blocks"),
])
def test_bad_stack_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "stacks" / "bad" / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(UserError) as info:
        read_stacks(tmp_path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_unknown_region_names_the_file_and_field(tmp_path):
    s = stack(tmp_path, "x-aws", {"aws_eks_cluster": {"c": {}}}, provider={"aws": [{"region": "us-east-9"}]})
    with pytest.raises(UserError) as info:
        estimate([s], load_catalog())
    assert f"{s.path}: provider.aws[0].region: 'us-east-9' is not a aws region; did you mean" in str(info.value)


def test_a_real_region_without_prices_is_reported_per_resource(tmp_path):
    s = stack(tmp_path, "x-aws", {"aws_eks_node_group": {"n": {"instance_types": ["g5.xlarge"], "scaling_config": {
        "min_size": 0, "max_size": 1}}}}, provider={"aws": [{"region": "ap-south-1"}]})
    [line] = estimate([s], load_catalog()).lines
    assert line.status == UNPRICED and "no price for g5.xlarge in ap-south-1" in line.reason


def test_no_stacks_says_to_synth(tmp_path):
    with pytest.raises(UserError, match="run `terraml synth` first"):
        read_stacks(tmp_path)
