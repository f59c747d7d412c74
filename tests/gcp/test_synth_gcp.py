"""The GCP team stack holds the resources the spec asks for, with the values it asks for, and GCP's safe
defaults: private GKE, Workload Identity, CMEK everywhere, labels on everything labelable."""

from __future__ import annotations

import json
import re

import pytest

from terraml.catalog import load_catalog
from terraml.cloud import of_resource_type
from terraml.modules.gcp.labels import LABEL_PATH
from terraml.policy.capacity import ACCELERATOR_LABEL, CAPACITY_LABEL, POOL_LABEL

STACK = "nlp-gcp"
EXPECTED_LABELS = {"team": "nlp", "cost-center": "cc-2077", "environment": "prod", "managed-by": "terraml"}


def blocks(stack: dict, rtype: str) -> list[dict]:
    return list(stack.get("resource", {}).get(rtype, {}).values())


def one(stack: dict, rtype: str, **match) -> dict:
    found = [b for b in blocks(stack, rtype) if all(b.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one {rtype} matching {match}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def nlp(stacks) -> dict:
    return stacks[STACK]


def ref(stack: dict, rtype: str, attr: str, **match) -> str:
    name = next(n for n, b in stack["resource"][rtype].items() if all(b.get(k) == v for k, v in match.items()))
    return f"${{{rtype}.{name}.{attr}}}"


def test_provider_is_pinned_to_the_typed_bindings_version(nlp):
    assert nlp["terraform"]["required_providers"]["google"] == {"source": "hashicorp/google", "version": "~> 8.7.0"}
    assert nlp["provider"]["google"] == [{"project": "acme-nlp-prod", "region": "us-central1"}]
    assert "google-beta" not in nlp["provider"]


def test_state_backend_is_gcs_with_a_prefix_per_org_environment_and_stack(nlp):
    assert nlp["terraform"]["backend"] == {"gcs": {"bucket": "acme-terraform-state",
                                                   "prefix": "terraml/acme/prod/nlp-gcp"}}


def test_network_has_secondary_ranges_private_google_access_flow_logs_and_nat(nlp):
    vpc = one(nlp, "google_compute_network", name="acme-nlp-prod")
    assert vpc["auto_create_subnetworks"] is False
    subnet = one(nlp, "google_compute_subnetwork")
    assert subnet["ip_cidr_range"] == "10.30.0.0/20" and subnet["region"] == "us-central1"
    assert {r["range_name"]: r["ip_cidr_range"] for r in subnet["secondary_ip_range"]} == {
        "pods": "10.30.128.0/17", "services": "10.30.16.0/20"}
    assert subnet["private_ip_google_access"] is True
    assert subnet["log_config"]["metadata"] == "INCLUDE_ALL_METADATA" and subnet["log_config"]["flow_sampling"] > 0
    nat = one(nlp, "google_compute_router_nat")
    assert nat["router"] == ref(nlp, "google_compute_router", "name")
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetwork"] == [{"name": ref(nlp, "google_compute_subnetwork", "id"),
                                  "source_ip_ranges_to_nat": ["ALL_IP_RANGES"]}]
    deny = one(nlp, "google_compute_firewall")
    assert (deny["direction"], deny["deny"], deny["source_ranges"]) == ("INGRESS", [{"protocol": "all"}],
                                                                         ["0.0.0.0/0"])


def test_cluster_is_private_with_workload_identity_shielded_and_protected(nlp):
    cluster = one(nlp, "google_container_cluster", name="acme-nlp-prod")
    private = cluster["private_cluster_config"]
    assert private["enable_private_nodes"] is True
    assert private["enable_private_endpoint"] is True  # no public_api_cidrs in the spec
    assert private["master_ipv4_cidr_block"] == "10.30.32.0/28"
    assert cluster["master_authorized_networks_config"] == {"cidr_blocks": [],
                                                            "gcp_public_cidrs_access_enabled": False}
    assert cluster["workload_identity_config"] == {"workload_pool": "acme-nlp-prod.svc.id.goog"}
    assert cluster["enable_shielded_nodes"] is True
    assert cluster["release_channel"] == {"channel": "REGULAR"}
    assert cluster["min_master_version"] == "1.33"
    assert cluster["deletion_protection"] is True
    assert cluster["remove_default_node_pool"] is True
    assert "initial_node_count" in cluster["lifecycle"]["ignore_changes"]
    assert cluster["database_encryption"] == {
        "state": "ENCRYPTED",
        "key_name": ref(nlp, "google_kms_crypto_key_iam_member", "crypto_key_id",
                        member="serviceAccount:service-${data.google_project.project.number}"
                               "@container-engine-robot.iam.gserviceaccount.com")}
    assert cluster["ip_allocation_policy"] == {"cluster_secondary_range_name": "pods",
                                               "services_secondary_range_name": "services"}


def test_public_api_cidrs_open_the_public_endpoint_to_those_networks_only(tmp_path):
    from terraml.spec import load_platform
    from terraml.synth import synth

    from ..conftest import EXAMPLE

    spec = tmp_path / "platform.yaml"
    spec.write_text(EXAMPLE.read_text().replace("network: {cidr: 10.30.0.0/16}",
                                                "network: {cidr: 10.30.0.0/16, public_api_cidrs: [203.0.113.0/24]}"))
    synth(load_platform(spec).platform, tmp_path / "out", team="nlp", cloud="gcp")
    doc = json.loads((tmp_path / "out" / "stacks" / STACK / "cdk.tf.json").read_text())
    cluster = one(doc, "google_container_cluster")
    assert cluster["private_cluster_config"]["enable_private_endpoint"] is False
    assert cluster["private_cluster_config"]["enable_private_nodes"] is True
    assert cluster["master_authorized_networks_config"]["cidr_blocks"] == [
        {"cidr_block": "203.0.113.0/24", "display_name": "public-api-0"}]


def test_nodes_run_as_a_dedicated_least_privilege_account(nlp):
    account = one(nlp, "google_service_account", account_id="acme-nlp-prod-gke-nodes")
    email = ref(nlp, "google_service_account", "email", account_id="acme-nlp-prod-gke-nodes")
    pools = blocks(nlp, "google_container_node_pool")
    assert account and pools
    for pool in pools + [one(nlp, "google_container_cluster")]:
        config = pool["node_config"]
        assert config["service_account"] == email  # never the Compute Engine default account
        assert config["workload_metadata_config"] == {"mode": "GKE_METADATA"}
        assert config["shielded_instance_config"] == {"enable_secure_boot": True, "enable_integrity_monitoring": True}
        assert config["boot_disk_kms_key"].startswith("${google_kms_crypto_key_iam_member.")
    roles = {b["role"] for b in blocks(nlp, "google_project_iam_member") if b["member"] == f"serviceAccount:{email}"}
    assert roles == {"roles/container.defaultNodeServiceAccount"}


def test_system_pool_is_small_on_demand_and_untainted(nlp):
    system = one(nlp, "google_container_node_pool", name="system")
    assert system["node_config"]["spot"] is False and "taint" not in system["node_config"]
    assert "guest_accelerator" not in system["node_config"]
    assert system["autoscaling"]["total_min_node_count"] == 2
    assert system["node_config"]["labels"][POOL_LABEL] == "system"


def test_gpu_pool_is_spot_bundled_gpus_driver_installed_tainted_labelled_and_scales_to_zero(nlp):
    pool = one(nlp, "google_container_node_pool", name="train-spot")
    config = pool["node_config"]
    cheapest = load_catalog().cheapest("gcp", "us-central1", "A100-80GB", 8)
    assert config["machine_type"] == cheapest.instance_type == "a2-ultragpu-8g"
    # a2-ultragpu bundles 8 x A100 80GB: the accelerator matches the machine family, never an N1 attachment.
    assert config["guest_accelerator"] == [{"type": "nvidia-a100-80gb", "count": 8,
                                            "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"}}]
    assert config["spot"] is True
    assert pool["autoscaling"] == {"total_min_node_count": 0, "total_max_node_count": 2, "location_policy": "ANY"}
    assert config["taint"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert config["labels"] == {POOL_LABEL: "train", CAPACITY_LABEL: "spot", ACCELERATOR_LABEL: "A100-80GB"}
    assert pool["initial_node_count"] == 0
    assert pool["lifecycle"]["ignore_changes"] == ["initial_node_count"]
    assert pool["management"] == {"auto_repair": True, "auto_upgrade": True}
    # spot only: no on-demand fallback pool
    assert [p["name"] for p in blocks(nlp, "google_container_node_pool")] == ["system", "train-spot"]


def _synth_with_pool(tmp_path, pool_yaml: str) -> dict:
    from terraml.spec import load_platform
    from terraml.synth import synth

    from ..conftest import EXAMPLE

    text = EXAMPLE.read_text()
    old = ("          - name: train\n            accelerator: A100-80GB\n            accelerator_count: 8\n"
           "            min_nodes: 0\n            max_nodes: 2\n            spot: {mode: spot}            "
           "# spot only: never falls back to on-demand\n")
    assert old in text
    spec = tmp_path / "platform.yaml"
    spec.write_text(text.replace(old, pool_yaml))
    synth(load_platform(spec).platform, tmp_path / "out", team="nlp", cloud="gcp")
    return json.loads((tmp_path / "out" / "stacks" / STACK / "cdk.tf.json").read_text())


def test_auto_pool_is_a_spot_pool_plus_an_on_demand_fallback(tmp_path):
    doc = _synth_with_pool(tmp_path, "          - name: serve\n            accelerator: L4\n            min_nodes: 1\n"
                                     "            max_nodes: 4\n            spot: {mode: auto}\n")
    spot = one(doc, "google_container_node_pool", name="serve-spot")
    fallback = one(doc, "google_container_node_pool", name="serve-ondemand")
    assert spot["node_config"]["spot"] is True and fallback["node_config"]["spot"] is False
    assert spot["node_config"]["machine_type"] == fallback["node_config"]["machine_type"] == "g2-standard-4"
    assert spot["node_config"]["guest_accelerator"][0]["type"] == "nvidia-l4"
    # The plan's minimum stays on the spot pool; the fallback starts from zero and only takes what spot cannot.
    assert (spot["autoscaling"]["total_min_node_count"], fallback["autoscaling"]["total_min_node_count"]) == (1, 0)
    assert spot["autoscaling"]["location_policy"] == "ANY"
    assert fallback["autoscaling"]["location_policy"] == "BALANCED"
    # One label selects both: GKE's autoscaler picks the cheaper (spot) pool first.
    assert spot["node_config"]["labels"][POOL_LABEL] == fallback["node_config"]["labels"][POOL_LABEL] == "serve"
    assert (spot["node_config"]["labels"][CAPACITY_LABEL], fallback["node_config"]["labels"][CAPACITY_LABEL]) == \
        ("spot", "on-demand")


def test_zones_pin_a_pool_to_the_zones_that_offer_its_gpu(tmp_path):
    doc = _synth_with_pool(tmp_path, "          - name: train\n            machine_type: a2-ultragpu-8g\n"
                                     "            max_nodes: 2\n            spot: {mode: spot}\n"
                                     "            zones: [us-central1-a, us-central1-c]\n")
    pool = one(doc, "google_container_node_pool", name="train-spot")
    assert pool["node_locations"] == ["us-central1-a", "us-central1-c"]
    assert pool["node_config"]["guest_accelerator"][0]["type"] == "nvidia-a100-80gb"
    assert pool["node_config"]["guest_accelerator"][0]["count"] == 8


def test_registry_is_immutable_encrypted_and_keeps_the_newest_images(nlp):
    repo = one(nlp, "google_artifact_registry_repository", repository_id="acme-nlp-prod")
    assert (repo["format"], repo["location"], repo["docker_config"]) == ("DOCKER", "us-central1",
                                                                         {"immutable_tags": True})
    assert repo["kms_key_name"].startswith("${google_kms_crypto_key_iam_member.")
    policies = {p["action"]: p for p in repo["cleanup_policies"]}
    assert policies["KEEP"]["most_recent_versions"] == {"keep_count": 200}
    assert policies["DELETE"]["condition"] == {"tag_state": "ANY"}
    assert repo["cleanup_policy_dry_run"] is False
    readers = {b["member"] for b in blocks(nlp, "google_artifact_registry_repository_iam_member")}
    assert all(b["role"] == "roles/artifactregistry.reader" for b in blocks(
        nlp, "google_artifact_registry_repository_iam_member"))
    assert len(readers) == 3  # nodes, training, serving


def test_bucket_is_private_versioned_encrypted_and_expires_old_versions(nlp):
    bucket = one(nlp, "google_storage_bucket", name="acme-nlp-prod-ml-artifacts-us-central1")
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["encryption"]["default_kms_key_name"] == ref(
        nlp, "google_kms_crypto_key_iam_member", "crypto_key_id", member="${data.google_storage_project_service_account"
        ".gcs-agent.member}")
    assert {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 90, "with_state": "ARCHIVED"}} \
        in bucket["lifecycle_rule"]
    assert bucket["force_destroy"] is False and bucket["deletion_policy"] == "PREVENT"


def test_kms_keys_rotate_and_are_never_destroyed(nlp):
    keys = blocks(nlp, "google_kms_crypto_key")
    assert sorted(k["name"] for k in keys) == ["gke", "registry", "storage", "vertex"]
    for key in keys:
        assert key["rotation_period"] == "7776000s"  # 90 days
        assert key["deletion_policy"] == "PREVENT" and key["lifecycle"]["prevent_destroy"] is True
    grants = blocks(nlp, "google_kms_crypto_key_iam_member")
    assert {g["role"] for g in grants} == {"roles/cloudkms.cryptoKeyEncrypterDecrypter"}
    assert all("service-" in g["member"] or g["member"].startswith("${data.") for g in grants)  # agents only


def test_workload_service_accounts_have_only_what_they_need(nlp):
    primitive = {"roles/owner", "roles/editor", "roles/viewer"}
    every_role = [b["role"] for rtype, named in nlp["resource"].items() if rtype.endswith("_iam_member")
                  for b in named.values()]
    assert not primitive.intersection(every_role)
    project_roles = sorted(b["role"] for b in blocks(nlp, "google_project_iam_member"))
    assert project_roles == ["roles/bigquery.jobUser", "roles/container.defaultNodeServiceAccount"]
    training = ref(nlp, "google_service_account", "email", account_id="acme-nlp-prod-training")
    serving = ref(nlp, "google_service_account", "email", account_id="acme-nlp-prod-serving")
    bucket = {b["member"]: b["role"] for b in blocks(nlp, "google_storage_bucket_iam_member")}
    assert bucket == {f"serviceAccount:{training}": "roles/storage.objectUser",
                      f"serviceAccount:{serving}": "roles/storage.objectViewer"}
    wi = {b["member"] for b in blocks(nlp, "google_service_account_iam_member")}
    assert wi == {"serviceAccount:acme-nlp-prod.svc.id.goog[nlp/training]",
                  "serviceAccount:acme-nlp-prod.svc.id.goog[nlp/serving]"}
    assert all(b["role"] == "roles/iam.workloadIdentityUser" and "google_container_cluster.gke_cluster_C5D95197"
               in b["depends_on"] for b in blocks(nlp, "google_service_account_iam_member"))  # the pool: the cluster


def test_feature_store_registers_bigquery_groups_and_serves_them_online(nlp):
    dataset = one(nlp, "google_bigquery_dataset", dataset_id="acme_nlp_prod_features")
    assert dataset["default_encryption_configuration"]["kms_key_name"].startswith("${google_kms_crypto_key_iam")
    table = one(nlp, "google_bigquery_table", table_id="doc_embeddings")
    columns = {c["name"]: (c["type"], c["mode"]) for c in json.loads(table["schema"])}
    assert columns == {"doc_id": ("STRING", "REQUIRED"), "updated_at": ("TIMESTAMP", "REQUIRED"),
                       "embedding": ("FLOAT", "REPEATED"), "lang": ("STRING", "NULLABLE"),
                       "length": ("INTEGER", "NULLABLE")}
    assert table["deletion_protection"] is True
    view = one(nlp, "google_bigquery_table", table_id="doc_embeddings_source")
    assert "updated_at AS feature_timestamp" in view["view"]["query"]
    group = one(nlp, "google_vertex_ai_feature_group", name="acme_nlp_prod_doc_embeddings")
    assert group["big_query"] == {"big_query_source": {
        "input_uri": "bq://acme-nlp-prod.acme_nlp_prod_features.doc_embeddings_source"},
        "entity_id_columns": ["doc_id"]}
    assert sorted(f["name"] for f in blocks(nlp, "google_vertex_ai_feature_group_feature")) == [
        "embedding", "lang", "length"]
    store = one(nlp, "google_vertex_ai_feature_online_store", name="acme_nlp_prod")
    assert store["bigtable"]["auto_scaling"]["min_node_count"] >= 1
    assert store["encryption_spec"]["kms_key_name"].startswith("${google_kms_crypto_key_iam_member.")
    view = one(nlp, "google_vertex_ai_feature_online_store_featureview", name="doc_embeddings")
    assert view["feature_registry_source"]["feature_groups"][0]["feature_ids"] == ["embedding", "lang", "length"]
    readers = {b["member"] for b in blocks(nlp, "google_bigquery_dataset_iam_member")}
    assert "serviceAccount:service-${data.google_project.project.number}@gcp-sa-aiplatform.iam.gserviceaccount.com" \
        in readers


def test_endpoint_ignores_the_traffic_split_the_backend_sets(nlp):
    endpoint = one(nlp, "google_vertex_ai_endpoint", display_name="acme-nlp-prod-summarizer")
    assert endpoint["lifecycle"]["ignore_changes"] == ["traffic_split"]
    assert re.fullmatch(r"[1-9][0-9]{9}", endpoint["name"])
    assert endpoint["location"] == "us-central1"
    assert "g2-standard-8 + 1 x L4, 1-2 replicas" in endpoint["description"]
    assert endpoint["encryption_spec"]["kms_key_name"].startswith("${google_kms_crypto_key_iam_member.")


def test_budget_filters_on_the_team_label_and_alerts_owners(nlp):
    budget = one(nlp, "google_billing_budget")
    assert budget["budget_filter"]["labels"] == {"team": "nlp"}
    assert budget["budget_filter"]["projects"] == ["projects/${data.google_project.project.number}"]
    assert budget["amount"] == {"specified_amount": {"currency_code": "USD", "units": "35000"}}
    actual = sorted(r["threshold_percent"] for r in budget["threshold_rules"] if r["spend_basis"] == "CURRENT_SPEND")
    assert actual == [0.8, 1.0]  # the spec's default alert_at_percent [80, 100]
    channel = one(nlp, "google_monitoring_notification_channel")
    assert channel["labels"] == {"email_address": "nlp-leads@acme.example"}
    assert budget["all_updates_rule"]["monitoring_notification_channels"] == [
        ref(nlp, "google_monitoring_notification_channel", "id")]


def test_every_labelable_resource_has_the_mandatory_labels_as_valid_gcp_labels(nlp):
    from tests.gates.bindings import _hints, binding_class

    labelled = 0
    for rtype, named in nlp["resource"].items():
        path = LABEL_PATH.get(rtype, ("labels",))
        hints = _hints(binding_class(rtype))
        if path[0] not in hints:
            continue
        for block in named.values():
            labels = block
            for key in path:
                labels = labels[key]
            assert EXPECTED_LABELS.items() <= labels.items(), rtype
            for key, value in labels.items():
                assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key) and re.fullmatch(r"[a-z0-9_-]{0,63}", value)
            labelled += 1
    assert labelled >= 20
    # the notification channel's 'labels' is its address; its own labels are user_labels
    assert one(nlp, "google_monitoring_notification_channel")["user_labels"] == EXPECTED_LABELS


def test_every_resource_type_belongs_to_the_google_provider(nlp):
    assert all(of_resource_type(t).NAME == "gcp" for t in nlp["resource"])


REF = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")


def test_every_reference_points_at_a_block_in_the_stack(nlp):
    text = json.dumps({k: v for k, v in nlp.items() if k != "//"})
    refs = {(bool(m.group(1)), m.group(2), m.group(3)) for m in REF.finditer(text)}
    assert len(refs) > 25
    for is_data, rtype, name in refs:
        section = nlp["data"] if is_data else nlp["resource"]
        assert name in section.get(rtype, {}), f"dangling reference {rtype}.{name}"



# Plain blocks (modules/core.py): every cloud's resources and data sources are plain Python objects that one
# cdktn element per stack writes out. They must come out exactly as cdktn's own constructs wrote them before
# (the snapshots of every cloud hold that for the example; these tests for each feature of a block).

def _both_ways(tmp_path) -> tuple[dict, dict]:
    """The same blocks twice in one app: as terraml blocks, and as cdktn constructs given the same attributes."""
    from cdktn import App, TerraformDataSource, TerraformProvider, TerraformResource, TerraformStack
    from constructs import Construct

    from terraml.modules.core import DataSource, Module, Provider, Resource, _prune

    class Attributes:
        def _synthesize_attributes(self):
            return _prune(self.attrs)

    class CdktnResource(Attributes, TerraformResource):
        def __init__(self, scope, id, rtype, attrs, **kw):
            super().__init__(scope, id, terraform_resource_type=rtype, **kw)
            self.attrs = attrs

    class CdktnData(Attributes, TerraformDataSource):
        def __init__(self, scope, id, rtype, attrs):
            super().__init__(scope, id, terraform_resource_type=rtype)
            self.attrs = attrs

    app = App(outdir=str(tmp_path))
    ours = TerraformStack(app, "ours")
    ours.terraml_resources = []
    Provider(ours, "google", {"project": "p"})
    helm = Provider(ours, "helm", {})
    gke = Module(ours, "gke")
    project = DataSource(ours, "project", "google_project", {"project_id": "p"})
    account = Resource(Module(gke, "nodes"), "account", "google_service_account",
                       {"account_id": "a", "unset": None, "nested": {"keep": [1, {"x": None}], "empty": {}}})
    Resource(gke, "cluster", "google_container_cluster", {"name": project.attr("number"), "labels": {}},
             depends_on=[account, project], lifecycle={"ignore_changes": ["node_config"], "prevent_destroy": True},
             skip_checks={"CKV_GCP_1": "why", "CKV_GCP_0": "because"})
    chart = Resource(gke, "chart", "helm_release", {"name": "x", "values": ["a"]}, provider=helm, depends_on=[])
    chart.add_override("//.terraml.note", {"a": 1})
    chart.add_override("values", ["b"])

    theirs = TerraformStack(app, "theirs")
    TerraformProvider(theirs, "google", terraform_resource_type="google")
    c_helm = TerraformProvider(theirs, "helm", terraform_resource_type="helm")
    c_gke = Construct(theirs, "gke")
    c_project = CdktnData(theirs, "project", "google_project", {"project_id": "p"})
    c_account = CdktnResource(Construct(c_gke, "nodes"), "account", "google_service_account",
                              {"account_id": "a", "unset": None, "nested": {"keep": [1, {"x": None}], "empty": {}}})
    c_cluster = CdktnResource(c_gke, "cluster", "google_container_cluster",
                              {"name": "${data.google_project.project.number}", "labels": {}},
                              depends_on=[c_account, c_project],
                              lifecycle={"ignore_changes": ["node_config"], "prevent_destroy": True})
    c_cluster.add_override("//.checkov", ["checkov:skip=CKV_GCP_0:because", "checkov:skip=CKV_GCP_1:why"])
    c_chart = CdktnResource(c_gke, "chart", "helm_release", {"name": "x", "values": ["a"]}, provider=c_helm,
                            depends_on=[])
    c_chart.add_override("//.terraml.note", {"a": 1})
    c_chart.add_override("values", ["b"])
    app.synth()
    return tuple(json.loads((tmp_path / "stacks" / s / "cdk.tf.json").read_text()) for s in ("ours", "theirs"))


def test_plain_blocks_synthesize_as_cdktn_constructs_would(tmp_path):
    ours, theirs = _both_ways(tmp_path)
    for section in ("resource", "data", "//"):  # providers differ: cdktn's bare ones have no attributes
        text = json.dumps(ours[section]).replace('"ours"', '"theirs"').replace('"ours/', '"theirs/')
        assert json.loads(text) == theirs[section], section
    cluster = ours["resource"]["google_container_cluster"]["gke_cluster_C5D95197"]
    assert cluster["depends_on"] == ["google_service_account.gke_nodes_account_97C6D9C2",
                                     "data.google_project.project"]
    assert ours["resource"]["helm_release"]["gke_chart_38144929"]["values"] == ["a", "b"]  # cdktn's list merge
    assert ours["//"]["metadata"]["overrides"] == {"google_container_cluster": ["//"], "helm_release": ["//", "values"]}


@pytest.mark.parametrize("path", [("vpc",), ("a.b c",), ("gke", "cluster"), ("pool-train-spot", "pool"),
                                  ("x", "Default", "y"), ("Default", "solo"), ("bucket", "Resource"),
                                  ("vpc-network", "network", "x"), ("n" * 300,), ("m" * 200, "k" * 100)])
def test_terraform_names_are_the_ones_cdktn_gives(path):
    """logical_id is cdktn's makeUniqueId: blocks keep the names they had as cdktn constructs."""
    from cdktn import App, TerraformResource, TerraformStack
    from constructs import Construct

    from terraml.modules.core import logical_id

    scope = TerraformStack(App(), "s")
    for part in path[:-1]:
        scope = Construct(scope, part)
    assert logical_id(path) == TerraformResource(scope, path[-1], terraform_resource_type="t_x").friendly_unique_id


def test_a_construct_id_is_unique_in_its_scope_and_a_block_needs_a_terraml_stack():
    from cdktn import App, TerraformStack

    from terraml.modules.core import Module, Resource

    stack = TerraformStack(App(), "s")
    stack.terraml_resources = []
    Resource(stack, "vpc", "google_compute_network", {})
    with pytest.raises(ValueError, match="already a construct with id 'vpc' in the stack"):
        Module(stack, "vpc")
    module = Module(stack, "net")
    Resource(module, "x", "google_compute_network", {})
    with pytest.raises(ValueError, match="id 'x' in net"):
        Resource(module, "x", "google_compute_subnetwork", {})
    with pytest.raises(TypeError, match="terraml stack"):
        Resource(TerraformStack(App(), "plain"), "x", "google_compute_network", {})


def test_a_block_without_its_provider_fails_the_synth(tmp_path):
    from cdktn import App, TerraformStack

    from terraml.modules.core import Provider, Resource

    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "s")
    stack.terraml_resources = []
    Provider(stack, "google", {})
    Resource(stack, "release", "helm_release", {"name": "x"})
    with pytest.raises(Exception, match=r"providers \['helm'\] but no provider construct"):
        app.synth()


def test_blocks_with_cdktn_tokens_are_resolved_by_cdktn_and_synth_repeats(tmp_path):
    """cdktn's preparing pass gets the blocks only when they hold a token; either way each synth is whole."""
    from cdktn import App, Fn, TerraformStack

    from terraml.modules.core import Provider, Resource

    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "s")
    stack.terraml_resources = []
    Provider(stack, "google", {})
    Resource(stack, "plain", "google_compute_network", {"name": "n"})
    Resource(stack, "token", "google_compute_network", {"name": Fn.lower("ABC"), "labels": {"x": Fn.upper("d")}})
    written = []
    for _ in range(2):
        app.synth()
        written.append(json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text()))
    assert written[0] == written[1]
    networks = written[0]["resource"]["google_compute_network"]
    assert networks["token"]["name"] == '${lower("ABC")}' and networks["token"]["labels"] == {"x": '${upper("d")}'}
    assert networks["plain"]["name"] == "n"


API_TYPES = {
    "compute.googleapis.com": "google_compute_network", "container.googleapis.com": "google_container_cluster",
    "artifactregistry.googleapis.com": "google_artifact_registry_repository",
    "cloudkms.googleapis.com": "google_kms_crypto_key", "aiplatform.googleapis.com": "google_vertex_ai_endpoint",
    "bigquery.googleapis.com": "google_bigquery_dataset", "billingbudgets.googleapis.com": "google_billing_budget",
    "monitoring.googleapis.com": "google_monitoring_notification_channel",
    "iam.googleapis.com": "google_service_account", "storage.googleapis.com": "google_storage_bucket",
    "cloudresourcemanager.googleapis.com": "google_project_iam_member"}


def services(stack: dict) -> dict[str, str]:
    """API -> the address of its google_project_service."""
    return {b["service"]: f"google_project_service.{name}"
            for name, b in stack["resource"]["google_project_service"].items()}


def test_the_apis_the_stack_uses_are_enabled_and_never_disabled_on_destroy(nlp):
    enabled = services(nlp)
    assert set(API_TYPES) | {"logging.googleapis.com", "iamcredentials.googleapis.com",
                             "containerscanning.googleapis.com"} == set(enabled)
    for block in blocks(nlp, "google_project_service"):
        assert block["project"] == "acme-nlp-prod"
        assert block["disable_on_destroy"] is False and block["disable_dependent_services"] is False
        assert "depends_on" not in block


def test_every_resource_waits_for_its_api(nlp):
    from terraml.modules.gcp.project_services import api_of

    enabled = services(nlp)
    for api, rtype in API_TYPES.items():
        assert api_of(rtype) == api
    for rtype, named in nlp["resource"].items():
        if rtype == "google_project_service":
            continue
        for name, block in named.items():
            assert enabled[api_of(rtype)] in block["depends_on"], f"{rtype}.{name}"
    # data sources read at plan time: a dependency would defer them and make the project number unknown
    assert all("depends_on" not in b for named in nlp["data"].values() for b in named.values())


def test_grants_to_a_service_agent_wait_for_the_api_that_creates_the_agent(nlp):
    enabled = services(nlp)
    agents = {"container-engine-robot": "container.googleapis.com", "compute-system": "compute.googleapis.com",
              "gcp-sa-artifactregistry": "artifactregistry.googleapis.com",
              "gcp-sa-aiplatform": "aiplatform.googleapis.com"}
    checked = 0
    for named in nlp["resource"].values():
        for block in named.values():
            for agent, api in agents.items():
                if f"@{agent}.iam" in block.get("member", ""):
                    assert enabled[api] in block["depends_on"], block["member"]
                    checked += 1
    assert checked == 5  # gke, compute, registry and vertex keys, and the feature store's dataset


def test_an_unknown_resource_type_has_no_api_until_one_is_named():
    from terraml.modules.gcp.project_services import api_of

    with pytest.raises(KeyError, match="add its Google API to API_OF_TYPE"):
        api_of("google_dns_managed_zone")
    assert api_of("google_project") == "cloudresourcemanager.googleapis.com"
    assert api_of("google_service_account_iam_member") == "iam.googleapis.com"


def test_without_scan_on_push_the_container_scanning_api_stays_off(tmp_path):
    from terraml.spec import load_platform
    from terraml.synth import synth

    from ..conftest import EXAMPLE

    text = EXAMPLE.read_text()
    start = text.index("        registry:", text.index("      gcp:"))
    end = text.index("\n", start)
    spec = tmp_path / "platform.yaml"
    spec.write_text(text[:start] + "        registry: {scan_on_push: false}" + text[end:])
    synth(load_platform(spec).platform, tmp_path / "out", team="nlp", cloud="gcp")
    doc = json.loads((tmp_path / "out" / "stacks" / STACK / "cdk.tf.json").read_text())
    assert "containerscanning.googleapis.com" not in services(doc)
    assert "artifactregistry.googleapis.com" in services(doc)


def test_a_gpu_pool_without_zones_runs_in_the_zones_that_offer_its_gpu(nlp):
    assert one(nlp, "google_container_node_pool", name="train-spot")["node_locations"] == [
        "us-central1-a", "us-central1-c"]  # A100 80GB in us-central1 (providers/gcp/machines.py GPU_ZONES)
    assert "node_locations" not in one(nlp, "google_container_node_pool", name="system")


def test_a_gpu_pool_in_zones_without_its_gpu_fails_the_synth(tmp_path):
    from terraml.errors import SpecError

    # the stack refuses it; once GcpCloud.check_block runs gpu_zone_problem, the spec load refuses it first
    with pytest.raises((ValueError, SpecError), match="us-central1-b does not offer A100-80GB"):
        _synth_with_pool(tmp_path, "          - name: train\n            machine_type: a2-ultragpu-8g\n"
                                   "            max_nodes: 2\n            spot: {mode: spot}\n"
                                   "            zones: [us-central1-b]\n")
