"""The typed, frozen model of a job file (job.yaml), and a job once checked against the spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from terraml.spec.base import SpotMode, Strict


class Framework(Strict):
    name: Literal["pytorch", "tensorflow", "huggingface", "xgboost", "sklearn"]
    version: str = Field(min_length=1)


class Resources(Strict):
    accelerator: str | None = None
    accelerator_count: int = Field(default=1, ge=1, le=16)
    instance_type: str | None = None
    """The cloud's own name, e.g. ml.g5.2xlarge; instead of an accelerator."""
    machine_type: str | None = None
    instance_count: int = Field(default=1, ge=1, le=100)


class JobSpot(Strict):
    mode: SpotMode = "on-demand"
    max_wait_hours: float | None = Field(default=None, gt=0)
    """Give up waiting for spot capacity after this long, runtime included (default: twice the runtime)."""
    max_interruptions: int | None = Field(default=None, ge=0)
    """auto: after this many interruptions, finish on on-demand (default 3)."""
    max_price_ratio: float | None = Field(default=None, gt=0, le=1)
    """auto: use on-demand when spot costs more than this share of on-demand."""
    checkpoint_every_minutes: int | None = Field(default=None, ge=1, le=1440)
    """How often the job writes checkpoints to $TERRAML_CHECKPOINT_DIR (default 15 for spot jobs)."""


Scalar = str | int | float | bool


class TrainingJob(Strict):
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
