"""GKE and Vertex AI estimates against figures computed by hand from the price rows.

Price rows used (terraml/data/pricing, corrected from shared/pricing on 2026-11-30):
- vm_prices.csv gcp us-central1 a2-ultragpu-8g: on-demand 40.22162, spot 21.90048 (host + 8 x A100-80GB, no Local SSD)
- vm_prices.csv gcp us-east4 a3-highgpu-8g: on-demand 87.83247 (host + 8 x H100, no Local SSD)
- vm_prices.csv gcp europe-west4 a2-highgpu-1g: on-demand 3.74797 (was 2.42771 before the correction)
- vm_prices.csv gcp us-central1 a3-megagpu-8g: on-demand 92.21427; g2-standard-8: on-demand 0.85362
- vm_prices.csv gcp us-central1 gpu-only A100-80GB x8: on-demand 31.42464 (must NOT be added to a2-ultragpu-8g)
- fixed_fees.csv gcp.local_ssd.us-central1 0.08, gcp.local_ssd.us-east4 0.088 USD/GB-month
- fixed_fees.csv gcp.gke.cluster 0.10 USD/cluster-hour; managed_ml_prices.csv Bigtable online serving node 0.94 USD/h
"""

from __future__ import annotations

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate

from ..conftest import H, lines, money, write_stack


def _pool(machine, location="us-central1-a", spot=False, gpus=None, **size):
    config = {"machine_type": machine, "spot": spot}
    if gpus:
        config["guest_accelerator"] = [{"type": gpus[0], "count": gpus[1]}]
    return {"location": location, "node_config": config, **(size or {"node_count": 1})}


def _parts(tmp_path, pools: dict) -> dict:
    s = write_stack(tmp_path, "nlp-gcp", {"google_container_node_pool": pools})
    est = estimate([s], load_catalog())
    return {name: {x.component: (x.status, money(x)) for x in lines(est, "nlp-gcp", "google_container_node_pool",
                                                                     contains=name)} for name in pools}


def test_the_corrected_rows_are_the_shared_list_prices():
    catalog = load_catalog()
    row = catalog.vm("gcp", "us-central1", "a2-ultragpu-8g")
    assert (row.on_demand_usd_per_hour, row.spot_usd_per_hour) == (40.22162, 21.90048)
    assert "SUSPECT" not in row.source and "Cyclenerd" in row.source
    assert catalog.vm("gcp", "europe-west4", "a2-highgpu-1g").on_demand_usd_per_hour == 3.74797
    assert catalog.vm("gcp", "us-central1", "a3-highgpu-8g").on_demand_usd_per_hour == 87.83247
    # Only the two H200 europe-west4 rows are still in doubt.
    doubtful = sorted((r.instance_type, r.region) for r in catalog.vms if r.cloud == "gcp" and "SUSPECT" in r.source)
    assert doubtful == [("a3-ultragpu-8g", "europe-west4"), ("gpu-only", "europe-west4")]


def test_a2_ultragpu_is_priced_once_with_its_gpus_plus_its_local_ssd(tmp_path):
    """a2-ultragpu-8g, 1 on-demand node, us-central1: 40.22162 $/h x 730 h = 29,361.7826, plus the bundled Local SSD
    8 x 375 GB = 3,000 GB x 0.08 $/GB-month = 240.00. Pricing the guest_accelerator again would add
    31.42464 x 730 = 22,939.9872 (+78 %)."""
    parts = _parts(tmp_path, {"a100": _pool("a2-ultragpu-8g", gpus=("nvidia-a100-80gb", 8))})["a100"]
    nodes, ssd = round(40.22162 * H, 4), 8 * 375 * 0.08
    assert (nodes, ssd) == (29361.7826, 240.0)
    assert parts == {"nodes": ("priced", (nodes, nodes)), "bundled Local SSD": ("priced", (ssd, ssd))}


def test_spot_a2_pool_scales_from_zero_and_its_local_ssd_is_an_upper_bound(tmp_path):
    """0-2 spot nodes: 2 x 730 x 21.90048 = 31,974.7008; Local SSD 2 x 3,000 GB x 0.08 = 480.00 (on-demand rate)."""
    s = write_stack(tmp_path, "nlp-gcp", {"google_container_node_pool": {"train": _pool(
        "a2-ultragpu-8g", location="us-central1", spot=True, gpus=("nvidia-a100-80gb", 8),
        autoscaling={"total_min_node_count": 0, "total_max_node_count": 2})}})
    nodes, ssd = lines(estimate([s], load_catalog()), "nlp-gcp", "google_container_node_pool")
    assert (nodes.component, nodes.capacity, money(nodes)) == ("nodes", "spot", (0.0, 31974.7008))
    assert (ssd.component, money(ssd), ssd.unit_price) == ("bundled Local SSD", (0.0, 480.0), 0.08)
    assert "upper bound" in ssd.assumption and ssd.price_ref == "fixed_fees.csv gcp.local_ssd.us-central1"


def test_a3_local_ssd_is_750_gb_per_h100_at_the_region_rate(tmp_path):
    """a3-highgpu-8g us-east4, 1 node: 87.83247 x 730 = 64,117.7031; Local SSD 8 x 750 = 6,000 GB x 0.088 = 528.00."""
    parts = _parts(tmp_path, {"h100": _pool("a3-highgpu-8g", location="us-east4-a", gpus=("nvidia-h100-80gb", 8))})
    nodes, ssd = round(87.83247 * H, 4), round(8 * 750 * 0.088, 4)
    assert (nodes, ssd) == (64117.7031, 528.0)
    assert parts["h100"] == {"nodes": ("priced", (nodes, nodes)), "bundled Local SSD": ("priced", (ssd, ssd))}


def test_machines_without_bundled_local_ssd_and_unknown_sizes(tmp_path):
    """a2-highgpu-1g europe-west4 (corrected row): 3.74797 x 730 = 2,736.0181, no Local SSD. g2-standard-8 + its L4:
    0.85362 x 730 = 623.1426, no GPU line. a3-megagpu-8g: 92.21427 x 730 = 67,316.4171; its Local SSD size is in no
    source, so that line is unpriced."""
    parts = _parts(tmp_path, {
        "a100": _pool("a2-highgpu-1g", location="europe-west4-a", gpus=("nvidia-tesla-a100", 1)),
        "l4": _pool("g2-standard-8", gpus=("nvidia-l4", 1)),
        "mega": _pool("a3-megagpu-8g", gpus=("nvidia-h100-mega-80gb", 8))})
    assert parts["a100"] == {"nodes": ("priced", (2736.0181, 2736.0181))}
    assert parts["l4"] == {"nodes": ("priced", (623.1426, 623.1426))}
    assert parts["mega"] == {"nodes": ("priced", (67316.4171, 67316.4171)),
                             "bundled Local SSD": ("unpriced", (0.0, 0.0))}


def test_a_bundled_machine_without_a_row_prices_no_gpus_on_their_own(tmp_path):
    """No a2-ultragpu-8g row in us-west1: the node line is unpriced, and the GPUs are not priced apart from it."""
    parts = _parts(tmp_path, {"a100": _pool("a2-ultragpu-8g", location="us-west1-a", gpus=("nvidia-a100-80gb", 8))})
    assert parts["a100"] == {"nodes": ("unpriced", (0.0, 0.0)), "bundled Local SSD": ("unpriced", (0.0, 0.0))}


def test_n1_pool_with_attached_gpus(tmp_path):
    """n1-standard-8 + 1 x T4, us-central1, 1 node: host 0.38 x 730 = 277.40; T4 0.35 x 730 = 255.50."""
    parts = _parts(tmp_path, {"t4": _pool("n1-standard-8", gpus=("nvidia-tesla-t4", 1))})
    assert parts["t4"] == {"nodes": ("priced", (277.4, 277.4)), "attached GPUs": ("priced", (255.5, 255.5))}


def test_gke_cluster_fee_and_bigtable_online_store(tmp_path):
    """Cluster: 730 h x 0.10 = 73.00. Bigtable online serving, 1-3 nodes: 730 x 0.94 = 686.20 to 3 x 730 x 0.94 =
    2,058.60."""
    s = write_stack(tmp_path, "nlp-gcp", {
        "google_container_cluster": {"c": {"name": "c", "location": "us-central1"}},
        "google_vertex_ai_feature_online_store": {"fs": {
            "region": "us-central1", "bigtable": {"auto_scaling": {"min_node_count": 1, "max_node_count": 3}}}}})
    est = estimate([s], load_catalog())
    [fee] = lines(est, "nlp-gcp", "google_container_cluster")
    assert money(fee) == (73.0, 73.0)
    [store] = lines(est, "nlp-gcp", "google_vertex_ai_feature_online_store")
    assert money(store) == (686.2, 2058.6)


def _endpoint(tmp_path, description):
    s = write_stack(tmp_path, "nlp-gcp", {"google_vertex_ai_endpoint": {"ep": {
        "location": "us-central1", "description": description}}})
    return lines(estimate([s], load_catalog()), "nlp-gcp", "google_vertex_ai_endpoint")


def test_vertex_endpoint_nodes_are_priced_at_min_and_max_replicas(tmp_path):
    """n1-standard-4 online prediction, us-central1, 0.219 $/node-hour: 1 replica x 730 h = 159.87; 3 replicas =
    479.61."""
    [nodes] = _endpoint(tmp_path, "terraml endpoint e: n1-standard-4, 1-3 replicas, deployed by the Vertex AI backend")
    assert (nodes.component, nodes.status, money(nodes)) == ("deployed model nodes", "priced", (159.87, 479.61))
    assert round(0.219 * H, 4) == 159.87 and round(3 * 0.219 * H, 4) == 479.61
    assert nodes.price_ref == "managed_ml_prices.csv gcp us-central1 n1-standard-4 online prediction"


def test_vertex_endpoint_gpus_and_machines_without_a_prediction_row_are_unpriced_with_the_hours(tmp_path):
    nodes, gpus = _endpoint(tmp_path, "terraml endpoint e: n1-standard-4 + 1 x T4, 2-2 replicas, deployed by ...")
    assert money(nodes) == (round(2 * 0.219 * H, 4),) * 2 and gpus.status == "unpriced"
    assert "1 x T4 per node" in gpus.reason


def test_the_example_stack_prices_or_explains_every_resource(example):
    train = lines(example, "nlp-gcp", "google_container_node_pool", contains="train")
    assert [(x.component, x.capacity, money(x)) for x in train] == [
        ("nodes", "spot", (0.0, 31974.7008)), ("bundled Local SSD", None, (0.0, 480.0))]
    [budget] = lines(example, "nlp-gcp", "google_billing_budget")
    assert budget.status == "free"
    [endpoint] = lines(example, "nlp-gcp", "google_vertex_ai_endpoint")
    assert endpoint.status == "unpriced" and endpoint.reason.startswith(
        "Vertex AI online prediction, 1-2 replicas x 730 h of g2-standard-8 + 1 x L4 (730-1460 node-hours): no online "
        "prediction price for g2-standard-8 in us-central1")
    [nat] = lines(example, "nlp-gcp", "google_compute_router_nat")
    assert nat.status == "unpriced" and "no sourced GCP NAT row" in nat.reason
    assert all(x.status == "unpriced" and "rotates every 90 days" in x.reason
               for x in lines(example, "nlp-gcp", "google_kms_crypto_key"))
    tables = {("source" in x.address, x.status) for x in lines(example, "nlp-gcp", "google_bigquery_table")}
    assert tables == {(True, "free"), (False, "unpriced")}  # the view stores nothing; the table's storage has no row
    [sync] = lines(example, "nlp-gcp", "google_vertex_ai_feature_online_store_featureview")
    assert "$0.08/node-hour" in sync.reason
    gcp = [x for x in example.lines if x.stack == "nlp-gcp"]
    assert all(x.reason for x in gcp if x.status != "priced")
    assert not [x for x in gcp if "no pricer" in x.reason]
