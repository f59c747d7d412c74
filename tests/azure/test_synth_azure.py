"""The Azure team stack holds the resources the spec asks for, with the values it asks for, and safe
defaults where the spec is silent (nlp-azure from the example, and a variant spec of the tests' own)."""

from __future__ import annotations

import csv
import json
import re
from importlib import metadata
from pathlib import Path

import pytest

from terraml.catalog import DATA_DIR

from .conftest import example_doc, nlp_azure, synth_azure

STACK = "nlp-azure"
RG = "${azurerm_resource_group.resource-group.name}"


def blocks(stack: dict, rtype: str) -> list[dict]:
    return list(stack.get("resource", {}).get(rtype, {}).values())


def one(stack: dict, rtype: str, **match) -> dict:
    found = [b for b in blocks(stack, rtype) if all(b.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one {rtype} matching {match}, found {len(found)}"
    return found[0]


def address(stack: dict, rtype: str, **match) -> str:
    [name] = [n for n, b in stack["resource"][rtype].items() if all(b.get(k) == v for k, v in match.items())]
    return f"{rtype}.{name}"


@pytest.fixture(scope="module")
def nlp(stacks) -> dict:
    return stacks[STACK]


def a100_eastus_on_demand() -> float:
    """Read from the price file by hand, not through the catalog code under test."""
    with (DATA_DIR / "vm_prices.csv").open(newline="") as handle:
        [row] = [r for r in csv.DictReader(handle) if (r["cloud"], r["region"], r["instance_type"]) ==
                 ("azure", "eastus", "Standard_NC24ads_A100_v4")]
    return float(row["on_demand_usd_per_hour"])


def test_example_synthesizes_the_azure_stack(synth_dir):
    assert (synth_dir / "stacks" / STACK / "cdk.tf.json").exists()


# ---------------------------------------------------------------- providers, state, resource group
def test_providers_are_pinned_to_the_typed_bindings(nlp):
    required = nlp["terraform"]["required_providers"]
    assert required["azurerm"] == {"source": "hashicorp/azurerm", "version": "~> 5.10"}
    assert required["azapi"] == {"source": "azure/azapi", "version": "~> 2.13"}
    # The bindings say which provider release they were generated from.
    assert "hashicorp/azurerm provider version 5.10.0" in metadata.metadata("cdktn-provider-azurerm")["Description"]
    assert "Azure/azapi provider version 2.13.0" in metadata.metadata("cdktn-provider-azapi")["Description"]
    azurerm = nlp["provider"]["azurerm"][0]
    assert azurerm["subscription_id"] == "00000000-0000-0000-0000-000000000000"
    assert azurerm["storage_use_azuread"] is True
    assert nlp["provider"]["azapi"] == [{"subscription_id": "00000000-0000-0000-0000-000000000000"}]


def test_state_backend_comes_from_defaults(nlp):
    assert nlp["terraform"]["backend"] == {"azurerm": {
        "resource_group_name": "tfstate", "storage_account_name": "acmetfstate", "container_name": "tfstate",
        "key": "terraml/acme/prod/nlp-azure.tfstate", "use_azuread_auth": True}}


def test_one_resource_group_holds_everything(nlp):
    group = one(nlp, "azurerm_resource_group")
    assert (group["name"], group["location"]) == ("rg-acme-nlp-prod", "eastus")
    for rtype, named in nlp["resource"].items():
        for block in named.values():
            if "resource_group_name" in block:
                assert block["resource_group_name"] == RG, rtype  # a reference: created after the group


# ---------------------------------------------------------------- network
def test_network_has_node_and_endpoint_subnets_behind_nsgs_and_a_nat_gateway(nlp):
    assert one(nlp, "azurerm_virtual_network")["address_space"] == ["10.40.0.0/16"]
    nodes = one(nlp, "azurerm_subnet", name="snet-nodes")
    endpoints = one(nlp, "azurerm_subnet", name="snet-endpoints")
    assert nodes["address_prefixes"] == ["10.40.0.0/17"] and endpoints["address_prefixes"] == ["10.40.128.0/24"]
    assert nodes["default_outbound_access_enabled"] is endpoints["default_outbound_access_enabled"] is False
    nodes_id = "${" + address(nlp, "azurerm_subnet", name="snet-nodes") + ".id}"
    endpoints_id = "${" + address(nlp, "azurerm_subnet", name="snet-endpoints") + ".id}"
    associated = {a["subnet_id"] for a in blocks(nlp, "azurerm_subnet_network_security_group_association")}
    assert associated == {nodes_id, endpoints_id}
    nsgs = blocks(nlp, "azurerm_network_security_group")
    assert all("security_rule" not in n for n in nsgs)  # Azure's defaults: nothing in from the internet
    assert one(nlp, "azurerm_subnet_nat_gateway_association")["subnet_id"] == nodes_id
    ip = one(nlp, "azurerm_public_ip")
    assert (ip["sku"], ip["allocation_method"]) == ("Standard", "Static")


# ---------------------------------------------------------------- AKS
def test_cluster_is_private_entra_only_with_workload_identity_and_overlay(nlp):
    c = one(nlp, "azurerm_kubernetes_cluster", name="aks-acme-nlp-prod")
    assert c["private_cluster_enabled"] is True and c["private_dns_zone_id"] == "System"
    assert "api_server_access_profile" not in c
    assert c["local_account_disabled"] is True and c["role_based_access_control_enabled"] is True
    assert c["azure_active_directory_role_based_access_control"]["azure_rbac_enabled"] is True
    assert c["oidc_issuer_enabled"] is True and c["workload_identity_enabled"] is True
    assert c["identity"]["type"] == "UserAssigned"
    net = c["network_profile"]
    assert (net["network_plugin"], net["network_plugin_mode"], net["outbound_type"]) == \
        ("azure", "overlay", "userAssignedNATGateway")
    assert c["kubernetes_version"] == "1.33" and c["sku_tier"] == "Standard"
    assert c["azure_policy_enabled"] is True
    assert "log_analytics_workspace_id" in c["oms_agent"] and "log_analytics_workspace_id" in c["microsoft_defender"]
    system = c["default_node_pool"]
    assert system["only_critical_addons_enabled"] is True and system["vm_size"] == "Standard_D4s_v5"
    assert (system["min_count"], system["max_count"], system["zones"]) == (2, 4, ["1", "2", "3"])
    assert system["host_encryption_enabled"] is True and system["node_public_ip_enabled"] is False
    assert c["lifecycle"]["ignore_changes"] == ["default_node_pool[0].node_count"]
    # The control plane identity may join the team's subnet; the deployer administers the cluster.
    identity = address(nlp, "azurerm_user_assigned_identity", name="id-acme-nlp-prod-aks")
    network = one(nlp, "azurerm_role_assignment", role_definition_name="Network Contributor")
    assert network["principal_id"] == "${" + identity + ".principal_id}"
    admin = one(nlp, "azurerm_role_assignment", role_definition_name="Azure Kubernetes Service RBAC Cluster Admin")
    assert admin["principal_id"] == "${data.azurerm_client_config.client.object_id}"


def test_public_api_means_authorized_ip_ranges(variant):
    c = one(variant, "azurerm_kubernetes_cluster")
    assert c["private_cluster_enabled"] is False
    assert c["api_server_access_profile"] == {"authorized_ip_ranges": ["203.0.113.0/24"]}
    admins = [r for r in blocks(variant, "azurerm_role_assignment")
              if r["role_definition_name"] == "Azure Kubernetes Service RBAC Cluster Admin"]
    assert {r["principal_id"] for r in admins} >= {"11111111-2222-3333-4444-555555555555"}


def test_auto_pool_is_a_capped_spot_pool_plus_a_regular_fallback(nlp):
    cap = round(0.6 * a100_eastus_on_demand(), 5)
    assert cap == 2.2038  # 0.6 x $3.673, the catalog's eastus on-demand price
    spot = one(nlp, "azurerm_kubernetes_cluster_node_pool", name="finetunespot")
    assert (spot["priority"], spot["eviction_policy"], spot["spot_max_price"]) == ("Spot", "Delete", cap)
    assert spot["node_labels"]["kubernetes.azure.com/scalesetpriority"] == "spot"
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in spot["node_taints"]
    [fallback] = [p for p in blocks(nlp, "azurerm_kubernetes_cluster_node_pool") if p["priority"] == "Regular"]
    assert re.fullmatch(r"fi[0-9a-f]{2}ondemand", fallback["name"])
    assert "spot_max_price" not in fallback and "eviction_policy" not in fallback
    assert "kubernetes.azure.com/scalesetpriority" not in fallback["node_labels"]
    assert fallback["node_taints"] == ["nvidia.com/gpu=true:NoSchedule"]
    for pool in (spot, fallback):
        assert pool["vm_size"] == "Standard_NC24ads_A100_v4" and pool["mode"] == "User"
        assert (pool["auto_scaling_enabled"], pool["min_count"], pool["max_count"]) == (True, 0, 2)
        assert "nvidia.com/gpu=true:NoSchedule" in pool["node_taints"]
        assert pool["node_labels"]["terraml.io/pool"] == "finetune"
        assert pool["node_labels"]["terraml.io/accelerator"] == "A100-80GB"
        assert pool["lifecycle"]["ignore_changes"] == ["node_count"]
    assert spot["node_labels"]["terraml.io/capacity"] == "spot"
    assert fallback["node_labels"]["terraml.io/capacity"] == "on-demand"


def test_spot_only_and_on_demand_pools(variant):
    pools = {p["name"]: p for p in blocks(variant, "azurerm_kubernetes_cluster_node_pool")}
    assert pools["batchspot"]["priority"] == "Spot" and "batchondemand" not in pools
    assert pools["nocapspot"]["spot_max_price"] == -1  # no max_price_ratio: no cap beyond on-demand
    [serve] = [p for p in pools.values() if p["node_labels"]["terraml.io/pool"] == "serve"]
    assert serve["name"].startswith("se") and serve["name"].endswith("ondemand") and len(serve["name"]) == 12
    assert (serve["priority"], serve["min_count"], serve["max_count"]) == ("Regular", 1, 2)
    assert "upgrade_settings" in serve and "upgrade_settings" not in pools["batchspot"]


def test_a_capped_spot_pool_tags_where_its_cap_comes_from_and_how_old_the_prices_are(nlp, variant, tmp_path):
    """The cap is made from the on-demand price (2026-06-18); the catalog spot price it competes with is from
    ~2024-08-18. Whoever looks at the pool in Azure sees both dates."""
    spot = one(nlp, "azurerm_kubernetes_cluster_node_pool", name="finetunespot")
    assert spot["tags"]["terraml-spot-max-price"] == ("2.2038 USD/h = 0.6 x on-demand 3.673 (as of 2026-06-18); "
                                                      "catalog spot 0.444433 as of ~2024-08-18")
    [fallback] = [p for p in blocks(nlp, "azurerm_kubernetes_cluster_node_pool") if p["priority"] == "Regular"]
    assert "terraml-spot-max-price" not in fallback["tags"]
    pools = {p["name"]: p for p in blocks(variant, "azurerm_kubernetes_cluster_node_pool")}
    assert "terraml-spot-max-price" not in pools["nocapspot"]["tags"]  # no cap, no price used at synth
    # 0.1 x $3.673 = $0.3673, below the catalog spot $0.444433: the pool says it may never get a node.
    doc = example_doc()
    nlp_azure(doc)["gpu_pools"][0]["spot"] = {"mode": "spot", "max_price_ratio": 0.1}
    [cheap] = blocks(synth_azure(tmp_path, doc), "azurerm_kubernetes_cluster_node_pool")
    assert cheap["spot_max_price"] == 0.3673
    assert cheap["tags"]["terraml-spot-max-price"].endswith(
        "catalog spot 0.444433 as of ~2024-08-18; the cap is below it: no node while spot is above the cap")


def test_autoscaler_tries_spot_pools_before_their_fallback(nlp, synth_dir):
    assert one(nlp, "azurerm_kubernetes_cluster")["auto_scaler_profile"]["expander"] == "priority"
    release = one(nlp, "helm_release", name="autoscaler-priorities")
    assert release["namespace"] == "kube-system"
    text = json.loads(release["values"][0])["priorities"]
    tiers: dict[int, list[str]] = {}
    for line in text.splitlines():
        if not line.startswith(" "):
            current = int(line.rstrip(":"))
            tiers[current] = []
        else:
            tiers[current].append(json.loads(line.strip()[2:]))

    def tier(scale_set: str) -> int:
        return max(p for p, regexes in tiers.items() if any(re.search(r, scale_set) for r in regexes))

    [fallback] = [p["name"] for p in blocks(nlp, "azurerm_kubernetes_cluster_node_pool") if p["priority"] == "Regular"]
    # AKS names a pool's scale set aks-<pool>-<digits>-vmss.
    assert tier("aks-finetunespot-12345678-vmss") > tier(f"aks-{fallback}-12345678-vmss") > \
        tier("aks-system-12345678-vmss") == 1
    # The chart the release installs renders the ConfigMap the AKS autoscaler reads.
    chart = synth_dir / "stacks" / STACK / release["chart"].removeprefix("${path.module}/")
    rendered = (chart / "templates" / "configmap.yaml").read_text()
    assert "name: cluster-autoscaler-priority-expander" in rendered and "namespace: kube-system" in rendered


def test_device_plugin_tolerates_spot_and_gpu_taints(nlp):
    values = json.loads(one(nlp, "helm_release", name="nvidia-device-plugin")["values"][0])
    tolerated = {(t["key"], t.get("value")) for t in values["tolerations"]}
    assert {("nvidia.com/gpu", None), ("kubernetes.azure.com/scalesetpriority", "spot")} <= tolerated


# ---------------------------------------------------------------- registry, storage, keys
def test_registry_is_premium_private_entra_only_and_purges_old_images(nlp):
    acr = one(nlp, "azurerm_container_registry")
    assert re.fullmatch(r"cracmenlpprod[0-9a-f]{6}", acr["name"])
    assert (acr["sku"], acr["admin_enabled"], acr["anonymous_pull_enabled"]) == ("Premium", False, False)
    assert acr["public_network_access_enabled"] is False and acr["retention_policy_in_days"] == 7
    assert acr["network_rule_set"] == [{"default_action": "Deny", "ip_rule": []}]
    task = one(nlp, "azurerm_container_registry_task")
    assert "acr purge --filter '.*:.*' --keep 200 --ago 0d --untagged" in task["encoded_step"]["task_content"]
    assert task["timer_trigger"][0]["schedule"] == "0 3 * * *"
    pull = one(nlp, "azurerm_role_assignment", role_definition_name="AcrPull")
    assert pull["principal_id"].endswith("kubelet_identity[0].object_id}")


def test_basic_registry_gets_no_premium_only_settings(variant):
    acr = one(variant, "azurerm_container_registry")
    assert acr["sku"] == "Basic" and acr["admin_enabled"] is False
    for premium_only in ("public_network_access_enabled", "retention_policy_in_days", "network_rule_set",
                         "zone_redundancy_enabled", "data_endpoint_enabled", "export_policy_enabled"):
        assert premium_only not in acr
    assert "--keep 50 " in one(variant, "azurerm_container_registry_task")["encoded_step"]["task_content"]
    assert not [e for e in blocks(variant, "azurerm_private_endpoint")
                if e["private_service_connection"]["subresource_names"] == ["registry"]]


def test_storage_is_private_keyless_versioned_and_soft_deleting(nlp):
    st = one(nlp, "azurerm_storage_account")
    assert re.fullmatch(r"stacmenlpprod[0-9a-f]{6}", st["name"])
    assert st["shared_access_key_enabled"] is False and st["public_network_access_enabled"] is False
    assert st["min_tls_version"] == "TLS1_2" and st["allow_nested_items_to_be_public"] is False
    assert st["infrastructure_encryption_enabled"] is True
    blob = st["blob_properties"]
    assert blob["versioning_enabled"] is True
    assert blob["delete_retention_policy"] == blob["container_delete_retention_policy"] == {"days": 30}
    assert "customer_managed_key" not in st


def test_customer_managed_key_when_the_spec_asks(variant):
    st = one(variant, "azurerm_storage_account")
    key = address(variant, "azurerm_key_vault_key", name="storage")
    identity = address(variant, "azurerm_user_assigned_identity", name="id-acme-nlp-prod-storage")
    assert st["customer_managed_key"] == {"key_vault_key_id": "${" + key + ".versionless_id}",
                                          "user_assigned_identity_id": "${" + identity + ".id}"}
    assert st["identity"] == {"type": "UserAssigned", "identity_ids": ["${" + identity + ".id}"]}
    assert st["blob_properties"]["delete_retention_policy"] == {"days": 14}
    k = one(variant, "azurerm_key_vault_key")
    assert (k["key_type"], k["key_size"]) == ("RSA-HSM", 3072) and "rotation_policy" in k
    assert one(variant, "azurerm_key_vault")["sku_name"] == "premium"
    user = one(variant, "azurerm_role_assignment", role_definition_name="Key Vault Crypto Service Encryption User")
    assert user["principal_id"] == "${" + identity + ".principal_id}"


def test_key_vault_uses_rbac_purge_protection_and_no_public_access(nlp):
    kv = one(nlp, "azurerm_key_vault")
    assert re.fullmatch(r"kv-acme-nlp-prod-[0-9a-f]{6}", kv["name"])
    assert kv["rbac_authorization_enabled"] is True and kv["purge_protection_enabled"] is True
    assert kv["public_network_access_enabled"] is False and kv["network_acls"]["default_action"] == "Deny"
    assert kv["sku_name"] == "standard"


def test_private_endpoints_resolve_through_linked_private_dns_zones(nlp):
    subresources = sorted(e["private_service_connection"]["subresource_names"][0]
                          for e in blocks(nlp, "azurerm_private_endpoint"))
    assert subresources == ["amlworkspace", "blob", "file", "registry", "vault"]
    zones = {z["name"] for z in blocks(nlp, "azurerm_private_dns_zone")}
    assert zones == {"privatelink.vaultcore.azure.net", "privatelink.blob.core.windows.net",
                     "privatelink.file.core.windows.net", "privatelink.azurecr.io", "privatelink.api.azureml.ms",
                     "privatelink.notebooks.azure.net"}
    assert len(blocks(nlp, "azurerm_private_dns_zone_virtual_network_link")) == len(zones)


# ---------------------------------------------------------------- Azure ML
def test_ml_workspace_is_private_and_uses_the_team_resources(nlp):
    ws = one(nlp, "azurerm_machine_learning_workspace", name="mlw-acme-nlp-prod")
    assert ws["kind"] == "Default" and ws["public_network_access_enabled"] is False
    assert ws["managed_network"] == {"isolation_mode": "AllowOnlyApprovedOutbound"}
    assert ws["key_vault_id"] == "${" + address(nlp, "azurerm_key_vault") + ".id}"
    assert ws["storage_account_id"] == "${" + address(nlp, "azurerm_storage_account") + ".id}"
    assert ws["container_registry_id"] == "${" + address(nlp, "azurerm_container_registry") + ".id}"
    assert ws["application_insights_id"] == "${" + address(nlp, "azurerm_application_insights") + ".id}"
    assert ws["storage_account_access_type"] == "identity"
    insights = one(nlp, "azurerm_application_insights")
    assert insights["workspace_id"] == "${" + address(nlp, "azurerm_log_analytics_workspace") + ".id}"
    # The example's nlp Azure block has no feature store.
    assert len(blocks(nlp, "azurerm_machine_learning_workspace")) == 1


def test_feature_store_is_a_workspace_of_kind_feature_store(variant):
    fs = one(variant, "azurerm_machine_learning_workspace", kind="FeatureStore")
    assert fs["name"] == "mlfs-acme-nlp-prod" and fs["public_network_access_enabled"] is False
    assert fs["feature_store"]["computer_spark_runtime_version"] == "3.4"
    assert one(variant, "azurerm_machine_learning_workspace", kind="Default")["managed_network"] == \
        {"isolation_mode": "AllowInternetOutbound"}
    assert sum(e["private_service_connection"]["subresource_names"] == ["amlworkspace"]
               for e in blocks(variant, "azurerm_private_endpoint")) == 2


def test_a_compute_cluster_per_capacity_group_scales_to_zero(nlp):
    clusters = {c["name"]: c for c in blocks(nlp, "azurerm_machine_learning_compute_cluster")}
    assert set(clusters) == {"finetune-spot", next(n for n in clusters if n.endswith("-ondemand"))}
    assert clusters["finetune-spot"]["vm_priority"] == "LowPriority"
    [dedicated] = [c for n, c in clusters.items() if n != "finetune-spot"]
    assert dedicated["vm_priority"] == "Dedicated"
    for c in clusters.values():
        assert c["vm_size"] == "Standard_NC24ads_A100_v4"
        assert c["scale_settings"] == {"min_node_count": 0, "max_node_count": 2,
                                       "scale_down_nodes_after_idle_duration": "PT15M"}
        assert c["node_public_ip_enabled"] is False and c["local_auth_enabled"] is False
        assert c["ssh_public_access_enabled"] is False


def test_online_endpoint_is_created_and_then_left_to_terraml_deploy(nlp):
    ep = one(nlp, "azapi_resource", name="acme-nlp-prod-chat")
    assert ep["type"] == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-10-01"
    assert ep["parent_id"] == "${" + address(nlp, "azurerm_machine_learning_workspace") + ".id}"
    assert ep["body"]["properties"]["authMode"] == "AADToken"
    assert ep["body"]["properties"]["publicNetworkAccess"] == "Disabled"
    assert "traffic" not in ep["body"]["properties"]  # deployments and traffic belong to the backend
    assert ep["lifecycle"]["ignore_changes"] == ["body", "tags"]
    assert ep["identity"] == [{"type": "SystemAssigned"}]


def test_online_endpoint_records_its_instances_for_the_estimate(nlp):
    """A '//' note (Terraform ignores it) with the spec's instance type and replicas, which the pricer reads."""
    ep = one(nlp, "azapi_resource", name="acme-nlp-prod-chat")
    assert ep["//"]["terraml"] == {"online_endpoint": {"instance_type": "Standard_NC24ads_A100_v4",
                                                       "min_instances": 1, "max_instances": 1}}


# ---------------------------------------------------------------- budget and tags
def test_budget_covers_the_team_group_and_the_aks_node_group_and_alerts_the_owners(nlp):
    """AKS bills the nodes (the GPU spend) in its node resource group: one subscription budget filtered to both
    groups, so one amount covers everything the stack runs."""
    assert blocks(nlp, "azurerm_consumption_budget_resource_group") == []
    b = one(nlp, "azurerm_consumption_budget_subscription")
    assert b["subscription_id"] == "/subscriptions/00000000-0000-0000-0000-000000000000"
    cluster = address(nlp, "azurerm_kubernetes_cluster")
    assert b["filter"] == {"dimension": [{"name": "ResourceGroupName", "operator": "In", "values": [
        "rg-acme-nlp-prod", "${lower(" + cluster + ".node_resource_group)}"]}]}
    assert "node_resource_group" not in one(nlp, "azurerm_kubernetes_cluster")  # AKS's own name: no replacement
    assert (b["amount"], b["time_grain"], b["name"]) == (35000, "Monthly", "budget-acme-nlp-prod-monthly")
    actual = sorted(n["threshold"] for n in b["notification"] if n["threshold_type"] == "Actual")
    assert actual == [80, 100]
    assert [n["threshold"] for n in b["notification"] if n["threshold_type"] == "Forecasted"] == [100]
    assert all(n["contact_emails"] == ["nlp-leads@acme.example"] for n in b["notification"])
    # The first of the month of the first deploy, then kept: the same JSON on every synth.
    assert b["time_period"]["start_date"] == "${formatdate(\"YYYY-MM-01'T'00:00:00Z\", plantimestamp())}"
    assert b["lifecycle"]["ignore_changes"] == ["time_period"]


def test_every_taggable_resource_has_the_mandatory_tags(nlp):
    expected = {"team": "nlp", "cost-center": "CC-2077", "environment": "prod", "managed-by": "terraml"}
    tagged = [(rtype, b["tags"]) for rtype, named in nlp["resource"].items() for b in named.values() if "tags" in b]
    assert len(tagged) > 25
    assert all(expected.items() <= tags.items() for _, tags in tagged)


@pytest.mark.parametrize("tags,message", [
    ({"owner/team": "x"}, "cannot contain"),
    ({"a" * 513: "x"}, "at most 512"),
    ({"note": "v" * 257}, "at most 256"),
    ({"Owner": "x", "owner": "y"}, "case-insensitive"),
])
def test_tags_azure_rejects_fail_the_synth(tmp_path, tags, message):
    """The stack holds the tags to Azure's rules itself (the shared spec checks apply other clouds' rules,
    so they are left out here)."""
    from terraml.errors import UserError

    doc = example_doc()
    doc["defaults"]["tags"] = {**doc["defaults"]["tags"], **tags}
    with pytest.raises(UserError, match=message):
        synth_azure(tmp_path, doc, check=False)


def test_storage_accounts_hold_tag_names_to_128_characters():
    from terraml.errors import UserError
    from terraml.modules.azure.tags import check_tags

    check_tags({"k" * 512: "v"})
    with pytest.raises(UserError, match="at most 128"):
        check_tags({"k" * 129: "v"}, max_name=128)


def test_stack_needs_no_typed_binding_at_runtime():
    for path in Path(__file__).parents[2].glob("*/azure/*.py"):
        if path.parts[-3] in ("providers", "modules"):
            assert not re.search(r"^\s*(from|import) cdktn_provider_", path.read_text(), re.M), path


def test_network_overlapping_the_overlay_is_refused():
    from terraml.spec.checks import check_platform
    from terraml.spec.loader import parse_platform

    doc = example_doc()
    nlp_azure(doc)["network"]["cidr"] = "192.168.0.0/20"
    errors, _ = check_platform(parse_platform(doc, "test"))
    assert any("overlaps the AKS overlay pod_cidr" in e.message and e.path.endswith("azure.network.cidr")
               for e in errors)
