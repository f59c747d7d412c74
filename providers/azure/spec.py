"""The azure block of platform.yaml (clouds.azure) and its state backend (defaults.state.azure)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from terraml.spec.base import CloudBlock, Endpoint, GpuPool, Strict


class AzureState(Strict):
    resource_group: str = Field(min_length=1, max_length=90)
    storage_account: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    container: str = Field(min_length=3, max_length=63)
    key_prefix: str = "terraml"


class AzureGpuPool(GpuPool):
    instance_type: str | None = None


class AzureEndpoint(Endpoint):
    instance_type: str


class AzureBlock(CloudBlock):
    subscription_id: Annotated[
        str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
    ]
    location: str
    gpu_pools: list[AzureGpuPool] = []
    endpoints: list[AzureEndpoint] = []
