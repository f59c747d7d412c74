"""Tags become valid GCP labels deterministically (lowercase letters, digits, '_' and '-', 63 at most,
keys starting with a letter), and two tags never silently become one label."""

from __future__ import annotations

import re

import pytest

from terraml.errors import SpecError
from terraml.providers.gcp.labels import label_key, label_value, labels_from_tags

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


@pytest.mark.parametrize("text,value", [
    ("CC-2077", "cc-2077"), ("prod", "prod"), ("Owner: a@b.io", "owner__a_b_io"), ("", ""), ("Ümlaut", "_mlaut"),
])
def test_values_are_lowercased_and_unknown_characters_become_underscores(text, value):
    assert label_value(text) == value and VALUE.match(value)


@pytest.mark.parametrize("text,key", [
    ("cost-center", "cost-center"), ("Managed By", "managed_by"), ("2fa", "k_2fa"), ("_x", "k__x"),
])
def test_keys_start_with_a_letter(text, key):
    assert label_key(text) == key and KEY.match(key)


def test_long_texts_are_cut_with_a_stable_hash():
    value = label_value("A" * 100)
    assert len(value) == 63 and VALUE.match(value) and value == label_value("A" * 100)
    assert value != label_value("A" * 99 + "B")
    key = label_key("k" * 80)
    assert len(key) == 63 and KEY.match(key)


def test_mandatory_tags_of_the_example_become_these_labels(example_spec):
    from terraml.naming import team_tags

    platform = example_spec.platform
    labels = labels_from_tags(team_tags(platform, platform.team("nlp")))
    assert labels == {"managed-by": "terraml", "team": "nlp", "cost-center": "cc-2077", "environment": "prod"}


def test_two_tags_that_become_one_label_are_a_spec_error():
    with pytest.raises(SpecError) as info:
        labels_from_tags({"Owner": "a", "owner": "b"})
    [problem] = info.value.problems
    assert problem.path == "defaults.tags.owner" and "'owner'" in problem.message and "rename" in problem.message


def test_the_rule_loads_without_cdktn():
    import subprocess
    import sys

    code = ("import sys; import terraml.providers.gcp.labels, terraml.providers.gcp.vertex_request; "
            "assert not any(m.split('.')[0] in ('cdktn', 'cdktf', 'constructs') for m in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
