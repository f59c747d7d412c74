"""Start and grow a platform the way a user does, through the installed `terraml` in a temporary folder:
`terraml init`, `terraml team add|list|remove`, then the real cdktn CLI on the user's own spec; and the
platform-wide guardrail warnings of `terraml validate`."""

from __future__ import annotations

import json
import shutil
import subprocess
from ipaddress import ip_network
from pathlib import Path

import pytest

from terraml.spec import load_platform
from terraml.spec.edit import SpecDocument, free_cidr

from ..conftest import EXAMPLE, ROOT, need, tool_env

SKELETON_COMMENT = "# scale to zero when idle"


def terraml(*args, cwd: Path, env=None, timeout=300):
    exe = need(ROOT / ".venv" / "bin" / "terraml")
    return subprocess.run([exe, *map(str, args)], cwd=cwd, env={**tool_env(), "TERRAML_SPEC": "", **(env or {})},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def flat(text: str) -> str:
    return " ".join(text.split())


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def user_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in flat(result.stderr), result.stderr


@pytest.fixture
def acme(tmp_path) -> Path:
    ok(terraml("init", "acme", cwd=tmp_path))
    return tmp_path / "acme"


# ---------------------------------------------------------------- the journey
@pytest.mark.gate
def test_init_team_add_then_cdktn_synth_gives_stacks_that_pass_the_gates(acme):
    from ..gates.bindings import validate_stack

    add = ok(terraml("team", "add", "vision", "--cloud", "aws", "--gpu", "L4:0-4:spot", "--budget", "5000", "--yes",
                     cwd=acme))
    assert "vision-aws: new stack" in add.stdout and "monthly cost of team 'vision': +$" in add.stdout
    text = (acme / "platform.yaml").read_text()
    assert SKELETON_COMMENT in text and "# FILL IN" in text  # the skeleton's comments survive the edit
    vision = load_platform(acme / "platform.yaml").platform.team("vision")
    pool = vision.clouds.aws.gpu_pools[0]
    assert (pool.accelerator, pool.min_nodes, pool.max_nodes, pool.spot.mode) == ("L4", 0, 4, "spot")
    assert vision.budget.monthly_usd == 5000
    assert (acme / "cdktf.out" / "stacks" / "vision-aws" / "cdk.tf.json").is_file()  # synthesized by team add

    cdktn = need(ROOT / "node_modules" / ".bin" / "cdktn")
    shutil.rmtree(acme / "cdktf.out")
    run = subprocess.run([cdktn, "synth"], cwd=acme, env={**tool_env(), "TERRAML_SPEC": "", "CI": "true"},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Generated Terraform code for the stacks: ml-aws, vision-aws" in run.stdout
    for stack in ("ml-aws", "vision-aws"):
        doc = json.loads((acme / "cdktf.out" / "stacks" / stack / "cdk.tf.json").read_text())
        assert validate_stack(doc) == [], stack
    vpcs = json.loads((acme / "cdktf.out" / "stacks" / "vision-aws" / "cdk.tf.json").read_text())["resource"]
    assert [v["cidr_block"] for v in vpcs["aws_vpc"].values()] == ["10.11.0.0/16"]


def test_adding_a_team_that_exists_is_refused(acme):
    before = (acme / "platform.yaml").read_text()
    user_error(terraml("team", "add", "ml", "--cloud", "aws", "--yes", cwd=acme),
               "team 'ml' already exists in platform.yaml (teams[0])")
    assert (acme / "platform.yaml").read_text() == before


# ---------------------------------------------------------------- init
def test_init_writes_a_valid_commented_skeleton_whose_app_is_the_running_python(acme):
    assert sorted(p.name for p in acme.iterdir()) == [".gitignore", "README.md", "cdktf.json", "platform.yaml"]
    loaded = load_platform(acme / "platform.yaml")
    assert loaded.platform.org == "acme" and [t.name for t in loaded.platform.teams] == ["ml"]
    assert loaded.warnings == []  # budget, remote state: the skeleton passes its own guardrails
    assert loaded.platform.defaults.state.aws.bucket == "acme-terraform-state"
    app = json.loads((acme / "cdktf.json").read_text())["app"]
    python, module = app.split(" -m ")
    assert module == "terraml.stacks.main"
    assert Path(python).is_absolute() and Path(python).parent == ROOT / ".venv" / "bin"
    assert "cdktf.out/" in (acme / ".gitignore").read_text()
    assert "npx cdktn deploy ml-aws" in (acme / "README.md").read_text()


def test_the_stacks_app_reads_the_platform_yaml_of_its_folder(acme):
    python = json.loads((acme / "cdktf.json").read_text())["app"].split(" -m ")[0]
    run = subprocess.run([python, "-m", "terraml.stacks.main"], cwd=acme,
                         env={**tool_env(), "TERRAML_SPEC": "", "CDKTF_OUTDIR": str(acme / "out")},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads((acme / "out" / "manifest.json").read_text())["stacks"].keys() == {"ml-aws"}


def test_init_refuses_a_folder_that_is_not_empty_and_force_never_overwrites(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    user_error(terraml("init", "mine", cwd=tmp_path), "mine is not empty (notes.txt)", "--force")
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    ok(terraml("init", "mine", "--force", "--org", "acme", cwd=tmp_path))
    assert (mine / "notes.txt").read_text() == "mine" and (mine / "platform.yaml").is_file()

    other = tmp_path / "other"
    other.mkdir()
    (other / "README.md").write_text("my readme")
    user_error(terraml("init", "other", "--force", "--org", "acme", cwd=tmp_path),
               "README.md already exists; terraml init never overwrites a file")
    assert sorted(p.name for p in other.iterdir()) == ["README.md"]  # nothing written at all
    assert (other / "README.md").read_text() == "my readme"


def test_init_names_a_bad_org(tmp_path):
    user_error(terraml("init", "Acme_Corp", cwd=tmp_path), "--org (default: the folder name of Acme_Corp)",
               "'acme_corp' is not a valid name")
    assert not (tmp_path / "Acme_Corp").exists()


@pytest.mark.parametrize("cloud,field", [("gcp", "project"), ("azure", "subscription_id")])
def test_init_on_the_other_clouds_is_valid(tmp_path, cloud, field):
    ok(terraml("init", "corp", "--cloud", cloud, cwd=tmp_path))
    loaded = load_platform(tmp_path / "corp" / "platform.yaml")
    assert getattr(loaded.platform.teams[0].environment(cloud), field)
    assert loaded.warnings == []


# ---------------------------------------------------------------- team add
@pytest.mark.parametrize("gpu,fragment", [
    ("L4:0-4", "--gpu: 'L4:0-4' has 2 part(s); use ACCELERATOR:MIN-MAX:MODE, e.g. --gpu L4:0-4:spot"),
    ("l4:0-4:spot", "--gpu: accelerator 'l4' is not offered in aws us-east-1; did you mean 'L4'?"),
    ("L4:four:spot", "--gpu: node range 'four' is not MIN-MAX"),
    ("L4:4-1:spot", "--gpu: min nodes 4 is above max nodes 1"),
    ("L4:0-0:spot", "--gpu: max nodes 0 is out of range; use 1 to 1000"),
    ("L4:0-4:cheap", "--gpu: mode 'cheap' is not allowed"),
])
def test_gpu_flag_names_the_bad_part(acme, gpu, fragment):
    before = (acme / "platform.yaml").read_text()
    user_error(terraml("team", "add", "vision", "--cloud", "aws", "--gpu", gpu, "--yes", cwd=acme), fragment)
    assert (acme / "platform.yaml").read_text() == before


def test_without_a_terminal_team_add_needs_yes_and_writes_nothing(acme):
    before = (acme / "platform.yaml").read_text()
    result = terraml("team", "add", "vision", "--cloud", "aws", "--budget", "5000", cwd=acme)
    user_error(result, "stdin is not a terminal; re-run with --yes")
    assert "monthly cost of team 'vision'" in result.stdout  # the cost is shown before it asks
    assert (acme / "platform.yaml").read_text() == before
    assert not (acme / "cdktf.out").exists()


def test_a_spec_the_edit_would_break_is_not_written(acme):
    before = (acme / "platform.yaml").read_text()
    user_error(terraml("team", "add", "vision", "--cloud", "aws", "--region", "us-east-9", "--yes", cwd=acme),
               "teams[1].clouds.aws.region: 'us-east-9' is not a known aws region")
    user_error(terraml("team", "add", "vision", "--cloud", "gcp", "--yes", cwd=acme), "--project: missing")
    assert (acme / "platform.yaml").read_text() == before


def test_team_from_another_copies_it_with_networks_of_its_own_and_warns_about_no_budget(tmp_path):
    spec = tmp_path / "platform.yaml"
    shutil.copy(EXAMPLE, spec)
    result = ok(terraml("team", "add", "search", "--from", "nlp", "--yes", cwd=tmp_path))
    assert "search-gcp: new stack" in result.stdout and "search-azure: new stack" in result.stdout
    text = spec.read_text()
    assert text.startswith(EXAMPLE.read_text())  # everything before is byte for byte the same, comments too
    assert text.count("# spot only: never falls back to on-demand") == 2  # the copy keeps the source's comments
    platform = load_platform(spec).platform
    search, nlp = platform.team("search"), platform.team("nlp")
    assert search.clouds.gcp.gpu_pools == nlp.clouds.gcp.gpu_pools and search.budget == nlp.budget
    assert [str(b.network.cidr) for _, b in search.clouds.items()] == ["10.51.0.0/16", "10.52.0.0/16"]
    stacks = sorted(p.name for p in (tmp_path / "cdktf.out" / "stacks").iterdir())
    assert stacks == ["search-azure", "search-gcp"]  # only the new team's stacks were synthesized

    narrowed = ok(terraml("team", "add", "ads", "--from", "recsys", "--cloud", "aws", "--region", "eu-west-1",
                          "--budget", "1234.5", "--max-gpus", "4", "--yes", cwd=tmp_path))
    assert "ads-aws: new stack" in narrowed.stdout
    ads = load_platform(spec).platform.team("ads")
    assert ads.clouds.aws.region == "eu-west-1" and ads.budget.monthly_usd == 1234.5 and ads.quotas.max_gpus == 4
    assert str(ads.clouds.aws.network.cidr) == "10.53.0.0/16"
    user_error(terraml("team", "add", "x2", "--from", "recsys", "--cloud", "gcp", "--yes", cwd=tmp_path),
               "--cloud: team 'recsys' has no gcp block (it uses aws)")


def test_new_team_without_budget_is_warned_about(acme):
    result = ok(terraml("team", "add", "nobudget", "--cloud", "aws", "--yes", cwd=acme))
    assert "teams[1].budget: team 'nobudget' has no budget" in flat(result.stderr)


def test_next_free_network():
    net = ip_network
    assert free_cidr([]) == net("10.0.0.0/16")
    assert free_cidr([net("10.10.0.0/16")]) == net("10.11.0.0/16")
    assert free_cidr([net("10.20.0.0/16"), net("10.30.0.0/16"), net("172.16.0.0/16")]) == net("10.31.0.0/16")
    assert free_cidr([net("10.11.128.0/20"), net("10.10.0.0/16")]) == net("10.12.0.0/16")
    assert free_cidr([net("10.255.0.0/16"), net("10.0.0.0/16")]) == net("10.1.0.0/16")  # wraps to the lowest gap


# ---------------------------------------------------------------- team list / remove
def test_team_list_shows_clouds_budgets_and_quotas(tmp_path):
    result = ok(terraml("team", "list", "--spec", EXAMPLE, cwd=tmp_path))
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") > 3}
    assert "20,000" in rows["vision"] and "32" in rows["vision"] and "us-east-1" in rows["vision"]
    assert "35,000" in rows["nlp"] and "no limit" in rows["nlp"] and "10.30.0.0/16" in rows["nlp"]


def test_team_remove_keeps_the_other_teams_comments_and_prints_the_destroy_commands(tmp_path):
    spec = tmp_path / "platform.yaml"
    shutil.copy(EXAMPLE, spec)
    user_error(terraml("team", "remove", "nlp", cwd=tmp_path), "re-run with --yes")
    user_error(terraml("team", "remove", "nlpx", "--yes", cwd=tmp_path), "team 'nlpx' is not in platform.yaml; "
                                                                         "did you mean 'nlp'?")
    result = ok(terraml("team", "remove", "nlp", "--yes", cwd=tmp_path))
    assert "npx cdktn destroy nlp-gcp --skip-synth" in result.stdout
    assert "npx cdktn destroy nlp-azure --skip-synth" in result.stdout and "nothing was destroyed" in result.stdout
    assert (tmp_path / "cdktf.out" / "stacks" / "nlp-gcp" / "cdk.tf.json").is_file()  # what destroy will read
    text, example = spec.read_text(), EXAMPLE.read_text()
    assert "acme-nlp-prod" not in text and "never pay more than 60%" not in text
    for line in example.splitlines():
        if "#" in line and "acme-nlp" not in line and "spot only" not in line and "60%" not in line:
            assert line in text  # the header, vision's and recsys' comments
    start = example.index("  - name: nlp")
    assert text == example[:start] + example[example.index("  - name: recsys"):]
    assert [t.name for t in load_platform(spec).platform.teams] == ["vision", "recsys"]


def test_removing_a_team_moves_the_comment_that_introduces_the_next_one(tmp_path):
    spec = tmp_path / "platform.yaml"
    spec.write_text("org: a  # the org\nteams:\n  # about one\n  - name: one\n    clouds:\n      aws:\n"
                    "        region: x  # one's region\n\n  # about two\n  - name: two\n    clouds:\n      aws:\n"
                    "        region: y  # two's region\n\n  # about three\n  - name: three\n    clouds:\n"
                    "      aws:\n        region: z\n# end of file\n")
    for name, kept, gone in [("two", ["# one's region", "# about three", "# end of file"], ["two's", "about two"]),
                             ("three", ["# two's region", "# end of file"], ["about three"]),
                             ("one", ["# about two", "# about three", "# end of file"], ["one's"])]:
        document = SpecDocument.read(spec)
        document.remove_team(name)
        text = document.text()
        assert all(c in text for c in kept) and not any(c in text for c in gone), text
    document = SpecDocument.read(spec)
    document.remove_team("two")
    assert document.text().endswith("        region: x  # one's region\n\n  # about three\n  - name: three\n"
                                    "    clouds:\n      aws:\n        region: z\n# end of file\n")


def test_the_last_team_cannot_be_removed(acme):
    user_error(terraml("team", "remove", "ml", "--yes", cwd=acme), "team 'ml' is the only team")


# ---------------------------------------------------------------- guardrail warnings at validate
def test_the_reference_example_has_no_guardrail_warnings():
    # The EKS support-tier warning on the default Kubernetes version depends on the day (tests/aws/test_eks_version.py).
    assert [w for w in load_platform(EXAMPLE).warnings if w.path != "defaults.kubernetes_version"] == []


def test_guardrails_warn_with_field_paths_and_fixes(tmp_path):
    spec = tmp_path / "platform.yaml"
    text = EXAMPLE.read_text()
    state = "    aws: {bucket: acme-terraform-state, region: us-east-1, lock_table: acme-terraform-locks}\n"
    assert state in text
    text = text.replace(state, "")
    text = text.replace("budget: {monthly_usd: 8000}", "quotas: {max_gpus: 4}")
    text = text.replace("network: {cidr: 10.50.0.0/16}", "network: {cidr: 10.20.128.0/20}")
    spec.write_text(text)
    result = ok(terraml("validate", spec, cwd=tmp_path))
    messages = flat(result.stderr)
    guardrails = [w for w in result.stderr.splitlines() if w.startswith("warning") and "kubernetes_version" not in w]
    assert len(guardrails) == 3, result.stderr
    assert ("teams[2].clouds.aws.network.cidr: 10.20.128.0/20 overlaps 10.20.0.0/16 of team 'vision' "
            "(teams[0].clouds.aws); peering or VPN between the two networks becomes impossible") in messages
    assert "teams[2].budget: team 'recsys' has no budget" in messages
    assert ("defaults.state.aws: no remote state backend for aws: its stacks keep Terraform state in local files"
            in messages)


def test_guardrails_warn_about_two_teams_with_one_bucket_name(monkeypatch, example_spec):
    from terraml.cloud import get
    from terraml.spec.checks import check_platform

    aws = get("aws")
    real = type(aws).resource_names
    monkeypatch.setattr(aws, "resource_names", lambda platform, team: {**real(aws, platform, team),
                                                                       "artifact_bucket": "acme-shared-artifacts"})
    errors, warnings = check_platform(example_spec.platform)
    assert errors == []
    [warning] = [w for w in warnings if "bucket" in w.message]
    assert warning.path == "teams[2].name"
    assert ("team 'recsys' gets the aws artifact bucket name 'acme-shared-artifacts', which team 'vision' "
            "(teams[0]) gets too") in warning.message
