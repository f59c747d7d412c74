"""AKS and ACR estimates (spot and capped-spot pools, control plane, registry) against the price rows.

Price rows used (from terraml/data/pricing): Standard_NC24ads_A100_v4 eastus on-demand $3.673, spot
$0.444433; ACR Basic $0.167/day.
"""

from __future__ import annotations

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.model import Usage

from ..conftest import H, lines, money, write_stack


def test_aks_spot_pool_is_priced_at_spot_not_on_demand(tmp_path):
    s = write_stack(tmp_path, "nlp-azure", {
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
