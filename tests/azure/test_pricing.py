"""Azure estimates against the price rows: AKS tiers and pools (spot, capped spot, priced-out spot, auto pairs),
ACR, storage, Azure ML clusters and endpoints, and the unpriced lines that name the missing row.

Every expected figure is worked out here from the rows, read from the CSV files by hand (not through the
catalog code under test):
  vm_prices.csv azure eastus Standard_NC24ads_A100_v4: on-demand $3.673, spot $0.444433 (as of ~2024-08-18)
  vm_prices.csv azure eastus Standard_D4s_v5: on-demand $0.192
  fixed_fees.csv azure.aks.standard $0.10/cluster-hour, azure.aks.free $0.00, azure.acr.basic $0.167/registry-day,
  azure.acr.storage $0.003/GB-day, azure.blob.hot_storage (LRS) $0.018/GB-month
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest

from terraml.catalog import DATA_DIR, Catalog, FixedFee, load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.model import FREE, PRICED, UNPRICED, Usage
from terraml.providers.azure import pricing
from terraml.providers.azure.pricing import months_old, node_price, spot_as_of

from ..conftest import H, lines, money, write_stack

TODAY = date(2026, 11, 30)
A100 = "Standard_NC24ads_A100_v4"
CLUSTER = "${azurerm_kubernetes_cluster.aks.id}"


def vm_row(region: str, size: str) -> dict:
    with (DATA_DIR / "vm_prices.csv").open(newline="") as handle:
        [row] = [r for r in csv.DictReader(handle) if (r["cloud"], r["region"], r["instance_type"]) ==
                 ("azure", region, size)]
    return row


def fee_row(key: str) -> dict:
    with (DATA_DIR / "fixed_fees.csv").open(newline="") as handle:
        [row] = [r for r in csv.DictReader(handle) if r["key"] == key]
    return row


def test_the_rows_these_tests_compute_from():
    a100 = vm_row("eastus", A100)
    assert (a100["on_demand_usd_per_hour"], a100["spot_usd_per_hour"]) == ("3.673", "0.444433")
    assert a100["as_of"] == "2026-06-18 (on-demand); ~2024-08-18 (spot)"
    assert vm_row("eastus", "Standard_D4s_v5")["on_demand_usd_per_hour"] == "0.192"
    assert [fee_row(k)["usd"] for k in ("azure.aks.standard", "azure.aks.free", "azure.acr.basic",
                                        "azure.acr.storage", "azure.blob.hot_storage")] == \
        ["0.10", "0.00", "0.167", "0.003", "0.018"]


def pool(name: str, priority: str, max_count: int, cap: float | None = None, label: str = "finetune") -> dict:
    block = {"kubernetes_cluster_id": CLUSTER, "vm_size": A100, "priority": priority, "auto_scaling_enabled": True,
             "min_count": 0, "max_count": max_count, "os_disk_size_gb": 200,
             "node_labels": {"terraml.io/pool": label}}
    if priority == "Spot":
        block["spot_max_price"] = -1 if cap is None else cap
    return block


def aks_stack(tmp_path, pools: dict, cluster: dict | None = None):
    return write_stack(tmp_path, "nlp-azure", {
        "azurerm_kubernetes_cluster": {"aks": {"location": "eastus", "sku_tier": "Standard", **(cluster or {})}},
        "azurerm_kubernetes_cluster_node_pool": pools})


def nodes(est, name: str):
    [line] = lines(est, "nlp-azure", "azurerm_kubernetes_cluster_node_pool", component="nodes", contains=name)
    return line


# ---------------------------------------------------------------- spot price age
def test_spot_age_reads_the_spot_date_of_the_row():
    row = load_catalog().vm("azure", "eastus", A100)
    assert spot_as_of(row) == "~2024-08-18"
    # 2024-08-18 -> 2026-11-30: 2 years and 3 months, the 30th is past the 18th.
    assert months_old("~2024-08-18", TODAY) == 27
    assert months_old("~2024-08-18", date(2026, 11, 17)) == 26  # a day short of 27 whole months
    assert months_old("2026-12-01", TODAY) == 0 and months_old("page undated", TODAY) is None
    refreshed = type(row)(**{**row.__dict__, "as_of": "2026-11-29"})
    assert spot_as_of(refreshed) == "2026-11-29"


def test_node_price_helper_for_azure_ml_code():
    catalog = load_catalog()
    spot = node_price(catalog, "eastus", A100, "spot", TODAY)
    assert spot.usd_per_hour == 0.444433 and spot.price_ref == f"vm_prices.csv azure eastus {A100} spot"
    assert "~2024-08-18, 27 months before 2026-11-30" in spot.note
    assert node_price(catalog, "eastus", A100, "on-demand", TODAY).usd_per_hour == 3.673
    low = node_price(catalog, "eastus", A100, "low-priority", TODAY)
    assert low.usd_per_hour is None and "Low Priority" in low.reason
    assert "no price for Standard_X" in node_price(catalog, "eastus", "Standard_X", "spot", TODAY).reason


# ---------------------------------------------------------------- AKS
def test_auto_pair_spot_under_its_cap_and_the_fallback_both_count_at_max(tmp_path):
    cap = 2.2038  # 0.6 x $3.673, what the stack sets for max_price_ratio 0.6
    s = aks_stack(tmp_path, {"spot": pool("finetunespot", "Spot", 2, cap),
                             "fallback": pool("fi1aondemand", "Regular", 2)})
    est = estimate([s], load_catalog(), today=TODAY)
    spot, fallback = nodes(est, "spot"), nodes(est, "fallback")
    assert money(spot) == (0.0, round(2 * H * 0.444433, 4)) == (0.0, 648.8722) and spot.capacity == "spot"
    assert spot.price_ref == f"vm_prices.csv azure eastus {A100} spot"
    assert spot.as_of == "2026-06-18 (on-demand); ~2024-08-18 (spot)"  # the row rides on the line
    assert "spot price as of ~2024-08-18, 27 months before 2026-11-30" in spot.assumption
    # At the cap: 2 nodes x 730 h x $2.2038 = $3,217.548.
    assert "up to spot_max_price $2.2038/h: at the cap, 2 nodes would cost $3,217.55/month" in spot.assumption
    assert money(fallback) == (0.0, round(2 * H * 3.673, 4)) == (0.0, 5362.58)
    assert "the pool's max counts 2 spot + 2 on-demand nodes" in fallback.assumption
    low, high = est.total()
    assert (low, high) == (Decimal("73.00"), Decimal("73.00") + Decimal("648.87218") + Decimal("5362.580"))


def test_a_cap_below_the_spot_price_means_the_pool_never_runs(tmp_path):
    s = aks_stack(tmp_path, {"spot": pool("finetunespot", "Spot", 2, 0.3),
                             "fallback": pool("fi1aondemand", "Regular", 2)})
    est = estimate([s], load_catalog(), today=TODAY)
    spot, fallback = nodes(est, "spot"), nodes(est, "fallback")
    assert money(spot) == (0.0, 0.0) and spot.status == PRICED and spot.quantity_max == 0
    assert spot.assumption.startswith("never runs: spot_max_price $0.3/h is below the spot price $0.444433/h")
    assert "~2024-08-18" in spot.assumption  # how old the price it was compared with is
    assert "so this pool carries the whole load" in fallback.assumption
    assert money(fallback) == (0.0, 5362.58)


def test_an_uncapped_spot_pool_says_it_can_pay_up_to_on_demand(tmp_path):
    s = aks_stack(tmp_path, {"batch": pool("batchspot", "Spot", 3, label="batch")})
    spot = nodes(estimate([s], load_catalog(), today=TODAY), "batch")
    assert money(spot) == (0.0, round(3 * H * 0.444433, 4)) == (0.0, 973.3083)
    assert "no price cap (spot_max_price -1): Azure charges the current spot price, up to the on-demand price " \
           "$3.673/h" in spot.assumption
    assert "spot pool of auto pool" not in spot.assumption  # no fallback pool: not an auto pair


def test_control_plane_tiers_default_pool_disks_and_defender(tmp_path):
    cluster = {"default_node_pool": [{"vm_size": "Standard_D4s_v5", "auto_scaling_enabled": True, "min_count": 2,
                                      "max_count": 4, "os_disk_size_gb": 128}],
               "microsoft_defender": {"log_analytics_workspace_id": "x"}}
    est = estimate([aks_stack(tmp_path, {}, cluster)], load_catalog(), today=TODAY)
    parts = {x.component: x for x in lines(est, "nlp-azure", "azurerm_kubernetes_cluster")}
    assert money(parts["control plane (Standard tier)"]) == (73.0, 73.0)  # 730 h x $0.10
    # 2-4 nodes x 730 h x $0.192 = $280.32-$560.64
    assert money(parts["default node pool"]) == (280.32, 560.64)
    disks = parts["default node pool: OS disks (128 GB managed, one per node)"]
    assert disks.status == UNPRICED and disks.reason == pricing.OS_DISKS
    assert parts["Defender for Containers"].status == UNPRICED
    for tier, expected in (("Free", (0.0, 0.0)), ("Premium", None)):
        other = tmp_path / tier
        other.mkdir()
        [plane] = lines(estimate([aks_stack(other, {}, {"sku_tier": tier})], load_catalog()), "nlp-azure",
                        "azurerm_kubernetes_cluster")
        if expected is None:
            assert plane.status == UNPRICED and plane.reason == \
                "no 'azure.aks.premium' row in fixed_fees.csv (AKS Premium tier control plane, per cluster-hour)"
        else:
            assert money(plane) == expected and plane.status == PRICED


# ---------------------------------------------------------------- registry, storage
def test_acr_basic_fee_and_storage_beyond_the_included_10_gb(tmp_path):
    s = write_stack(tmp_path, "nlp-azure", {"azurerm_container_registry": {
        "basic": {"location": "eastus", "sku": "Basic"}, "premium": {"location": "eastus", "sku": "Premium"}}})
    est = estimate([s], load_catalog(), Usage(registry_storage_gb=60))
    basic = {x.component: x for x in lines(est, "nlp-azure", "azurerm_container_registry", contains="basic")}
    days = H / 24  # 30.41667 registry-days
    assert money(basic["registry (Basic, 10 GB included)"]) == (round(days * 0.167, 4),) * 2 == (5.0796,) * 2
    # 60 GB - 10 included = 50 GB x 30.41667 days x $0.003 = $4.5625
    assert money(basic["storage beyond 10 GB"]) == (4.5625, 4.5625)
    # Premium includes 500 GB, so 60 GB adds no storage line; its daily fee has no row.
    [premium] = lines(est, "nlp-azure", "azurerm_container_registry", contains="premium")
    assert premium.status == UNPRICED and premium.reason == \
        "no 'azure.acr.premium' row in fixed_fees.csv (ACR Premium tier registry fee, per registry-day)"


def test_blob_storage_is_priced_for_hot_lrs_only(tmp_path):
    s = write_stack(tmp_path, "nlp-azure", {"azurerm_storage_account": {
        "lrs": {"location": "eastus", "account_replication_type": "LRS", "access_tier": "Hot"},
        "zrs": {"location": "eastus", "account_replication_type": "ZRS", "access_tier": "Hot"}}})
    est = estimate([s], load_catalog())
    [lrs] = lines(est, "nlp-azure", "azurerm_storage_account", contains="lrs")
    assert money(lrs) == (9.0, 9.0)  # 500 GB (usage default) x $0.018
    [zrs] = lines(est, "nlp-azure", "azurerm_storage_account", contains="zrs")
    assert zrs.status == UNPRICED and "no 'azure.blob.hot_storage_zrs' row" in zrs.reason


# ---------------------------------------------------------------- network, monitoring, keys: no rows yet
NO_ROW_TYPES = {
    "azurerm_nat_gateway": {"location": "eastus"},
    "azurerm_public_ip": {"location": "eastus", "sku": "Standard", "allocation_method": "Static"},
    "azurerm_private_endpoint": {"location": "eastus"},
    "azurerm_private_dns_zone": {"name": "privatelink.vaultcore.azure.net"},
    "azurerm_log_analytics_workspace": {"location": "eastus", "retention_in_days": 90},
    "azurerm_key_vault": {"location": "eastus", "sku_name": "standard"},
    "azurerm_key_vault_key": {"key_type": "RSA-HSM"},
}


def test_types_without_a_row_are_unpriced_naming_the_row(tmp_path):
    s = write_stack(tmp_path, "nlp-azure", {t: {"x": b} for t, b in NO_ROW_TYPES.items()})
    est = estimate([s], load_catalog())
    reasons = {(x.resource_type, x.component): x.reason for x in est.lines}
    assert all(x.status == UNPRICED for x in est.lines)
    assert reasons[("azurerm_nat_gateway", "gateway hours")].startswith("no 'azure.nat.hour' row in fixed_fees.csv")
    assert reasons[("azurerm_nat_gateway", "data processed")].startswith("no 'azure.nat.gb' row")
    assert reasons[("azurerm_public_ip", "public IPv4 address")].startswith("no 'azure.public_ip.standard_static'")
    assert reasons[("azurerm_private_endpoint", "endpoint hours")].startswith("no 'azure.private_endpoint.hour'")
    assert reasons[("azurerm_private_dns_zone", "zone")].startswith("no 'azure.private_dns.zone'")
    assert reasons[("azurerm_log_analytics_workspace", "log ingestion")].startswith(
        "no 'azure.log_analytics.ingest'")
    assert reasons[("azurerm_log_analytics_workspace", "retention beyond 31 days")].startswith(
        "no 'azure.log_analytics.retention'")
    assert "per 10,000 operations" in reasons[("azurerm_key_vault", "operations")]
    assert reasons[("azurerm_key_vault_key", "HSM-protected key")].startswith("no 'azure.key_vault.hsm_key'")


def test_quantities_wait_for_the_rows(tmp_path):
    """With rows under those keys (TEST rows: $1 each, not prices), each line is priced by its quantity alone:
    the quantities are what the real rows will multiply."""
    keys = ("azure.nat.hour", "azure.nat.gb", "azure.public_ip.standard_static", "azure.private_endpoint.hour",
            "azure.private_dns.zone", "azure.log_analytics.ingest", "azure.log_analytics.retention",
            "azure.key_vault.hsm_key")
    base = load_catalog()
    test_rows = [FixedFee(k, "azure", "TEST row", "unit", 1.0, "all regions", "test", "test") for k in keys]
    catalog = Catalog(base.vms, base.managed, list(base.fees.values()) + test_rows)
    s = write_stack(tmp_path, "nlp-azure", {t: {"x": b} for t, b in NO_ROW_TYPES.items() if t != "azurerm_key_vault"})
    est = estimate([s], catalog, Usage(nat_data_gb=100, log_ingest_gb=10))
    quantity = {(x.resource_type, x.component): x.quantity_max for x in est.lines}
    assert quantity[("azurerm_nat_gateway", "gateway hours")] == H
    assert quantity[("azurerm_nat_gateway", "data processed")] == 100
    assert quantity[("azurerm_public_ip", "public IPv4 address")] == H
    assert quantity[("azurerm_private_endpoint", "endpoint hours")] == H
    assert quantity[("azurerm_private_dns_zone", "zone")] == 1
    assert quantity[("azurerm_log_analytics_workspace", "log ingestion")] == 10
    # 90-day retention, 31 included: 10 GB/month x 59 days x 24 / 730 h = 19.39726 GB-months kept
    assert quantity[("azurerm_log_analytics_workspace", "retention beyond 31 days")] == pytest.approx(19.39726, 1e-6)
    assert quantity[("azurerm_key_vault_key", "HSM-protected key")] == 1


# ---------------------------------------------------------------- Azure ML
def test_ml_clusters_dedicated_priced_low_priority_unpriced(tmp_path):
    scale = {"min_node_count": 0, "max_node_count": 2}
    s = write_stack(tmp_path, "nlp-azure", {"azurerm_machine_learning_compute_cluster": {
        "dedicated": {"location": "eastus", "vm_size": A100, "vm_priority": "Dedicated", "scale_settings": scale},
        "lowpri": {"location": "eastus", "vm_size": A100, "vm_priority": "LowPriority", "scale_settings": scale}}})
    est = estimate([s], load_catalog())
    [dedicated] = lines(est, "nlp-azure", "azurerm_machine_learning_compute_cluster", "nodes", "dedicated")
    assert money(dedicated) == (0.0, 5362.58)  # 0-2 nodes x 730 h x $3.673
    [low] = lines(est, "nlp-azure", "azurerm_machine_learning_compute_cluster", "nodes", "lowpri")
    assert low.status == UNPRICED and low.reason == pricing.LOW_PRIORITY
    balancers = lines(est, "nlp-azure", "azurerm_machine_learning_compute_cluster", "load balancer")
    assert [b.reason for b in balancers] == [pricing.ML_LOAD_BALANCER] * 2


def test_online_endpoint_instances_at_min_and_max(tmp_path):
    endpoint = {"type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-10-01",
                "location": "eastus"}
    meta = {"//": {"terraml": {"online_endpoint": {"instance_type": A100, "min_instances": 1, "max_instances": 3}}}}
    s = write_stack(tmp_path, "nlp-azure", {"azapi_resource": {"ep": {**endpoint, **meta}, "bare": endpoint}})
    est = estimate([s], load_catalog())
    [ep] = lines(est, "nlp-azure", "azapi_resource", contains="ep")
    # 1-3 instances x 730 h x $3.673 = $2,681.29-$8,043.87
    assert money(ep) == (2681.29, 8043.87) and ep.unit == "instance-hours" and ep.capacity == "on-demand"
    [bare] = lines(est, "nlp-azure", "azapi_resource", contains="bare")
    assert bare.status == UNPRICED and "instance type and counts are not in the stack" in bare.reason


def test_budgets_are_free(tmp_path):
    s = write_stack(tmp_path, "nlp-azure", {
        "azurerm_consumption_budget_subscription": {"b": {"amount": 1}},
        "azurerm_consumption_budget_resource_group": {"b": {"amount": 1}}})
    est = estimate([s], load_catalog())
    assert [x.status for x in est.lines] == [FREE, FREE]
    assert est.unpriced() == []


# ---------------------------------------------------------------- the example's nlp-azure stack
def test_every_type_of_the_example_stack_is_priced_free_or_unpriced_with_a_reason(example, stacks):
    types = set(stacks["nlp-azure"]["resource"])
    mine = [x for x in example.lines if x.stack == "nlp-azure"]
    assert {x.resource_type for x in mine} == types
    assert all(x.status == PRICED or x.reason for x in mine)
    assert not [x for x in mine if x.reason.startswith("terraml has no pricer")]


def test_example_stack_totals_by_hand(example):
    """nlp-azure: Standard control plane 730 x $0.10 = $73; system pool 2-4 x 730 x $0.192 = $280.32-$560.64;
    finetune auto pair 0-2 spot x 730 x $0.444433 = $0-$648.87218 plus 0-2 on-demand x 730 x $3.673 = $0-$5,362.58;
    the Dedicated Azure ML cluster 0-2 x 730 x $3.673 = $0-$5,362.58; the chat endpoint 1 x 730 x $3.673 =
    $2,681.29. Registry (Premium), storage (ZRS), the low-priority cluster and the network are unpriced."""
    low, high = example.total(team="nlp", cloud="azure")
    assert low == Decimal("73") + Decimal("280.32") + Decimal("2681.29") == Decimal("3034.61")
    assert high == (Decimal("73") + Decimal("560.64") + Decimal("648.87218") + Decimal("5362.58") * 2
                    + Decimal("2681.29"))
    assert float(high) == pytest.approx(14688.96218)
