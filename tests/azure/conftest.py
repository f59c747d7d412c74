"""Azure stacks synthesized from specs of the tests' own (the example spec's nlp-azure comes from the shared
``stacks`` fixture)."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from ..conftest import EXAMPLE


def example_doc() -> dict:
    return json.loads(json.dumps(YAML(typ="safe").load(EXAMPLE.read_text())))


def nlp_azure(doc: dict) -> dict:
    return next(t for t in doc["teams"] if t["name"] == "nlp")["clouds"]["azure"]


def synth_azure(tmp_path, doc: dict, team: str = "nlp", *, check: bool = True) -> dict:
    """Check (unless told not to) and synthesize one team's Azure stack from a spec document; its JSON."""
    from terraml.spec.checks import check_platform
    from terraml.spec.loader import parse_platform
    from terraml.synth import synth

    platform = parse_platform(doc, "test spec")
    if check:
        errors, _ = check_platform(platform)
        assert errors == [], errors
    out = tmp_path / "cdktf.out"
    synth(platform, out, team=team, cloud="azure")
    return json.loads((out / "stacks" / f"{team}-azure" / "cdk.tf.json").read_text())


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    """nlp-azure with everything the example leaves at its defaults turned the other way: a feature store,
    a customer-managed key, a public API with authorized ranges, a Basic registry, spot-only and
    on-demand pools, internet outbound for Azure ML and an admin group."""
    doc = example_doc()
    block = nlp_azure(doc)
    block["network"]["public_api_cidrs"] = ["203.0.113.0/24"]
    block["registry"] = {"sku": "Basic", "keep_images": 50}
    block["storage"] = {"customer_managed_key": True, "soft_delete_days": 14}
    block["ml_outbound"] = "internet"
    block["admin_group_object_ids"] = ["11111111-2222-3333-4444-555555555555"]
    block["gpu_pools"] += [
        {"name": "batch", "instance_type": "Standard_NC24ads_A100_v4", "max_nodes": 3, "spot": {"mode": "spot"}},
        {"name": "serve", "instance_type": "Standard_NC24ads_A100_v4", "min_nodes": 1, "max_nodes": 2,
         "spot": {"mode": "on-demand"}},
        {"name": "nocap", "instance_type": "Standard_NC24ads_A100_v4", "max_nodes": 1, "spot": {"mode": "spot"}},
    ]
    block["feature_store"] = {"groups": [{"name": "doc_stats", "record_id": "doc_id", "event_time": "updated_at",
                                          "features": {"length": "integral", "lang": "string"}}]}
    return synth_azure(tmp_path_factory.mktemp("variant"), doc)
