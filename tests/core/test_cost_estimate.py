"""Cloud-neutral estimate behaviour: every line accounted for, unknown types and regions, bad or missing stacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate, price_resource
from terraml.cost.model import FREE, PRICED, UNPRICED, Usage
from terraml.cost.pricing import ResourceToPrice
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


def test_estimate_makes_the_lines_price_resource_makes(synth_dir, tmp_path):
    """estimate() prices resource by resource with what a stack or a type shares looked up once, and makes the
    lines of free and unpriced types itself: the same lines, in the same order, as price_resource one at a time."""
    mixed = write_stack(tmp_path, "ml-aws", {
        "aws_s3_bucket": {"tagged": {"tags": {"team": "vision"}}, "untagged": {}},
        "aws_iam_role": {"labelled": {"labels": {"team": "nlp"}}, "plain": {"tags": "not a map"}},
        "helm_release": {"h": {}}, "aws_mystery_thing": {"m": {}}})
    stacks = [*read_stacks(synth_dir), mixed]
    today, usage = date(2026, 11, 30), Usage(nat_data_gb=250)
    one_by_one = [line for s in stacks for rtype, name, block in s.resources()
                  for line in price_resource(s, rtype, name, block, load_catalog(), usage, today)]
    assert [repr(x) for x in estimate(stacks, load_catalog(), usage, today).lines] == [repr(x) for x in one_by_one]
    teams = {x.address: x.team for x in one_by_one if x.stack == "ml-aws"}
    assert teams["aws_s3_bucket.tagged"] == "vision" and teams["aws_iam_role.labelled"] == "nlp"
    assert teams["aws_s3_bucket.untagged"] == teams["aws_iam_role.plain"] == "ml"


def test_stacks_are_read_in_the_order_of_their_folders(tmp_path):
    """Folder names order the stacks (as sorting the paths does: 'a' before 'a-b', though 'a-b/' < 'a/'), hidden
    and symlinked folders count, folders without a cdk.tf.json do not."""
    for name in ("a-b", "a", ".hidden", "a.b", "B", "elsewhere/z"):
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text('{"resource": {}}')
    (tmp_path / "stacks" / "empty").mkdir()
    (tmp_path / "stacks" / "link").symlink_to(tmp_path / "stacks" / "elsewhere" / "z")
    assert [s.name for s in read_stacks(tmp_path)] == [".hidden", "B", "a", "a-b", "a.b", "link"]
    assert [s.path for s in read_stacks(tmp_path)] == sorted(tmp_path.glob("stacks/*/cdk.tf.json"))


def test_money_is_quantity_times_price_as_written(tmp_path):
    """Decimal of each one's str, so 730 and 730.0 keep their own exponents, whichever is asked first."""
    r = ResourceToPrice(write_stack(tmp_path, "x-aws", {}), "aws_s3_bucket", "b", {}, "x", "aws", "us-east-1",
                        load_catalog(), Usage())
    for _ in range(2):
        assert str(r.money(730.0, 0.045)) == "32.8500" and str(r.money(730, 0.045)) == "32.850"
        assert str(r.money(Decimal("2.0"), 1)) == "2.0" and str(r.money(Decimal("2"), 1)) == "2"
        assert str(r.money(-0.0, 3)) == "-0.0" and str(r.money(0.0, 3)) == "0.0"
