"""Cloud-neutral estimate behaviour: every line accounted for, unknown types and regions, bad or missing stacks."""

from __future__ import annotations

import pytest

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.model import FREE, PRICED, UNPRICED
from terraml.cost.tfjson import read_stacks
from terraml.errors import UserError

from ..conftest import write_stack


def test_every_line_is_priced_free_or_unpriced_with_a_reason(example):
    for line in example.lines:
        assert line.status in (PRICED, FREE, UNPRICED)
        if line.status == PRICED:
            assert line.price_ref and line.as_of and line.unit_price is not None
        else:
            assert line.reason and line.monthly_max == 0
    unpriced = {x.resource_type for x in example.lines if x.status == UNPRICED}
    assert {"aws_sagemaker_feature_group", "aws_cloudwatch_metric_alarm"} <= unpriced


def test_every_synthesized_resource_has_a_line(example, stacks):
    addresses = {(name, f"{t}.{n}") for name, doc in stacks.items() for t, named in doc["resource"].items()
                 for n in named}
    assert addresses == {(x.stack, x.address) for x in example.lines}


def test_unknown_resource_type_is_reported_not_fatal(tmp_path):
    s = write_stack(tmp_path, "x-aws", {"aws_mystery_thing": {"m": {}}, "helm_release": {"h": {}}})
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
    s = write_stack(tmp_path, "x-aws", {"aws_eks_cluster": {"c": {}}}, provider={"aws": [{"region": "us-east-9"}]})
    with pytest.raises(UserError) as info:
        estimate([s], load_catalog())
    assert f"{s.path}: provider.aws[0].region: 'us-east-9' is not a aws region; did you mean" in str(info.value)


def test_a_real_region_without_prices_is_reported_per_resource(tmp_path):
    s = write_stack(tmp_path, "x-aws", {"aws_eks_node_group": {"n": {"instance_types": ["g5.xlarge"], "scaling_config":
        {"min_size": 0, "max_size": 1}}}}, provider={"aws": [{"region": "ap-south-1"}]})
    [line] = [x for x in estimate([s], load_catalog()).lines if x.component == "nodes"]
    assert line.status == UNPRICED and "no price for g5.xlarge in ap-south-1" in line.reason


def test_no_stacks_says_to_synth(tmp_path):
    with pytest.raises(UserError, match="run `terraml synth` first"):
        read_stacks(tmp_path)
