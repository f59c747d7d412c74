"""GCP's own spec checks (GcpCloud.check_block): each failure names the field, the value and the fix."""

from __future__ import annotations

import copy

import pytest

from terraml.errors import SpecError
from terraml.providers.gcp.machines import gpus_for
from terraml.spec import load_platform

from ..core.test_spec_errors import BASE, write


def nlp_gcp(d):
    return d["teams"][1]["clouds"]["gcp"]


def problems(tmp_path, change) -> dict[str, str]:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(SpecError) as info:
        load_platform(write(tmp_path, data))
    return {p.path: p.message for p in info.value.problems}


@pytest.mark.parametrize("mode", ["spot", "auto"])
def test_a_spot_price_cap_on_a_gke_pool_is_an_error(tmp_path, mode):
    found = problems(tmp_path, lambda d: nlp_gcp(d)["gpu_pools"][0].update(spot={"mode": mode,
                                                                                  "max_price_ratio": 0.6}))
    message = found["teams[1].clouds.gcp.gpu_pools[0].spot.max_price_ratio"]
    assert "GCP has no spot price cap" in message and "remove max_price_ratio" in message and "0.6" in message


def test_the_example_spec_passes_the_gcp_checks():
    from ..conftest import EXAMPLE

    load_platform(EXAMPLE)


def test_a_range_too_small_for_gke_is_an_error(tmp_path):
    found = problems(tmp_path, lambda d: nlp_gcp(d)["network"].update(cidr="10.30.0.0/22"))
    message = found["teams[1].clouds.gcp.network.cidr"]
    assert "10.30.0.0/22 is a /22" in message and "/20 or larger" in message


def test_an_accelerator_that_does_not_fit_the_machine_family_is_an_error(tmp_path):
    found = problems(tmp_path, lambda d: nlp_gcp(d)["endpoints"][0].update(machine_type="n1-standard-8"))
    message = found["teams[1].clouds.gcp.endpoints[0].accelerator"]
    assert "L4 never runs on N1" in message and "g2-standard" in message


def test_a_bundled_gpu_count_that_does_not_match_is_an_error(tmp_path):
    found = problems(tmp_path, lambda d: nlp_gcp(d)["endpoints"][0].update(accelerator_count=2))
    assert "comes with exactly 1 x L4, not 2" in found["teams[1].clouds.gcp.endpoints[0].accelerator"]


def test_a_zone_outside_the_region_is_an_error(tmp_path):
    found = problems(tmp_path, lambda d: nlp_gcp(d)["gpu_pools"][0].update(zones=["us-east1-b"]))
    assert "'us-east1-b' is not a zone of us-central1" in found["teams[1].clouds.gcp.gpu_pools[0].zones[0]"]


@pytest.mark.parametrize("machine,accelerator,count,expected", [
    ("a2-ultragpu-8g", None, None, ("A100-80GB", 8)),
    ("a2-highgpu-2g", "A100", 2, ("A100", 2)),
    ("g2-standard-24", None, None, ("L4", 2)),
    ("a3-highgpu-8g", "H100", None, ("H100", 8)),
    ("n1-standard-8", "T4", 2, ("T4", 2)),
])
def test_gpus_that_fit_their_machine(machine, accelerator, count, expected):
    gpus, problem = gpus_for(machine, accelerator, count)
    assert problem is None and (gpus.accelerator, gpus.count) == expected


@pytest.mark.parametrize("machine,accelerator,count,fragment", [
    ("n1-standard-8", "A100", 1, "A100 never runs on N1"),
    ("n1-standard-8", "L4", 1, "L4 never runs on N1"),
    ("a2-ultragpu-8g", "L4", None, "comes with 8 x A100-80GB, not L4"),
    ("e2-standard-8", "T4", 1, "GPUs attach only to N1"),
    ("n1-standard-8", "T4", 3, "attach 1, 2, 4 x T4, not 3"),
])
def test_gpus_that_do_not_fit_their_machine(machine, accelerator, count, fragment):
    gpus, problem = gpus_for(machine, accelerator, count)
    assert gpus is None and fragment in problem
