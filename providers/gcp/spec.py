"""The gcp block of platform.yaml (clouds.gcp) and its state backend (defaults.state.gcp)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from terraml.spec.base import CloudBlock, Endpoint, GpuPool, Strict


class GcpState(Strict):
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    """A GCS bucket name: 3-63 lowercase letters, digits, '-', '_' and '.' (Cloud Storage bucket naming)."""
    prefix: str = "terraml"


class GcpGpuPool(GpuPool):
    machine_type: str | None = None
    zones: list[str] = []
    """Zones of the region the pool's nodes run in (e.g. the ones offering its GPU); empty: the cluster's."""


class GcpEndpoint(Endpoint):
    machine_type: str
    accelerator: str | None = None
    accelerator_count: int | None = Field(default=None, ge=1, le=16)


class GcpBlock(CloudBlock):
    project: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]
    region: str
    gpu_pools: list[GcpGpuPool] = []
    endpoints: list[GcpEndpoint] = []
    system_machine_type: str = "e2-standard-4"
    """Machine type of the small on-demand node pool that runs cluster add-ons."""
