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
