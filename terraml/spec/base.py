"""The pieces of platform.yaml every cloud shares: names, spot policy, network, registry, feature store,
and the bases of a cloud block, a GPU pool and an endpoint. Each cloud's own block (``clouds.<name>``)
is in its folder, ``providers/<name>/spec.py``, built on these.
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
"""spot: spot only; on-demand; auto: spot first, on-demand when spot is unavailable (pools and jobs alike)."""


class Strict(BaseModel):
    # .inf and .nan are YAML numbers; none of terraml's fields means anything with them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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


class GpuPool(Strict):
    """A pool of GPU nodes; each cloud adds the field that names its machine type."""

    name: Name
    accelerator: str | None = None
    accelerator_count: int | None = Field(default=None, ge=1, le=16)
    min_nodes: int = Field(default=0, ge=0)
    """0 lets the pool scale to zero when idle."""
    max_nodes: int = Field(ge=1, le=1000)
    spot: PoolSpot = PoolSpot()
    disk_size_gib: int = Field(default=200, ge=50, le=16384)


class Rollout(Strict):
    """When a canary deployment (`terraml deploy --canary N`) is rolled back, and when it takes all traffic.
    SageMaker acts on these through the endpoint's CloudWatch alarms; on Vertex AI and Azure ML terraml's
    rollout watcher (terraml.rollout) does."""

    max_error_percent: float = Field(default=1.0, ge=0, le=100)
    """Roll back when more than this share of the canary's requests fail (server errors), in percent."""
    max_p99_latency_ms: float = Field(default=2000, gt=0)
    """Roll back when the canary's p99 latency goes above this."""
    bake_minutes: float = Field(default=10, ge=0, le=1440)
    """A canary healthy for this long takes all traffic."""
    min_requests: int = Field(default=50, ge=0)
    """...provided it served at least this many requests meanwhile; with fewer, terraml's watcher leaves the
    traffic split as it is and says so (too little traffic to call the canary healthy)."""

    def thresholds(self):
        from terraml.rollout import Thresholds

        return Thresholds(self.max_error_percent, self.max_p99_latency_ms, self.bake_minutes,
                          promote_min_requests=self.min_requests)


class Endpoint(Strict):
    name: Name
    min_replicas: int = Field(default=1, ge=1)
    max_replicas: int = Field(default=1, ge=1, le=100)
    rollout: Rollout = Rollout()


class CloudBlock(Strict):
    """What every clouds.<name> block has; each cloud adds its region field, pools and endpoints."""

    network: Network
    registry: Registry | None = None
    """Present (even as {}) = the team gets a private container registry with safe defaults."""
    feature_store: FeatureStore | None = None
