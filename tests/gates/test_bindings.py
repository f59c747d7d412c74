"""Every synthesized block is accepted by the typed CDK Terrain bindings and synthesizes identically."""

from __future__ import annotations

import copy

import pytest

from .bindings import binding_class, taggable, validate_stack
from .conftest import example_stack_names

STACKS = example_stack_names()


@pytest.mark.parametrize("stack", STACKS)
def test_every_block_passes_the_typed_bindings(stacks, stack):
    problems = validate_stack(stacks[stack])
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_is_tagged(stacks, stack):
    untagged = [f"{rtype}.{name}" for rtype, named in stacks[stack]["resource"].items() if taggable(rtype)
                for name, block in named.items() if "team" not in block.get("tags", {})]
    assert untagged == []


def _vision_block(stacks, rtype):
    name, block = next(iter(stacks["vision-aws"]["resource"][rtype].items()))
    return {"resource": {rtype: {name: copy.deepcopy(block)}}}, name


def test_validator_rejects_an_unknown_nested_key(stacks):
    doc, name = _vision_block(stacks, "aws_sagemaker_feature_group")
    doc["resource"]["aws_sagemaker_feature_group"][name]["feature_definition"][0]["feature_typo"] = "String"
    [problem] = validate_stack(doc)
    assert "feature_typo" in problem


def test_validator_rejects_a_missing_required_attribute(stacks):
    doc, name = _vision_block(stacks, "aws_eks_cluster")
    del doc["resource"]["aws_eks_cluster"][name]["role_arn"]
    [problem] = validate_stack(doc)
    assert "role_arn" in problem


def test_validator_rejects_a_wrong_type(stacks):
    doc, name = _vision_block(stacks, "aws_eks_node_group")
    doc["resource"]["aws_eks_node_group"][name]["instance_types"] = "g5.2xlarge"
    [problem] = validate_stack(doc)
    assert "instanceTypes" in problem and "Value is not an array" in problem


def test_validator_rejects_a_single_block_where_a_list_is_required(stacks):
    doc, name = _vision_block(stacks, "aws_ecr_repository")
    block = doc["resource"]["aws_ecr_repository"][name]
    block["encryption_configuration"] = block["encryption_configuration"][0]
    [problem] = validate_stack(doc)
    assert "encryptionConfiguration" in problem


def test_bindings_know_our_resource_types():
    assert binding_class("aws_eks_node_group").__name__ == "AwsNodeGroup"
    assert not taggable("aws_iam_role_policy_attachment")
