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


def test_a_gpu_pool_in_a_zone_without_its_gpu_is_a_spec_error(tmp_path):
    """GKE would fail at apply: us-central1-b has no A100-80GB (the table's zones are -a and -c)."""
    found = problems(tmp_path, lambda d: nlp_gcp(d)["gpu_pools"][0].update(zones=["us-central1-b"]))
    message = found["teams[1].clouds.gcp.gpu_pools[0].zones"]
    assert "us-central1-b does not offer A100-80GB" in message and "us-central1-a, us-central1-c" in message


def test_a_machine_types_bundled_gpu_is_checked_against_its_zones(tmp_path):
    found = problems(tmp_path, lambda d: nlp_gcp(d)["gpu_pools"][0].update(
        accelerator=None, accelerator_count=None, machine_type="a2-ultragpu-8g", zones=["us-central1-f"]))
    assert "does not offer A100-80GB" in found["teams[1].clouds.gcp.gpu_pools[0].zones"]


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


# GPU zones (providers/gcp/machines.py): the pure check the spec checks run, from the offline zone table.

def test_every_zone_in_the_gpu_table_is_a_zone_of_a_region_terraml_ships():
    from terraml.providers.gcp.machines import ACCELERATOR_TYPE, GPU_ZONES
    from terraml.providers.gcp.regions import GCP_REGIONS, ZONE

    for accelerator, zones in GPU_ZONES.items():
        assert accelerator in ACCELERATOR_TYPE and zones
        for zone in zones:
            match = ZONE.match(zone)
            assert match and match.group(1) in GCP_REGIONS, zone


def test_gpu_zones_are_the_zones_of_the_region_that_offer_the_gpu():
    from terraml.providers.gcp.machines import gpu_zones

    assert gpu_zones("us-central1", "A100-80GB") == ["us-central1-a", "us-central1-c"]
    assert gpu_zones("us-central1", "H200") == ["us-central1-b"]
    assert gpu_zones("us-west2", "A100-80GB") == []
    assert gpu_zones("us-central1", "L4") is None  # not in the table: not checked


@pytest.mark.parametrize(("region", "zones", "accelerator", "fragment"), [
    ("us-central1", ["us-central1-b"], "A100-80GB",
     "us-central1-b does not offer A100-80GB; in us-central1 it is offered in us-central1-a, us-central1-c"),
    ("us-central1", ["us-central1-a", "us-central1-f", "us-central1-b"], "A100-80GB",
     "us-central1-f, us-central1-b do not offer A100-80GB"),
    ("us-west2", [], "A100-80GB", "A100-80GB is not offered in any zone of us-west2; regions that offer it: "
                                  "asia-southeast1, europe-west4, us-central1, us-east4, us-east5"),
    ("us-central1", ["us-east4-c"], "A100-80GB", "us-east4-c is not a zone of us-central1"),
])
def test_gpu_zone_problems_name_the_zones_that_would_do(region, zones, accelerator, fragment):
    from terraml.providers.gcp.machines import gpu_zone_problem

    assert fragment in gpu_zone_problem(region, zones, accelerator)


@pytest.mark.parametrize(("region", "zones", "accelerator"), [
    ("us-central1", [], "A100-80GB"), ("us-central1", ["us-central1-c"], "A100-80GB"),
    ("europe-west4", ["europe-west4-b", "europe-west4-c"], "H100"), ("us-central1", ["us-central1-b"], "L4"),
])
def test_gpu_zones_that_offer_the_gpu_or_gpus_the_table_does_not_know_pass(region, zones, accelerator):
    from terraml.providers.gcp.machines import gpu_zone_problem

    assert gpu_zone_problem(region, zones, accelerator) is None
