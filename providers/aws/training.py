"""SageMaker's words for terraml's: the CreateTrainingJob body, the status mapping and job cost.

Pure functions, so every field can be tested without AWS.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shlex
from dataclasses import dataclass

from terraml.backend import BudgetOverride, State
from terraml.policy.spot import SpotDecision
from terraml.spec.job import JobSpot, TrainingJob

ACCOUNT_PLACEHOLDER = "<account-id>"
"""Stands for the caller's account in a dry run's request (filled from STS at submit)."""
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
CODE_CHANNEL = "code"
CODE_PATH = f"/opt/ml/input/data/{CODE_CHANNEL}"


@dataclass(frozen=True)
class TeamEnvironment:
    """Where a team's jobs run on AWS: derived from the spec (terraml.naming), as the stack creates it."""

    region: str
    account_id: str | None
    """None while planning: the account is read (STS) only when the job is submitted."""
    bucket: str
    role_name: str
    kms_alias: str
    tags: dict[str, str]

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id or ACCOUNT_PLACEHOLDER}:role/{self.role_name}"

    def prefix(self, job: str) -> str:
        return f"s3://{self.bucket}/jobs/{job}"


CONTAINER_ENV = ("TERRAML_JOB_NAME", "TERRAML_TEAM", "TERRAML_CHECKPOINT_DIR", "TERRAML_MODEL_DIR",
                 "TERRAML_METRICS_FILE", "TERRAML_HYPERPARAMETERS", "TERRAML_CAPACITY")
"""The variables of terraml's container contract, set on every job (they count toward SageMaker's limit)."""


def entrypoint_argv(entrypoint: str) -> list[str]:
    """ContainerEntrypoint: GNU env enters the code channel's folder and execs the entrypoint's words (no shell)."""
    return ["env", f"--chdir={CODE_PATH}", *shlex.split(entrypoint)]


@functools.cache
def sagemaker_limits() -> dict[str, dict]:
    """CreateTrainingJob's limits from botocore's service model (counts, lengths, key patterns)."""
    from terraml.providers.aws.regions import botocore_model

    shape = botocore_model("sagemaker").operation_model("CreateTrainingJob").input_shape
    out = {}
    for name in ("HyperParameters", "Environment"):
        member = shape.members[name]
        out[name] = member.metadata
        out[f"{name}.key"], out[f"{name}.value"] = member.key.metadata, member.value.metadata
    entry = shape.members["AlgorithmSpecification"].members["ContainerEntrypoint"]
    out["ContainerEntrypoint"] = {"max": entry.metadata["max"], "item_max": entry.member.metadata["max"]}
    return out


def training_request(job: TrainingJob, spot: JobSpot, decision: SpotDecision, env: TeamEnvironment,
                     instance_type: str, image: str, name: str | None = None) -> dict:
    """The CreateTrainingJob request for one attempt on the decided capacity."""
    name = name or job.name
    on_spot = decision.capacity == "spot"
    runtime_s = int(job.max_runtime_hours * 3600)
    stopping = {"MaxRuntimeInSeconds": runtime_s}
    if on_spot:
        stopping["MaxWaitTimeInSeconds"] = max(int(spot.max_wait_hours * 3600), runtime_s)
    environment = {
        **job.environment,
        "TERRAML_JOB_NAME": name,
        "TERRAML_TEAM": job.team,
        "TERRAML_CHECKPOINT_DIR": CHECKPOINT_LOCAL_PATH,
        "TERRAML_MODEL_DIR": "/opt/ml/model",
        "TERRAML_METRICS_FILE": "/opt/ml/output/metrics.jsonl",
        "TERRAML_HYPERPARAMETERS": json.dumps(job.hyperparameters, sort_keys=True),
        "TERRAML_CAPACITY": decision.capacity,
    }
    request = {
        "TrainingJobName": name,
        "RoleArn": env.role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            # The source folder arrives as the 'code' channel; the entrypoint runs there as argv, with no
            # shell (as on every backend): GNU env changes the folder and execs the program.
            "ContainerEntrypoint": entrypoint_argv(job.entrypoint),
        },
        "InputDataConfig": [{
            "ChannelName": CODE_CHANNEL,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{env.prefix(job.name)}/code/",
                                            "S3DataDistributionType": "FullyReplicated"}},
        }],
        "OutputDataConfig": {"S3OutputPath": f"{env.prefix(job.name)}/output", "KmsKeyId": env.kms_alias},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": job.resources.instance_count,
                           "VolumeSizeInGB": 100, "VolumeKmsKeyId": env.kms_alias},
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": on_spot,
        "HyperParameters": {k: str(v) for k, v in sorted(job.hyperparameters.items())},
        "Environment": environment,
        "RetryStrategy": {"MaximumRetryAttempts": 2},
        "Tags": [{"Key": k, "Value": v} for k, v in sorted({
            **env.tags, "terraml:job": job.name, "terraml:spot-mode": spot.mode,
            "terraml:capacity": decision.capacity,
            # read back when the job completes, to register its model
            **({"terraml:register-model": job.register_model} if job.register_model else {})}.items())],
    }
    if decision.checkpointing or on_spot:
        request["CheckpointConfig"] = {"S3Uri": f"{env.prefix(job.name)}/checkpoints",
                                       "LocalPath": CHECKPOINT_LOCAL_PATH}
    return request


def on_demand_retry(describe: dict, name: str) -> dict:
    """The same job again on on-demand capacity, from DescribeTrainingJob of the spot attempt.

    The checkpoint location is kept, so the retry resumes where spot left off.
    """
    keep = ("RoleArn", "AlgorithmSpecification", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
            "HyperParameters", "Environment", "RetryStrategy", "CheckpointConfig", "VpcConfig")
    request = {k: describe[k] for k in keep if k in describe}
    spec = request["AlgorithmSpecification"]
    request["AlgorithmSpecification"] = {k: v for k, v in spec.items() if k not in ("MetricDefinitions",)}
    request["TrainingJobName"] = name
    request["EnableManagedSpotTraining"] = False
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": describe["StoppingCondition"]["MaxRuntimeInSeconds"]}
    request["Environment"] = {**request.get("Environment", {}), "TERRAML_CAPACITY": "on-demand",
                              "TERRAML_JOB_NAME": name}
    return request


# (TrainingJobStatus, SecondaryStatus) -> State; SecondaryStatus decides within InProgress.
_IN_PROGRESS = {
    "Starting": State.PENDING, "Pending": State.WAITING_FOR_CAPACITY, "LaunchingMLInstances": State.PENDING,
    "PreparingTrainingStack": State.PENDING, "Downloading": State.RUNNING, "DownloadingTrainingImage": State.RUNNING,
    "Training": State.RUNNING, "Uploading": State.RUNNING, "Interrupted": State.INTERRUPTED,
    "Restarting": State.WAITING_FOR_CAPACITY, "Updating": State.RUNNING,
}


def map_status(training_status: str, secondary: str | None) -> State:
    if training_status == "Completed":
        return State.COMPLETED
    if training_status == "Failed":
        return State.FAILED
    if training_status in ("Stopped", "Stopping", "Deleting"):
        return State.STOPPED
    return _IN_PROGRESS.get(secondary or "", State.RUNNING)


def spot_gave_up(describe: dict) -> bool:
    """A spot attempt that ended for lack of capacity (the wait ran out), not because the code failed."""
    reason = (describe.get("FailureReason") or "").lower()
    return describe.get("SecondaryStatus") == "MaxWaitTimeExceeded" or "capacity" in reason


@dataclass(frozen=True)
class JobCost:
    billable_seconds: int | None
    training_seconds: int | None
    usd: float | None
    savings_percent: float | None
    note: str


def job_cost(describe: dict, usd_per_hour: float | None) -> JobCost:
    """Billed compute = BillableTimeInSeconds x InstanceCount; the savings figure is SageMaker's own,
    (1 - billable / training) x 100, shown for spot jobs."""
    billable = describe.get("BillableTimeInSeconds")
    training = describe.get("TrainingTimeInSeconds")
    count = describe.get("ResourceConfig", {}).get("InstanceCount", 1)
    savings = None
    if describe.get("EnableManagedSpotTraining") and billable is not None and training:
        savings = round((1 - billable / training) * 100, 1)
    if billable is None:
        return JobCost(None, training, None, savings, "SageMaker has not reported billable time yet")
    if usd_per_hour is None:
        return JobCost(billable, training, None, savings, "no SageMaker training price for this instance type")
    usd = billable * count * usd_per_hour / 3600
    return JobCost(billable, training, round(usd, 4), savings,
                   f"{billable} s x {count} instance(s) x ${usd_per_hour:g}/h")


OVERRIDE_TAGS = ("terraml:override-by", "terraml:override-reason", "terraml:override-at")
"""The job's tags that record `train --over-budget`: who, why, and when (UTC, ISO 8601)."""
TAG_VALUE_MAX = 256
_NOT_TAG_TEXT = re.compile(r"[^\w\s.:/=+\-@]+")
"""What AWS tag values may not hold (they take letters, digits, spaces and _ . : / = + - @)."""


def tag_value(text: str) -> str:
    """``text`` as an AWS tag value: each run of other characters becomes one space, and a value above 256
    characters is cut (ending in '...')."""
    value = " ".join(_NOT_TAG_TEXT.sub(" ", text).split())
    return value if len(value) <= TAG_VALUE_MAX else value[:TAG_VALUE_MAX - 3].rstrip() + "..."


def override_tags(override: BudgetOverride) -> dict[str, str]:
    at = dt.datetime.fromtimestamp(override.at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(zip(OVERRIDE_TAGS, (tag_value(override.by), tag_value(override.reason), at), strict=True))


def override_of(tags: dict[str, str]) -> dict | None:
    """The override recorded in a job's tags, as the job status shows it (``at`` in epoch seconds)."""
    if OVERRIDE_TAGS[0] not in tags:
        return None
    try:
        at = dt.datetime.strptime(tags.get(OVERRIDE_TAGS[2], ""), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC).timestamp()
    except ValueError:
        at = None
    return {"by": tags[OVERRIDE_TAGS[0]], "reason": tags.get(OVERRIDE_TAGS[1], ""), "at": at}
