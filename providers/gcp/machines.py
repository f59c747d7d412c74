"""GPUs on Compute Engine machine families: which accelerator each family carries, and GKE's names for them.

The spec speaks the catalog's accelerator names ('A100-80GB', 'L4'); GKE's ``guest_accelerator`` speaks
Compute Engine's accelerator types ('nvidia-a100-80gb', 'nvidia-l4'). The translation is here, once.

Accelerator-optimized families (a2, a3, a4, g2) come with their GPUs: the machine type fixes the model and
the count. Only N1 takes GPUs attached by choice, and only the older models (T4, V100, P100, P4); L4 and
A100 never run on N1. Source: https://cloud.google.com/compute/docs/gpus (GPU machine types, 2026).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Compute Engine accelerator type -> the catalog's accelerator name.
ACCELERATOR = {"nvidia-tesla-t4": "T4", "nvidia-tesla-v100": "V100", "nvidia-tesla-p100": "P100",
               "nvidia-tesla-p4": "P4", "nvidia-l4": "L4", "nvidia-tesla-a100": "A100", "nvidia-a100-80gb": "A100-80GB",
               "nvidia-h100-80gb": "H100", "nvidia-h100-mega-80gb": "H100-MEGA", "nvidia-h200-141gb": "H200",
               "nvidia-b200": "B200"}
ACCELERATOR_TYPE = {name: gce for gce, name in ACCELERATOR.items()}
"""The catalog's accelerator name -> Compute Engine's accelerator type."""

# Machine family prefix -> the GPU it bundles (the count is in the type name or G2_GPUS).
BUNDLED = {"a2-highgpu": "A100", "a2-megagpu": "A100", "a2-ultragpu": "A100-80GB", "a3-highgpu": "H100",
           "a3-edgegpu": "H100", "a3-megagpu": "H100-MEGA", "a3-ultragpu": "H200", "a4-highgpu": "B200",
           "g2-standard": "L4"}
G2_GPUS = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}
"""g2-standard-<vCPUs> -> its L4 count (the name does not say it)."""
N1_ATTACHABLE = {"T4": (1, 2, 4), "V100": (1, 2, 4, 8), "P100": (1, 2, 4), "P4": (1, 2, 4)}
"""GPUs N1 machines accept, and the counts they may attach."""


class Gpus(NamedTuple):
    accelerator: str
    """The catalog's name, e.g. 'A100-80GB'."""
    count: int

    @property
    def gce_type(self) -> str:
        return ACCELERATOR_TYPE[self.accelerator]


def family(machine_type: str) -> str:
    return "-".join(machine_type.split("-")[:2])


def bundled_gpus(machine_type: str) -> Gpus | None:
    """The GPUs a machine type comes with, or None for types without bundled GPUs (N1, E2, ...)."""
    accelerator = BUNDLED.get(family(machine_type))
    if accelerator is None:
        return None
    if family(machine_type) == "g2-standard":
        count = G2_GPUS.get(int(machine_type.rsplit("-", 1)[1])) if machine_type.rsplit("-", 1)[1].isdigit() else None
    else:
        match = re.search(r"-(\d+)g$", machine_type)
        count = int(match.group(1)) if match else None
    return Gpus(accelerator, count) if count else None


def gpus_for(machine_type: str, accelerator: str | None, count: int | None) -> tuple[Gpus | None, str | None]:
    """The GPUs a node of ``machine_type`` carries, given the spec's accelerator and count, or why not.

    Returns (gpus, None) when the pair fits, (None, None) for a machine without GPUs and no accelerator
    asked, and (None, problem) when it does not fit, the problem saying what would.
    """
    bundled = bundled_gpus(machine_type)
    if bundled is not None:
        if accelerator is not None and accelerator != bundled.accelerator:
            return None, (f"'{machine_type}' comes with {bundled.count} x {bundled.accelerator}, not {accelerator}; "
                          f"remove the accelerator or pick a machine type of its family")
        if count is not None and count != bundled.count:
            return None, (f"'{machine_type}' comes with exactly {bundled.count} x {bundled.accelerator}, not {count}; "
                          "remove accelerator_count or pick the machine type with that many GPUs")
        return bundled, None
    if accelerator is None:
        return None, None
    if family(machine_type) != "n1-standard" and not machine_type.startswith(("n1-highmem", "n1-highcpu")):
        return None, (f"{accelerator} cannot be attached to '{machine_type}'; GPUs attach only to N1 machine types, "
                      "the newer ones come with their accelerator-optimized family (A100: a2, L4: g2, H100: a3)")
    if accelerator not in N1_ATTACHABLE:
        home = next((f for f, a in BUNDLED.items() if a == accelerator), None)
        where = f" it comes with '{home}-*' machine types" if home else ""
        return None, f"{accelerator} never runs on N1 machine types;{where} (name one, or give only the accelerator)"
    wanted = count or 1
    if wanted not in N1_ATTACHABLE[accelerator]:
        allowed = ", ".join(str(c) for c in N1_ATTACHABLE[accelerator])
        return None, f"N1 machine types attach {allowed} x {accelerator}, not {wanted}"
    return Gpus(accelerator, wanted), None


# Zones that offer each GPU, for the regions terraml ships (regions.GCP_REGIONS); GKE fails at apply when a GPU
# pool's zone lacks its GPU. Source: the SkyPilot catalog, skypilot-org/skypilot-catalog catalogs/v8/gcp/vms.csv
# (commit 006059e0f18a, read 2026-11-30), which lists each machine type per zone from Compute Engine's own
# machine-type lists; Google's page: https://cloud.google.com/compute/docs/gpus/gpu-regions-zones. Keyed by the
# machine type terraml picks for the GPU (A100: a2-highgpu, A100-80GB: a2-ultragpu, H100: a3-highgpu,
# H100-MEGA: a3-megagpu, H200: a3-ultragpu, B200: a4-highgpu). L4 (g2) and the N1 GPUs (T4, V100, P100, P4) are not
# in the table yet: their pools are not checked and run in the cluster's zones.
GPU_ZONES: dict[str, frozenset[str]] = {name: frozenset(zones.split()) for name, zones in {
    "A100": """asia-northeast1-a asia-northeast1-c asia-northeast3-a asia-northeast3-b asia-southeast1-a
               asia-southeast1-b asia-southeast1-c europe-west4-a europe-west4-b me-west1-a me-west1-c us-central1-a
               us-central1-b us-central1-c us-central1-f us-east1-b us-west1-b us-west3-b us-west4-b""",
    "A100-80GB": "asia-southeast1-c europe-west4-a us-central1-a us-central1-c us-east4-c us-east5-a us-east5-b",
    "H100": """asia-east1-c asia-northeast1-b asia-south1-c asia-south2-b asia-southeast1-b asia-southeast1-c
               australia-southeast1-c europe-north1-c europe-west1-b europe-west1-c europe-west3-c europe-west4-b
               europe-west4-c europe-west8-c europe-west9-c us-central1-a us-central1-b us-central1-c us-east4-a
               us-east4-b us-east4-c us-east5-a us-west1-a us-west1-b us-west4-a""",
    "H100-MEGA": """asia-east1-c asia-northeast1-b asia-southeast1-b asia-southeast1-c australia-southeast1-c
                    europe-north1-c europe-west1-b europe-west1-c europe-west3-c europe-west4-b europe-west4-c
                    us-central1-a us-central1-b us-central1-c us-east4-a us-east4-b us-east4-c us-east5-a us-west1-a
                    us-west1-b us-west4-a""",
    "H200": """asia-south1-b asia-south2-c europe-west1-b europe-west4-a us-central1-b us-east4-b us-east5-a
               us-south1-b us-west1-c""",
    "B200": """asia-northeast1-b asia-southeast1-b europe-north1-b europe-west4-b us-central1-b us-east1-b us-east4-b
               us-south1-b us-west2-c us-west3-b us-west3-c""",
}.items()}


def _region_of_zone(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def gpu_zones(region: str, accelerator: str) -> list[str] | None:
    """The zones of ``region`` that offer ``accelerator`` (the catalog's name), sorted; None when the offline
    table does not know the accelerator."""
    offered = GPU_ZONES.get(accelerator)
    if offered is None:
        return None
    return sorted(z for z in offered if _region_of_zone(z) == region)


def gpu_zone_problem(region: str, zones: list[str], accelerator: str) -> str | None:
    """Why a GPU pool of ``accelerator`` cannot run in ``zones`` of ``region`` (empty: any zone that offers it),
    or None. Unknown accelerators are not checked."""
    offered = gpu_zones(region, accelerator)
    if offered is None:
        return None
    if not offered:
        elsewhere = sorted({_region_of_zone(z) for z in GPU_ZONES[accelerator]})
        return (f"{accelerator} is not offered in any zone of {region}; regions that offer it: "
                f"{', '.join(elsewhere)}")
    foreign = [z for z in zones if _region_of_zone(z) != region]
    if foreign:
        return f"{', '.join(foreign)} {'is not a zone' if len(foreign) == 1 else 'are not zones'} of {region}"
    missing = [z for z in zones if z not in offered]
    if missing:
        return (f"{', '.join(missing)} {'does' if len(missing) == 1 else 'do'} not offer {accelerator}; in {region} "
                f"it is offered in {', '.join(offered)}: list only those, or no zones to use all of them")
    return None
