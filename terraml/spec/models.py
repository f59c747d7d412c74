"""The typed, frozen model of platform.yaml.

Structure and types live here; checks that need the catalog or several fields at once live in
``checks.py`` so that every problem is reported, not only the first one per model.
Field names follow each cloud's own words where the reference spec does (GCP ``machine_type``).
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,20}[a-z0-9]$")]
"""Lowercase letters, digits and '-', 2-22 characters: it ends up in every cloud resource name."""
FeatureName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
SpotMode = Literal["spot", "on-demand", "auto"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- state backends
class AwsState(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    region: str
    lock_table: str | None = None
    """DynamoDB table for state locking; without it the S3 lockfile (use_lockfile) is used."""
    key_prefix: str = "terraml"


class GcpState(Strict):
    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = "terraml"


class AzureState(Strict):
    resource_group: str = Field(min_length=1, max_length=90)
    storage_account: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    container: str = Field(min_length=3, max_length=63)
    key_prefix: str = "terraml"


class StateBackends(Strict):
    aws: AwsState | None = None
    gcp: GcpState | None = None
    azure: AzureState | None = None


class Defaults(Strict):
    environment: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,9}$")] = "dev"
    """Part of every resource name and tag (prod, staging, dev...)."""
    tags: dict[str, str] = {}
    """Added to every taggable resource (labels on GCP)."""
    state: StateBackends = StateBackends()
    """Terraform state per cloud; a cloud left out keeps a local state file."""
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.\d{2}$")] = "1.33"


# ---------------------------------------------------------------- team-level pieces
class Budget(Strict):
    monthly_usd: float = Field(gt=0)
    alert_at_percent: list[Annotated[int, Field(ge=1, le=1000)]] = [80, 100]
    """Notifications go to the team's owners when actual spend crosses each percentage."""


class Quotas(Strict):
    max_gpus: int | None = Field(default=None, ge=0)
    """Across all of the team's pools and jobs, per cloud."""


class PoolSpot(Strict):
    mode: SpotMode = "on-demand"
    """spot: spot only; on-demand; auto: spot first, on-demand when spot is unavailable."""
    max_price_ratio: float | None = Field(default=None, gt=0, le=1)
    """Never pay more than this share of the on-demand price for spot capacity."""


class Network(Strict):
    cidr: IPv4Network
    nat: Literal["per-az", "single"] = "per-az"
    """One NAT gateway per availability zone (survives a zone outage) or a single cheaper one."""
    public_api_cidrs: list[IPv4Network] = []
    """Networks allowed to reach the Kubernetes API from the internet; empty = private endpoint only."""


class Registry(Strict):
    immutable_tags: bool = True
    scan_on_push: bool = True
    keep_images: int = Field(default=200, ge=1, le=10000)
    """Older images beyond this count are expired by a lifecycle rule."""


FeatureType = Literal["integral", "fractional", "string", "vector"]


class FeatureGroup(Strict):
    name: FeatureName
    record_id: FeatureName
    event_time: FeatureName
    features: dict[FeatureName, FeatureType] = Field(min_length=1)
    online: bool = True
    """Keep an online store for low-latency reads (the offline store is always kept)."""


class FeatureStore(Strict):
    groups: list[FeatureGroup] = Field(min_length=1)


class _Pool(Strict):
    name: Name
    accelerator: str | None = None
    accelerator_count: int | None = Field(default=None, ge=1, le=16)
    min_nodes: int = Field(default=0, ge=0)
    """0 lets the pool scale to zero when idle."""
    max_nodes: int = Field(ge=1, le=1000)
    spot: PoolSpot = PoolSpot()
    disk_size_gib: int = Field(default=200, ge=50, le=16384)


class AwsGpuPool(_Pool):
    instance_type: str | None = None


class GcpGpuPool(_Pool):
    machine_type: str | None = None


class AzureGpuPool(_Pool):
    instance_type: str | None = None


class _Endpoint(Strict):
    name: Name
    min_replicas: int = Field(default=1, ge=1)
    max_replicas: int = Field(default=1, ge=1, le=100)


class AwsEndpoint(_Endpoint):
    instance_type: str
    """A SageMaker hosting instance type (ml.*)."""
    image: str | None = None
    """Container of the bootstrap model; default: the SageMaker PyTorch inference image of the region."""
    model_data_url: str | None = None
    target_invocations_per_instance: int = Field(default=100, ge=1)
    """Autoscaling target: invocations per instance per minute."""


class GcpEndpoint(_Endpoint):
    machine_type: str
    accelerator: str | None = None
    accelerator_count: int | None = Field(default=None, ge=1, le=16)


class AzureEndpoint(_Endpoint):
    instance_type: str


class _Cloud(Strict):
    network: Network
    registry: Registry | None = None
    """Present (even as {}) = the team gets a private container registry with safe defaults."""
    feature_store: FeatureStore | None = None


class AwsCloud(_Cloud):
    region: str
    gpu_pools: list[AwsGpuPool] = []
    endpoints: list[AwsEndpoint] = []
    system_instance_type: str = "m6i.xlarge"
    """Instance type of the small on-demand node group that runs cluster add-ons."""


class GcpCloud(_Cloud):
    project: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]
    region: str
    gpu_pools: list[GcpGpuPool] = []
    endpoints: list[GcpEndpoint] = []


class AzureCloud(_Cloud):
    subscription_id: Annotated[
        str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
    ]
    location: str
    gpu_pools: list[AzureGpuPool] = []
    endpoints: list[AzureEndpoint] = []


class TeamClouds(Strict):
    aws: AwsCloud | None = None
    gcp: GcpCloud | None = None
    azure: AzureCloud | None = None

    def items(self) -> list[tuple[str, AwsCloud | GcpCloud | AzureCloud]]:
        """The clouds this team uses, in a fixed order."""
        return [(n, c) for n in ("aws", "gcp", "azure") if (c := getattr(self, n)) is not None]


class Team(Strict):
    name: Name
    cost_center: str = Field(min_length=1, max_length=64)
    owners: list[Email] = Field(min_length=1)
    budget: Budget | None = None
    quotas: Quotas = Quotas()
    clouds: TeamClouds


class Platform(Strict):
    org: Name
    defaults: Defaults = Defaults()
    teams: list[Team] = Field(min_length=1)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)
