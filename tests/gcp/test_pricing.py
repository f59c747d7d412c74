"""GKE estimates (cluster fee, spot pools, attached GPUs) against figures computed from the price rows.

Price rows used (from terraml/data/pricing): a2-ultragpu-8g us-central1 spot $21.90048; n1-standard-8
us-central1 and its attached-GPU rows.
"""

from __future__ import annotations

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate

from ..conftest import H, lines, money, write_stack


def test_gke_spot_pool_and_attached_gpus(tmp_path):
    s = write_stack(tmp_path, "nlp-gcp", {
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


def test_bundled_gpus_are_priced_once_with_their_machine(tmp_path):
    """a2/a3/g2 prices include their GPUs: the guest_accelerator GKE needs adds no second GPU line."""
    s = write_stack(tmp_path, "nlp-gcp", {"google_container_node_pool": {"a100": {
        "location": "us-central1", "autoscaling": {"total_min_node_count": 0, "total_max_node_count": 2},
        "node_config": {"machine_type": "a2-ultragpu-8g", "spot": True,
                        "guest_accelerator": [{"type": "nvidia-a100-80gb", "count": 8}]}}}})
    parts = lines(estimate([s], load_catalog()), "nlp-gcp", "google_container_node_pool")
    assert [(x.component, money(x)) for x in parts] == [("nodes", (0.0, round(2 * H * 21.90048, 4)))]


def test_bigtable_online_store_is_priced_per_node_between_its_autoscaling_bounds(tmp_path):
    s = write_stack(tmp_path, "nlp-gcp", {"google_vertex_ai_feature_online_store": {"fs": {
        "region": "us-central1", "bigtable": {"auto_scaling": {"min_node_count": 1, "max_node_count": 3}}}}})
    [line] = lines(estimate([s], load_catalog()), "nlp-gcp", "google_vertex_ai_feature_online_store")
    assert money(line) == (round(H * 0.94, 4), round(3 * H * 0.94, 4))


def test_the_stack_prices_its_pools_and_lists_what_it_cannot_price(example):
    train = lines(example, "nlp-gcp", "google_container_node_pool", contains="train")
    assert [(x.component, x.capacity, money(x)) for x in train] == [
        ("nodes", "spot", (0.0, round(2 * H * 21.90048, 4)))]
    [endpoint] = lines(example, "nlp-gcp", "google_vertex_ai_endpoint")
    assert endpoint.status == "unpriced" and "deploys onto it" in endpoint.reason
    [budget] = lines(example, "nlp-gcp", "google_billing_budget")
    assert budget.status == "free"
