"""Azure names: limits beyond the conformance suite's longest-names check (determinism, uniqueness, the
capacity suffix surviving truncation) and the spec check that refuses two pools with one Azure name."""

from __future__ import annotations

from terraml.providers.azure.names import AzureNames

from .conftest import example_doc, nlp_azure

SUB = "00000000-0000-0000-0000-000000000000"


def test_node_pool_names_keep_the_capacity_suffix_and_fit_twelve_characters():
    names = AzureNames("acme", "nlp", "prod", SUB)
    assert names.node_pool("finetune", "spot") == "finetunespot"
    long = names.node_pool("finetune", "ondemand")
    assert len(long) == 12 and long.endswith("ondemand") and long.startswith("fi")
    assert long == AzureNames("other", "team", "dev", SUB).node_pool("finetune", "ondemand")  # pool-only
    assert names.node_pool("a-b", "spot") == "abspot"
    assert names.node_pool("finetune-a", "spot") != names.node_pool("finetune-b", "spot")


def test_global_names_depend_on_the_subscription_and_are_stable():
    one = AzureNames("acme", "nlp", "prod", SUB)
    other = AzureNames("acme", "nlp", "prod", "11111111-0000-0000-0000-000000000000")
    for kind in ("storage_account", "key_vault", "container_registry"):
        assert getattr(one, kind) != getattr(other, kind)
        assert getattr(one, kind) == getattr(AzureNames("acme", "nlp", "prod", SUB.upper()), kind)


def test_two_pools_with_one_azure_name_are_refused():
    from terraml.spec.checks import check_platform
    from terraml.spec.loader import parse_platform

    doc = example_doc()
    pools = nlp_azure(doc)["gpu_pools"]
    pools.append({**pools[0], "name": "fine-tune"})  # 'finetune' and 'fine-tune' both give 'finetunespot'
    errors, _ = check_platform(parse_platform(doc, "test"))
    assert any("both become 'finetunespot' on Azure" in e.message for e in errors)
