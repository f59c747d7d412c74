"""The one interface every job backend implements: every verb the CLI offers is here.

    Backend.plan(job) -> JobPlan            everything submit will do, without doing it (typed)
    Backend.submit(plan) -> JobHandle       returns at once; the job runs on its own
    Backend.status(handle) -> JobStatus     a common lifecycle on every backend (State)
    Backend.logs(handle) -> lines
    Backend.cancel(handle)
    Backend.handle(name), list_jobs()
    Backend.wait(handle)                    written once here: polls status with backoff
    Backend.deploy(model, version, endpoint, canary_percent) -> Deployment
    Backend.invoke(endpoint, payload), undeploy(endpoint), list_endpoints()

A backend belongs to a cloud (``NAME``); what it cannot do is in that cloud's UNSUPPORTED table, and
a verb it does not implement raises the one UnsupportedFeature error from that table (exit 2).
Backends are built by their cloud: ``terraml.cloud.get(name).backend(settings)``.
"""

from __future__ import annotations

import enum
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from terraml.catalog import Catalog
from terraml.cloud import Feature
from terraml.cost.job_estimate import JobEstimate
from terraml.policy.spot import SpotDecision
from terraml.rollout import MetricsSource, Thresholds, TrafficControl
from terraml.spec.job import LoadedJob
from terraml.spec.models import Platform


class State(enum.StrEnum):
    PENDING = "pending"
    WAITING_FOR_CAPACITY = "waiting-for-capacity"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def terminal(self) -> bool:
        return self in (State.COMPLETED, State.FAILED, State.STOPPED)


@dataclass(frozen=True)
class JobPlan:
    """What submit will do: computed once by plan(), shown by `train --dry-run`, then submitted as is."""

    job: LoadedJob
    decision: SpotDecision
    notes: tuple[str, ...] = ()
    estimate: JobEstimate | None = None
    request: dict | None = None
    """The cloud API request submit sends (None where the backend sends none, e.g. local)."""
    gpus: int | None = None
    """GPUs the job holds: accelerators per instance of the resolved machine x instances (the GPU quota counts
    them); None where the backend resolved no machine (then the job file's accelerator_count x instances)."""
    override: BudgetOverride | None = None
    """Set by `train --over-budget`: submit records it in the job record (local JSON, tags or labels)."""


@dataclass(frozen=True)
class BudgetOverride:
    """Who submitted a job past the team's budget guardrail, and why: kept with the job."""

    by: str
    reason: str
    at: float
    """Epoch seconds."""


@dataclass(frozen=True)
class JobHandle:
    backend: str
    name: str
    job_id: str
    team: str
    existing: bool = False  # True when submit found the job already there (same name) and created nothing


@dataclass(frozen=True)
class JobStatus:
    state: State
    message: str = ""
    capacity: str | None = None  # "spot" | "on-demand"
    interruptions: int = 0
    training_seconds: float | None = None
    billable_seconds: float | None = None
    cost_usd: float | None = None
    savings_percent: float | None = None
    model_version: str | None = None
    submitted_at: float | None = None
    """When the job was submitted (epoch seconds, UTC), where the backend knows it."""
    ended_at: float | None = None
    """When it reached a terminal state (epoch seconds), else None."""
    gpus: int = 0
    """The job's GPUs (accelerators per instance x instances); the quota at submit counts those of jobs that
    have not ended."""
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JobListing:
    """Jobs with their state, and what could not be listed (a corrupt or foreign record: its path and
    what is wrong). Iterating it gives the (handle, status) pairs."""

    jobs: list[tuple[JobHandle, JobStatus]]
    skipped: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.jobs)


@dataclass(frozen=True)
class Deployment:
    endpoint: str
    model: str
    version: str
    url: str | None = None
    message: str = ""


@dataclass(frozen=True)
class EndpointStatus:
    endpoint: str
    team: str | None
    state: str
    """The backend's own word: 'serving', 'stopped', 'InService', 'Updating', ..."""
    model: str | None = None
    version: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything a backend may need, resolved once by the CLI (flag > environment > spec > default)."""

    home: Path
    catalog: Catalog
    tracking_uri: str | None = None
    platform: Platform | None = None
    team: str | None = None
    """Act for this team (--team): which team's endpoints and jobs are meant when names repeat."""
    api_override: str | None = None
    """Where the cloud's API is instead of its default (the value of its Cloud.API_OVERRIDE_ENV)."""


class Backend(ABC):
    """A place where jobs run. Subclasses set NAME (their cloud) and implement the abstract methods."""

    NAME: str = ""
    MAX_POLL_S: float = 30.0
    """The longest wait() sleeps between two polls (its backoff grows up to this)."""

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Backend: ...

    def require(self, feature: Feature) -> None:
        from terraml.cloud import get

        get(self.NAME).require(feature)

    def _unsupported(self, feature: Feature):
        self.require(feature)
        raise TypeError(f"the {self.NAME} backend neither implements {feature.value} nor lists it in UNSUPPORTED")

    # ------------------------------------------------------------ jobs
    @abstractmethod
    def plan(self, job: LoadedJob) -> JobPlan:
        """Everything submit would do, without doing it. Raises SpecError for what this backend cannot
        provide; makes no network call."""

    @abstractmethod
    def submit(self, plan: JobPlan, *, simulate_interruptions: int = 0) -> JobHandle: ...

    @abstractmethod
    def status(self, handle: JobHandle) -> JobStatus: ...

    @abstractmethod
    def logs(self, handle: JobHandle) -> Iterator[str]: ...

    @abstractmethod
    def cancel(self, handle: JobHandle) -> None: ...

    @abstractmethod
    def handle(self, name: str) -> JobHandle:
        """The handle of an existing job, by name (raises UserError when there is none)."""

    @abstractmethod
    def list_jobs(self) -> JobListing: ...

    def wait(self, handle: JobHandle, *, timeout_s: float | None = None, first_poll_s: float = 0.2,
             max_poll_s: float | None = None, on_poll: Callable[[JobStatus], None] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> JobStatus:
        """Poll until the job ends, backing off from ``first_poll_s`` to ``max_poll_s`` between polls.
        The one poll loop: `train` and `jobs logs --follow` show progress through ``on_poll``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        ceiling = self.MAX_POLL_S if max_poll_s is None else max_poll_s
        delay = min(first_poll_s, ceiling)
        while True:
            status = self.status(handle)
            if on_poll:
                on_poll(status)
            if status.state.terminal:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return status
            sleep(delay)
            delay = min(delay * 1.5, ceiling)

    # ------------------------------------------------------------ serving (unsupported unless implemented)
    def deploy(self, model: str, version: str, endpoint: str, canary_percent: int | None = None) -> Deployment:
        return self._unsupported(Feature.SERVING)

    def invoke(self, endpoint: str, payload: dict) -> dict:
        return self._unsupported(Feature.SERVING)

    def list_endpoints(self) -> list[EndpointStatus]:
        return self._unsupported(Feature.SERVING)

    def canary_controls(self, deployment: Deployment) -> tuple[MetricsSource, TrafficControl, Thresholds] | None:
        """What terraml's rollout watcher (terraml.rollout.watch) needs after a canary deploy: the canary's
        metrics, the endpoint's traffic split and the spec's endpoints[].rollout thresholds. None where the
        cloud rolls a canary back by itself (SageMaker's alarms) or the deploy was not a canary."""
        return None

    def undeploy(self, endpoint: str) -> bool:
        """Stop serving on an endpoint; False when there was nothing to stop."""
        return self._unsupported(Feature.UNDEPLOY)
