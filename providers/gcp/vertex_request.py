"""Vertex AI's words for terraml's: the CustomJob body, attempt names, labels, states, preemption and cost.

Pure functions and no SDK, so a dry run can print the request and every field can be tested without GCP.
The request is the CustomJob in the REST API's JSON form (enum names, int64 as strings, durations as
'3600s'): what `train --dry-run` prints, and what submit hands the SDK (``CustomJob.from_json``).

How terraml runs one submission on Vertex AI, as a chain of CustomJobs ("attempts"):

    NAME        the first attempt, on the capacity the spot decision picked (SPOT or STANDARD)
    NAME-r2...  after a spot preemption or stockout, while the policy stays on spot (spot, or auto below
                max_interruptions): the same job again, on SPOT
    NAME-od     auto only, after max_interruptions preemptions or a capacity error: the one STANDARD retry

Every attempt carries the label ``terraml-job``, so one list call finds the chain; the next attempt is
created only after the previous one has ended, and each creation first claims its slot with a
create-only Cloud Storage write, so two pollers never start two live attempts. All attempts share the
checkpoint folder, so each resumes where the last one stopped.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass, field

from terraml.backend import State
from terraml.naming import fit
from terraml.policy.spot import SpotDecision
from terraml.providers.gcp.labels import label_value
from terraml.spec.job import JobSpot, TrainingJob

FALLBACK_SUFFIX = "-od"
DISPLAY_NAME_LIMIT = 128
GCS_MOUNT = "/gcs"
"""Vertex AI mounts every Cloud Storage bucket the job can read at /gcs/<bucket> (Cloud Storage FUSE)."""
CODE_ROOT = "/tmp/terraml/code"

# The container's command: unpack the job's source bundle (read through the /gcs mount) and exec the
# entrypoint's words in it, with no shell, as on every backend. Python is in every Vertex AI prebuilt
# training image; `tarfile`'s 'data' filter refuses absolute paths, links out of the folder and devices.
BOOTSTRAP = (f"import os,sys,tarfile;b,a=sys.argv[1],sys.argv[2:];d={CODE_ROOT!r};os.makedirs(d,exist_ok=True);"
             "tarfile.open(b).extractall(d,filter='data');os.chdir(d);os.execvp(a[0],a)")

# Vertex AI's prebuilt containers (https://cloud.google.com/vertex-ai/docs/training/pre-built-containers,
# .../predictions/pre-built-containers): framework -> (training image name, prediction image name); the
# version '2.5' becomes '2-5'. Frameworks without a prebuilt pair need `image:` in the job file.
PREBUILT = {
    "pytorch": ("pytorch-{gpu}.{v}.py310", "pytorch-{gpu}.{v}"),
    "tensorflow": ("tf-{gpu}.{v}.py310", "tf2-{gpu}.{v}"),
    "sklearn": ("sklearn-cpu.{v}.py310", "sklearn-cpu.{v}"),
    "xgboost": ("xgboost-cpu.{v}.py310", "xgboost-cpu.{v}"),
}
IMAGE_REGISTRY = "us-docker.pkg.dev/vertex-ai"

# JobState names (google.cloud.aiplatform.v1.JobState) -> terraml's lifecycle.
STATES = {
    "JOB_STATE_QUEUED": State.PENDING, "JOB_STATE_PENDING": State.PENDING, "JOB_STATE_RUNNING": State.RUNNING,
    "JOB_STATE_SUCCEEDED": State.COMPLETED, "JOB_STATE_FAILED": State.FAILED,
    "JOB_STATE_CANCELLING": State.STOPPED, "JOB_STATE_CANCELLED": State.STOPPED, "JOB_STATE_PAUSED": State.PENDING,
    "JOB_STATE_EXPIRED": State.FAILED, "JOB_STATE_UPDATING": State.RUNNING,
    "JOB_STATE_PARTIALLY_SUCCEEDED": State.FAILED, "JOB_STATE_UNSPECIFIED": State.PENDING,
}
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED",
            "JOB_STATE_PARTIALLY_SUCCEEDED"}
RESOURCE_EXHAUSTED = 8
"""google.rpc.Code: Vertex AI fails a job whose Spot VMs were reclaimed, or that found no capacity, with it."""
_CAPACITY_WORDS = re.compile(r"stockout|preempt|resources? (are|is) insufficient|resource_exhausted|"
                             r"not enough resources|insufficient capacity|zone_resource_pool_exhausted", re.I)


# ------------------------------------------------------------------ names and places
def attempt_name(job: str, attempt: int, capacity: str) -> str:
    """The display name of one attempt: NAME, NAME-r<N> (spot again), NAME-od (the on-demand retry)."""
    if capacity == "on-demand" and attempt > 1:
        return fit(job + FALLBACK_SUFFIX, DISPLAY_NAME_LIMIT)
    return job if attempt == 1 else fit(f"{job}-r{attempt}", DISPLAY_NAME_LIMIT)


@dataclass(frozen=True)
class VertexEnvironment:
    """Where a team's jobs run on Vertex AI: derived from the spec through GcpNames, as the nlp-gcp stack
    creates them (bucket, service accounts, KMS key, endpoints)."""

    project: str
    region: str
    bucket: str
    service_account: str
    """The training service account's email."""
    kms_key: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def prefix(self, job: str) -> str:
        return f"jobs/{job}"

    def gcs(self, job: str, what: str) -> str:
        return f"gs://{self.bucket}/{self.prefix(job)}/{what}"

    def mounted(self, job: str, what: str) -> str:
        """The same place as the container sees it, through Vertex AI's Cloud Storage mount."""
        return f"{GCS_MOUNT}/{self.bucket}/{self.prefix(job)}/{what}"

    def bundle_object(self, job: str) -> str:
        return f"{self.prefix(job)}/code.tar.gz"


def accelerator_enum(gce_type: str) -> str:
    """Compute Engine's accelerator type -> Vertex AI's AcceleratorType name ('nvidia-l4' -> 'NVIDIA_L4')."""
    return gce_type.upper().replace("-", "_")


def prebuilt_image(framework: str, version: str, gpu: bool, scope: str) -> str | None:
    names = PREBUILT.get(framework)
    if names is None:
        return None
    template = names[0] if scope == "training" else names[1]
    v = "-".join(version.split(".")[:2])
    folder = "training" if scope == "training" else "prediction"
    return f"{IMAGE_REGISTRY}/{folder}/{template.format(gpu='gpu' if gpu else 'cpu', v=v)}:latest"


def serving_image(training_image: str) -> str:
    """The prediction image of a prebuilt training image (a custom image serves as itself)."""
    if not training_image.startswith(f"{IMAGE_REGISTRY}/training/"):
        return training_image
    name = training_image.removeprefix(f"{IMAGE_REGISTRY}/training/").rsplit(":", 1)[0]
    name = re.sub(r"\.py3\d+$", "", name).replace("tf-", "tf2-", 1)
    return f"{IMAGE_REGISTRY}/prediction/{name}:latest"


# ------------------------------------------------------------------ the request
@dataclass(frozen=True)
class MachineChoice:
    machine_type: str
    accelerator: str | None
    """The catalog's name ('L4'), None for a machine without GPUs."""
    accelerator_type: str | None
    """Vertex AI's AcceleratorType name ('NVIDIA_L4')."""
    accelerator_count: int


def container_env(job: TrainingJob, env: VertexEnvironment, capacity: str, attempt: int) -> dict[str, str]:
    """terraml's container contract (as on local and SageMaker), with Cloud Storage paths as the container
    sees them (/gcs/...): checkpoints survive a preemption and the next attempt resumes from them."""
    return {
        **job.environment,
        "TERRAML_JOB_NAME": job.name,
        "TERRAML_TEAM": job.team,
        "TERRAML_CHECKPOINT_DIR": env.mounted(job.name, "checkpoints"),
        "TERRAML_MODEL_DIR": env.mounted(job.name, "model"),
        "TERRAML_METRICS_FILE": env.mounted(job.name, "output/metrics.jsonl"),
        "TERRAML_HYPERPARAMETERS": json.dumps(job.hyperparameters, sort_keys=True),
        "TERRAML_CAPACITY": capacity,
        "TERRAML_ATTEMPT": str(attempt),
    }


def job_labels(job: TrainingJob, spot: JobSpot, env: VertexEnvironment, capacity: str, attempt: int,
               override=None) -> dict[str, str]:
    """The team's labels plus terraml's own: which submission, attempt and capacity; the spot policy that
    status() acts on; the budget override (who, why, when), kept with the job."""
    labels = {**env.labels, "terraml-job": label_value(job.name), "terraml-attempt": str(attempt),
              "terraml-capacity": capacity, "terraml-spot-mode": spot.mode}
    if spot.mode != "on-demand":
        labels["terraml-max-wait-s"] = str(int((spot.max_wait_hours or 2 * job.max_runtime_hours) * 3600))
        if spot.max_interruptions is not None:
            labels["terraml-max-interruptions"] = str(spot.max_interruptions)
    if job.register_model:
        labels["terraml-register-model"] = label_value(job.register_model)
    if override is not None:
        labels.update({"terraml-override-by": label_value(override.by),
                       "terraml-override-reason": label_value(override.reason),
                       "terraml-override-at": str(int(override.at))})
    return labels


def custom_job_request(job: TrainingJob, spot: JobSpot, decision: SpotDecision, env: VertexEnvironment,
                       machine: MachineChoice, image: str, *, attempt: int = 1, timeout_s: int | None = None,
                       override=None) -> dict:
    """The CustomJob (REST JSON) for one attempt on the decided capacity."""
    capacity = decision.capacity
    spec = {"machineType": machine.machine_type}
    if machine.accelerator_type:
        spec.update(acceleratorType=machine.accelerator_type, acceleratorCount=machine.accelerator_count)
    environment = container_env(job, env, capacity, attempt)
    pool = {
        "machineSpec": spec,
        "replicaCount": "1",
        "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": 100},
        "containerSpec": {
            "imageUri": image,
            "command": ["python3", "-c", BOOTSTRAP, env.mounted(job.name, "code.tar.gz"),
                        *shlex.split(job.entrypoint)],
            "env": [{"name": k, "value": v} for k, v in environment.items()],
        },
    }
    pools = [pool]
    if job.resources.instance_count > 1:  # Vertex AI: pool 0 is the one chief; the others are workers
        pools.append({**pool, "replicaCount": str(job.resources.instance_count - 1)})
    return {
        "displayName": attempt_name(job.name, attempt, capacity),
        "labels": job_labels(job, spot, env, capacity, attempt, override),
        "jobSpec": {
            "workerPoolSpecs": pools,
            "scheduling": {
                "timeout": f"{timeout_s or int(job.max_runtime_hours * 3600)}s",
                "strategy": "SPOT" if capacity == "spot" else "STANDARD",
            },
            "serviceAccount": env.service_account,
            "baseOutputDirectory": {"outputUriPrefix": env.gcs(job.name, "output")},
        },
        "encryptionSpec": {"kmsKeyName": env.kms_key},
    }


def next_attempt(previous: dict, job: str, attempt: int, capacity: str, timeout_s: int) -> dict:
    """The next attempt from the previous one's CustomJob (REST JSON, as GET returns it): the same spec,
    checkpoints and code, on ``capacity``, with what is left of max_runtime_hours."""
    spec = json.loads(json.dumps(previous["jobSpec"]))
    for pool in spec["workerPoolSpecs"]:
        env = {e["name"]: e.get("value", "") for e in pool["containerSpec"].get("env", [])}
        env.update(TERRAML_CAPACITY=capacity, TERRAML_ATTEMPT=str(attempt))
        pool["containerSpec"]["env"] = [{"name": k, "value": v} for k, v in env.items()]
    spec["scheduling"] = {**spec.get("scheduling", {}), "timeout": f"{timeout_s}s",
                          "strategy": "SPOT" if capacity == "spot" else "STANDARD"}
    labels = {**previous.get("labels", {}), "terraml-attempt": str(attempt), "terraml-capacity": capacity}
    out = {"displayName": attempt_name(job, attempt, capacity), "labels": labels, "jobSpec": spec}
    if previous.get("encryptionSpec"):
        out["encryptionSpec"] = previous["encryptionSpec"]
    return out


# ------------------------------------------------------------------ reading jobs back
def state_name(job: dict) -> str:
    state = job.get("state", "JOB_STATE_UNSPECIFIED")
    return state if isinstance(state, str) else _STATE_NUMBERS.get(state, "JOB_STATE_UNSPECIFIED")


_STATE_NUMBERS = {0: "JOB_STATE_UNSPECIFIED", 1: "JOB_STATE_QUEUED", 2: "JOB_STATE_PENDING", 3: "JOB_STATE_RUNNING",
                  4: "JOB_STATE_SUCCEEDED", 5: "JOB_STATE_FAILED", 6: "JOB_STATE_CANCELLING",
                  7: "JOB_STATE_CANCELLED", 8: "JOB_STATE_PAUSED", 9: "JOB_STATE_EXPIRED", 10: "JOB_STATE_UPDATING",
                  11: "JOB_STATE_PARTIALLY_SUCCEEDED"}


def failure_kind(job: dict) -> str | None:
    """Why an attempt failed, in the terms of the spot decision: 'preempted' (its Spot VMs were reclaimed
    after it started), 'capacity' (it never started: no capacity, a stockout), or None (the code or the
    request failed: no retry helps).

    Vertex AI reports a reclaimed Spot VM the way it reports a stockout: the job fails with a STOCKOUT
    error (google.rpc.Code RESOURCE_EXHAUSTED); only whether the job had started tells the two apart.
    """
    if state_name(job) != "JOB_STATE_FAILED":
        return None
    error = job.get("error") or {}
    if error.get("code") != RESOURCE_EXHAUSTED and not _CAPACITY_WORDS.search(error.get("message", "")):
        return None
    return "preempted" if job.get("startTime") else "capacity"


def attempt_number(job: dict) -> int:
    try:
        return int(job.get("labels", {}).get("terraml-attempt", "1"))
    except ValueError:
        return 1


def capacity_of(job: dict) -> str:
    strategy = job.get("jobSpec", {}).get("scheduling", {}).get("strategy")
    return "spot" if strategy in ("SPOT", 4) else "on-demand"


# ------------------------------------------------------------------ cost
@dataclass(frozen=True)
class VertexRates:
    standard_usd_per_hour: float | None
    spot_usd_per_hour: float | None
    note: str


@dataclass(frozen=True)
class AttemptTime:
    capacity: str
    billed_seconds: float
    replicas: int


@dataclass(frozen=True)
class JobCost:
    billed_seconds: float
    usd: float | None
    savings_percent: float | None
    note: str


def job_cost(attempts: list[AttemptTime], rates: VertexRates) -> JobCost:
    """Billed time of every attempt x replicas x the Vertex AI rate of its capacity (spot or standard).
    The savings figure is against running the same billed time on standard capacity."""
    billed = sum(a.billed_seconds for a in attempts)
    if rates.standard_usd_per_hour is None:
        return JobCost(billed, None, None, rates.note)
    spot_rate = rates.spot_usd_per_hour if rates.spot_usd_per_hour is not None else rates.standard_usd_per_hour
    usd = standard = 0.0
    parts = []
    for a in attempts:
        rate = spot_rate if a.capacity == "spot" else rates.standard_usd_per_hour
        usd += a.billed_seconds * a.replicas * rate / 3600
        standard += a.billed_seconds * a.replicas * rates.standard_usd_per_hour / 3600
        parts.append(f"{a.billed_seconds:g} s x {a.replicas} x ${rate:g}/h {a.capacity}")
    savings = None
    if any(a.capacity == "spot" for a in attempts) and standard > 0:
        savings = round((1 - usd / standard) * 100, 1)
    return JobCost(billed, round(usd, 4), savings, "; ".join(parts) + (f"; {rates.note}" if rates.note else ""))


def bundle_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]
