"""The aws block of platform.yaml (clouds.aws) and its state backend (defaults.state.aws)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from terraml.spec.base import CloudBlock, Endpoint, GpuPool, Strict


class AwsState(Strict):
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    """An S3 bucket name: 3-63 lowercase letters, digits, '.' and '-' (S3 bucket naming rules)."""
    region: str
    lock_table: str | None = None
    """DynamoDB table for state locking; without it the S3 lockfile (use_lockfile) is used."""
    key_prefix: str = "terraml"


class AwsGpuPool(GpuPool):
    instance_type: str | None = None


class AwsEndpoint(Endpoint):
    instance_type: str
    """A SageMaker hosting instance type (ml.*)."""
    image: str | None = None
    """Container of the bootstrap model; default: the SageMaker PyTorch inference image of the region."""
    model_data_url: str | None = None
    target_invocations_per_instance: int = Field(default=100, ge=1)
    """Autoscaling target: invocations per instance per minute."""


class AwsBlock(CloudBlock):
    region: str
    gpu_pools: list[AwsGpuPool] = []
    endpoints: list[AwsEndpoint] = []
    system_instance_type: str = "m6i.xlarge"
    """Instance type of the small on-demand node group that runs cluster add-ons."""
