"""The azure block of platform.yaml (clouds.azure) and its state backend (defaults.state.azure)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from terraml.spec.base import CloudBlock, Endpoint, GpuPool, Registry, Strict

Uuid = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
]


class AzureState(Strict):
    resource_group: str = Field(min_length=1, max_length=90)
    storage_account: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    container: str = Field(min_length=3, max_length=63)
    key_prefix: str = "terraml"


class AzureGpuPool(GpuPool):
    instance_type: str | None = None


class AzureEndpoint(Endpoint):
    instance_type: str


class AzureRegistry(Registry):
    sku: Literal["Basic", "Standard", "Premium"] = "Premium"
    """Premium is the only tier with private endpoints, public access off, retention of untagged
    manifests, zone redundancy and dedicated data endpoints; Basic and Standard keep the registry reachable
    from the internet (with Entra ID sign-in only, admin user off)."""


class AzureStorage(Strict):
    customer_managed_key: bool = False
    """Encrypt the artifact storage account with a key of the team's Key Vault (HSM-backed RSA 3072,
    rotated yearly) instead of Microsoft-managed keys. Deleting or disabling that key makes the data
    unreadable, so it is opt-in."""
    soft_delete_days: int = Field(default=30, ge=1, le=365)
    """Deleted blobs and containers stay recoverable this many days (blob versioning is always on)."""


class AzureBlock(CloudBlock):
    subscription_id: Uuid
    location: str
    gpu_pools: list[AzureGpuPool] = []
    endpoints: list[AzureEndpoint] = []
    registry: AzureRegistry | None = None
    """Present (even as {}) = the team gets a private Azure Container Registry with safe defaults."""
    storage: AzureStorage = AzureStorage()
    system_vm_size: str = "Standard_D4s_v5"
    """VM size of the AKS system node pool (critical add-ons only; 4 vCPU, 16 GiB)."""
    availability_zones: list[Literal["1", "2", "3"]] = ["1", "2", "3"]
    """Zones the system node pool spreads over; [] for a location without availability zones. GPU pools
    are not pinned to zones, so spot and GPU capacity can come from any of them."""
    admin_group_object_ids: list[Uuid] = []
    """Microsoft Entra groups made cluster admins (Azure Kubernetes Service RBAC Cluster Admin). The
    identity that deploys the stack is always one, so it can install the cluster add-ons."""
    container_insights: bool = True
    """Send container logs and metrics to the team's Log Analytics workspace (Azure Monitor)."""
    defender: bool = True
    """Run the Microsoft Defender for Containers sensor on the cluster (runtime threat detection; needs the
    subscription's Defender for Containers plan, which is billed per vCore)."""
    host_encryption: bool = True
    """Encrypt node temp disks and disk caches at the VM host. Needs the subscription feature
    Microsoft.Compute/EncryptionAtHost registered once (az feature register)."""
    ml_outbound: Literal["approved-only", "internet"] = "approved-only"
    """Outbound access of the Azure ML managed network (compute clusters, online endpoints): only to the
    workspace's own resources and approved destinations, or to the whole internet (pip, Hugging Face)."""
