"""A bad job file fails before anything is submitted, with path, value, what is allowed and the fix."""

from __future__ import annotations

import copy
import io
import shutil

import pytest
from ruamel.yaml import YAML

from terraml.errors import SpecError, UserError
from terraml.spec.job_loader import load_job

from ..conftest import ROOT

JOB = YAML(typ="safe").load((ROOT / "examples" / "job.yaml").read_text())


@pytest.fixture
def job_dir(tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    return tmp_path


def problems(job_dir, example_spec, change, cloud="local") -> dict[str, str]:
    data = copy.deepcopy(JOB)
    change(data)
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, buf)
    (job_dir / "job.yaml").write_text(buf.getvalue())
    with pytest.raises(SpecError) as info:
        load_job(job_dir / "job.yaml", example_spec.platform, cloud)
    return {p.path: p.message for p in info.value.problems}


def test_reference_job_loads(job_dir, example_spec):
    shutil.copy(ROOT / "examples" / "job.yaml", job_dir / "job.yaml")
    loaded = load_job(job_dir / "job.yaml", example_spec.platform, "aws")
    assert loaded.job.name == "image-classifier" and loaded.source_dir == job_dir / "train"
    assert (loaded.spot.mode, loaded.spot.max_wait_hours, loaded.spot.max_interruptions) == ("auto", 8, 3)


CASES = [
    ("unknown key", lambda d: d.update(max_runtime_hour=3), "max_runtime_hour",
     ["unknown key 'max_runtime_hour'; did you mean 'max_runtime_hours'?"]),
    ("unknown spot key", lambda d: d["spot"].update(max_wait=3), "spot.max_wait", ["did you mean 'max_wait_hours'?"]),
    ("team not in spec", lambda d: d.update(team="visoin"), "team",
     ["'visoin' is not a team in the platform spec; did you mean 'vision'?"]),
    ("max wait below runtime", lambda d: d["spot"].update(max_wait_hours=2), "spot.max_wait_hours",
     ["2 is below max_runtime_hours 4", "must be >= max_runtime_hours"]),
    ("on-demand with spot options", lambda d: d["spot"].update(mode="on-demand"), "spot.max_interruptions",
     ["only applies to spot capacity, but mode is 'on-demand'"]),
    ("spot with fallback options", lambda d: d["spot"].update(mode="spot"), "spot.max_price_ratio",
     ["mode 'spot' never does"]),
    ("spot mode typo", lambda d: d["spot"].update(mode="spott"), "spot.mode", ["did you mean 'spot'?"]),
    ("missing entrypoint script", lambda d: d.update(entrypoint="python trian.py"), "entrypoint",
     ["'trian.py' is not in ./train"]),
    ("missing source folder", lambda d: d.update(source_dir="./nowhere"), "source_dir", ["is not a folder"]),
    ("framework and image", lambda d: d.update(image="x/y:1"), "image", ["both 'framework' and 'image'"]),
    ("two resource kinds", lambda d: d["resources"].update(instance_type="ml.g5.xlarge"), "resources",
     ["accelerator and instance_type given"]),
    ("bad job name", lambda d: d.update(name="image_classifier"), "name", ["'image_classifier' is not valid"]),
    ("negative runtime", lambda d: d.update(max_runtime_hours=-1), "max_runtime_hours", ["must be > 0"]),
]


@pytest.mark.parametrize("change,path,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_job(job_dir, example_spec, change, path, fragments):
    found = problems(job_dir, example_spec, change)
    assert path in found, found
    for fragment in fragments:
        assert fragment in found[path], found[path]


def test_team_without_the_cloud(job_dir, example_spec):
    found = problems(job_dir, example_spec, lambda d: d.update(team="nlp"), cloud="aws")
    assert "team 'nlp' has no aws environment in the platform spec (it has: gcp, azure)" in found["team"]


def test_job_above_the_team_gpu_quota(job_dir, example_spec):
    found = problems(job_dir, example_spec, lambda d: d["resources"].update(instance_count=5, accelerator_count=8),
                     cloud="aws")
    assert "asks for 40 GPUs" in found["resources.instance_count"]
    assert "quotas.max_gpus 32" in found["resources.instance_count"]


def test_missing_job_file(tmp_path, example_spec):
    with pytest.raises(UserError, match="job file not found"):
        load_job(tmp_path / "nope.yaml", example_spec.platform, "local")
