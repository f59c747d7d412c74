"""The one interface every job backend implements, and the job model it takes.

    Backend.submit(job) -> JobHandle        returns at once; the job runs on its own
    Backend.status(handle) -> JobStatus     a common lifecycle on every backend (State)
    Backend.logs(handle) -> lines
    Backend.cancel(handle)
    Backend.deploy(model, version, endpoint, canary_percent) -> Deployment
    Backend.wait(handle)                    written once here: polls status with backoff

A backend declares what it cannot do in ``UNSUPPORTED`` (feature -> reason); ``require`` checks it
in one place. Backends are found by name through ``providers.registry``.
"""

from __future__ import annotations

import enum
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from terraml.errors import UnsupportedFeature


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


class Feature(enum.StrEnum):
    CANARY = "canary deployments"
    ACCELERATORS = "reserved accelerators"


# ---------------------------------------------------------------- the job file (job.yaml)
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Framework(_Strict):
    name: Literal["pytorch", "tensorflow", "huggingface", "xgboost", "sklearn"]
    version: str = Field(min_length=1)


class Resources(_Strict):
    accelerator: str | None = None
    accelerator_count: int = Field(default=1, ge=1, le=16)
    instance_type: str | None = None
    """The cloud's own name, e.g. ml.g5.2xlarge; instead of an accelerator."""
    machine_type: str | None = None
    instance_count: int = Field(default=1, ge=1, le=100)


class JobSpot(_Strict):
    mode: Literal["spot", "on-demand", "auto"] = "on-demand"
    max_wait_hours: float | None = Field(default=None, gt=0)
    """Give up waiting for spot capacity after this long, runtime included (default: twice the runtime)."""
    max_interruptions: int | None = Field(default=None, ge=0)
    """auto: after this many interruptions, finish on on-demand (default 3)."""
    max_price_ratio: float | None = Field(default=None, gt=0, le=1)
    """auto: use on-demand when spot costs more than this share of on-demand."""
    checkpoint_every_minutes: int | None = Field(default=None, ge=1, le=1440)
    """How often the job writes checkpoints to $TERRAML_CHECKPOINT_DIR (default 15 for spot jobs)."""


Scalar = str | int | float | bool


class TrainingJob(_Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
    team: str
    entrypoint: str = Field(min_length=1)
    source_dir: str = "."
    framework: Framework | None = None
    image: str | None = None
    resources: Resources = Resources()
    hyperparameters: dict[str, Scalar] = {}
    environment: dict[str, str] = {}
    max_runtime_hours: float = Field(default=24, gt=0, le=672)
    spot: JobSpot = JobSpot()
    register_model: str | None = None


@dataclass(frozen=True)
class LoadedJob:
    """A checked job with its source folder resolved against the job file's location."""

    job: TrainingJob
    path: Path
    source_dir: Path
    spot: JobSpot  # with defaults filled in (max_wait_hours, max_interruptions, checkpoint interval)


# ---------------------------------------------------------------- results
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
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Deployment:
    endpoint: str
    model: str
    version: str
    url: str | None = None
    message: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything a backend may need, resolved once by the CLI and passed down."""

    home: Path
    tracking_uri: str | None = None
    platform: object | None = None  # terraml.spec.models.Platform
    catalog: object | None = None  # terraml.catalog.Catalog


class Backend(ABC):
    """A place where jobs run. Subclasses set NAME and UNSUPPORTED and implement the abstract methods."""

    NAME: str = ""
    UNSUPPORTED: dict[Feature, str] = {}

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Backend: ...

    @abstractmethod
    def plan(self, job: LoadedJob) -> dict:
        """Everything submit would do, without doing it: the spot decision, the request, notes.
        Raises SpecError for what this backend cannot provide."""

    def require(self, feature: Feature) -> None:
        if feature in self.UNSUPPORTED:
            raise UnsupportedFeature(f"{self.NAME}: {feature.value} is not supported: {self.UNSUPPORTED[feature]}")

    @abstractmethod
    def submit(self, job: LoadedJob, **options) -> JobHandle: ...

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
    def list_jobs(self) -> list[tuple[JobHandle, JobStatus]]: ...

    @abstractmethod
    def deploy(self, model: str, version: str, endpoint: str, canary_percent: int | None = None) -> Deployment: ...

    def wait(self, handle: JobHandle, *, timeout_s: float | None = None, first_poll_s: float = 0.2,
             max_poll_s: float = 30.0, on_poll: Callable[[JobStatus], None] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> JobStatus:
        """Poll until the job ends, backing off from ``first_poll_s`` to ``max_poll_s`` between polls."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        delay = first_poll_s
        while True:
            status = self.status(handle)
            if on_poll:
                on_poll(status)
            if status.state.terminal:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return status
            sleep(delay)
            delay = min(delay * 1.5, max_poll_s)
