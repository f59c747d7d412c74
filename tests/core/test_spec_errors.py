"""Every invalid spec fails with: the field path, the value received, what is allowed, and the fix."""

from __future__ import annotations

import copy
import io

import pytest
from ruamel.yaml import YAML

from terraml.errors import SpecError
from terraml.spec import load_platform

from ..conftest import EXAMPLE

_yaml = YAML(typ="safe")
BASE = _yaml.load(EXAMPLE.read_text())


def write(tmp_path, data) -> str:
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    path = tmp_path / "platform.yaml"
    path.write_text(buf.getvalue())
    return str(path)


def problems(tmp_path, change) -> dict[str, str]:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(SpecError) as info:
        load_platform(write(tmp_path, data))
    return {p.path: p.message for p in info.value.problems}


def vision_aws(d):
    return d["teams"][0]["clouds"]["aws"]


def nlp_gcp(d):
    return d["teams"][1]["clouds"]["gcp"]


def pool0(d):
    return vision_aws(d)["gpu_pools"][0]


CASES = [
    ("unknown top-level key", lambda d: d.update(tems=[]), "tems",
     ["unknown key 'tems'", "did you mean 'teams'?", "Allowed keys:", "Remove it"]),
    ("unknown pool key", lambda d: pool0(d).update(instance_typ="g5.xlarge"),
     "teams[0].clouds.aws.gpu_pools[0].instance_typ", ["did you mean 'instance_type'?"]),
    ("instance type typo", lambda d: pool0(d).update(instance_type="g5.2xlarg"),
     "teams[0].clouds.aws.gpu_pools[0].instance_type",
     ["'g5.2xlarg' is not an instance type in us-east-1; did you mean 'g5.2xlarge'?",
      "terraml catalog gpus --cloud aws --region us-east-1"]),
    ("accelerator typo", lambda d: nlp_gcp(d)["gpu_pools"][0].update(accelerator="A100-80G"),
     "teams[1].clouds.gcp.gpu_pools[0].accelerator",
     ["'A100-80G' is not offered by gcp in us-central1; did you mean 'A100-80GB'?"]),
    ("accelerator not in region", lambda d: (vision_aws(d).update(region="eu-west-1")),
     "teams[0].clouds.aws.gpu_pools[1].accelerator",
     ["'L4' is not offered by aws in eu-west-1", "offered in: us-east-1, us-west-2"]),
    ("region typo", lambda d: vision_aws(d).update(region="us-east-l"), "teams[0].clouds.aws.region",
     ["'us-east-l' is not a known aws region; did you mean 'us-east-1'?"]),
    ("min above max", lambda d: pool0(d).update(min_nodes=9), "teams[0].clouds.aws.gpu_pools[0].min_nodes",
     ["9 is above max_nodes 8", "min_nodes must be <= max_nodes"]),
    ("duplicate team", lambda d: d["teams"].append(copy.deepcopy(d["teams"][2])), "teams[3].name",
     ["duplicate team name 'recsys' (also at teams[2])", "Rename one"]),
    ("duplicate pool", lambda d: vision_aws(d)["gpu_pools"].append(copy.deepcopy(pool0(d))),
     "teams[0].clouds.aws.gpu_pools[2].name", ["duplicate pool name 'train'"]),
    ("overlapping cidrs", lambda d: d["teams"][1]["clouds"]["azure"]["network"].update(cidr="10.30.128.0/20"),
     "teams[1].clouds.azure.network.cidr", ["10.30.128.0/20 overlaps 10.30.0.0/16 of clouds.gcp", "Pick a range"]),
    ("spot mode typo", lambda d: pool0(d).update(spot={"mode": "spto"}),
     "teams[0].clouds.aws.gpu_pools[0].spot.mode", ["'spto' is not allowed; did you mean 'spot'?",
                                                    "'on-demand'", "'auto'"]),
    ("on-demand with a price cap", lambda d: pool0(d).update(spot={"mode": "on-demand", "max_price_ratio": 0.5}),
     "teams[0].clouds.aws.gpu_pools[0].spot.max_price_ratio", ["mode is 'on-demand'", "remove max_price_ratio"]),
    ("price ratio above 1", lambda d: pool0(d).update(spot={"mode": "auto", "max_price_ratio": 1.5}),
     "teams[0].clouds.aws.gpu_pools[0].spot.max_price_ratio", ["1.5 is out of range", "<= 1"]),
    ("instance type and accelerator", lambda d: pool0(d).update(accelerator="A10G"),
     "teams[0].clouds.aws.gpu_pools[0]", ["both 'instance_type' and 'accelerator' given", "exactly one"]),
    ("neither instance type nor accelerator", lambda d: pool0(d).pop("instance_type"),
     "teams[0].clouds.aws.gpu_pools[0]", ["neither 'instance_type' and 'accelerator' given"]),
    ("count without accelerator", lambda d: pool0(d).update(accelerator_count=2),
     "teams[0].clouds.aws.gpu_pools[0].accelerator_count", ["2 given without 'accelerator'", "Remove it"]),
    ("impossible accelerator count", lambda d: vision_aws(d)["gpu_pools"][1].update(accelerator_count=3),
     "teams[0].clouds.aws.gpu_pools[1].accelerator_count",
     ["no aws instance type in us-east-1 has exactly 3 x L4", "counts offered there: 1, 4, 8"]),
    ("gpu quota exceeded", lambda d: pool0(d).update(max_nodes=40), "teams[0].quotas.max_gpus",
     ["scale to 44 GPUs", "above max_gpus 32", "raise quotas.max_gpus"]),
    ("team name pattern", lambda d: d["teams"][0].update(name="Vision"), "teams[0].name",
     ["'Vision' is not valid", "lowercase"]),
    ("owner not an e-mail", lambda d: d["teams"][0].update(owners=["vision-leads"]), "teams[0].owners[0]",
     ["'vision-leads' is not valid", "e-mail address"]),
    ("public cidr", lambda d: vision_aws(d)["network"].update(cidr="8.8.0.0/16"),
     "teams[0].clouds.aws.network.cidr", ["8.8.0.0/16 is not a private range", "10.0.0.0/8"]),
    ("cidr with host bits", lambda d: vision_aws(d)["network"].update(cidr="10.20.0.1/16"),
     "teams[0].clouds.aws.network.cidr", ["got '10.20.0.1/16'", "no host bits set"]),
    ("cidr too small", lambda d: vision_aws(d)["network"].update(cidr="10.20.0.0/26"),
     "teams[0].clouds.aws.network.cidr", ["prefix /26", "allowed: /16 to /24"]),
    ("missing cost center", lambda d: d["teams"][0].pop("cost_center"), "teams[0].cost_center",
     ["required field 'cost_center' is missing; add it"]),
    ("reserved tag", lambda d: d["defaults"]["tags"].update(team="x"), "defaults.tags.team",
     ["'team' is set by terraml", "remove it from tags"]),
    ("cpu type in a gpu pool", lambda d: pool0(d).update(instance_type="m6i.xlarge"),
     "teams[0].clouds.aws.gpu_pools[0].instance_type", ["'m6i.xlarge' has no GPU"]),
    ("endpoint type without ml.", lambda d: vision_aws(d)["endpoints"][0].update(instance_type="g5.xlarge"),
     "teams[0].clouds.aws.endpoints[0].instance_type",
     ["'g5.xlarge' is not a SageMaker hosting instance type; did you mean 'ml.g5.xlarge'?"]),
    ("vector feature on aws", lambda d: vision_aws(d)["feature_store"]["groups"][0]["features"].update(e="vector"),
     "teams[0].clouds.aws.feature_store.groups[0].features.e", ["type 'vector' is not supported by the aws"]),
    ("event time is the record id", lambda d: vision_aws(d)["feature_store"]["groups"][0].update(
        event_time="image_id"), "teams[0].clouds.aws.feature_store.groups[0].event_time", ["also the record_id"]),
    ("subscription id not a uuid", lambda d: d["teams"][1]["clouds"]["azure"].update(subscription_id="abc"),
     "teams[1].clouds.azure.subscription_id", ["'abc' is not valid"]),
    ("max_nodes not a number", lambda d: pool0(d).update(max_nodes="eight"),
     "teams[0].clouds.aws.gpu_pools[0].max_nodes", ["got 'eight'", "expected a whole number"]),
    ("negative budget", lambda d: d["teams"][0]["budget"].update(monthly_usd=-5), "teams[0].budget.monthly_usd",
     ["-5 is out of range", "> 0"]),
    ("endpoint min above max", lambda d: vision_aws(d)["endpoints"][0].update(min_replicas=5),
     "teams[0].clouds.aws.endpoints[0].min_replicas", ["5 is above max_replicas 3"]),
    ("azure location typo", lambda d: d["teams"][1]["clouds"]["azure"].update(location="eastuss"),
     "teams[1].clouds.azure.location", ["'eastuss' is not a known azure location; did you mean 'eastus'?"]),
]


@pytest.mark.parametrize("change,path,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_spec_message(tmp_path, change, path, fragments):
    found = problems(tmp_path, change)
    assert path in found, f"no problem at {path}; got {found}"
    for fragment in fragments:
        assert fragment in found[path], f"{fragment!r} not in {found[path]!r}"


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    def change(d):
        pool0(d).update(instance_type="g5.2xlarg")
        vision_aws(d)["gpu_pools"][1].update(min_nodes=9)
        d["teams"][2]["clouds"]["aws"].update(region="us-west-9")

    found = problems(tmp_path, change)
    assert {"teams[0].clouds.aws.gpu_pools[0].instance_type", "teams[0].clouds.aws.gpu_pools[1].min_nodes",
            "teams[2].clouds.aws.region"} <= set(found)


def test_problems_carry_file_line_and_column(tmp_path):
    text = EXAMPLE.read_text().replace("instance_type: g5.2xlarge ", "instance_type: g5.2xlarg  ")
    path = tmp_path / "platform.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_platform(path)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "g5.2xlarg " in t)
    column = text.splitlines()[line - 1].index("g5.2xlarg") + 1
    assert info.value.problems[0].location == f"{path}:{line}:{column}"


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "platform.yaml"
    path.write_text("org: acme\nteams:\n  - name: vision\n    owners: [a@b.c\n")
    with pytest.raises(SpecError) as info:
        load_platform(path)
    problem = info.value.problems[0]
    assert "YAML syntax error" in problem.message
    assert problem.location.startswith(f"{path}:5:")


def test_duplicate_yaml_key_is_an_error(tmp_path):
    path = tmp_path / "platform.yaml"
    path.write_text("org: acme\norg: other\nteams: []\n")
    with pytest.raises(SpecError) as info:
        load_platform(path)
    assert "duplicate" in info.value.problems[0].message
    assert info.value.problems[0].location == f"{path}:2:1"
