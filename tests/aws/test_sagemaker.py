"""The SageMaker backend against moto in server mode, with botocore's Stubber where moto falls short.

Stubber still validates every request against SageMaker's real API model.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys

import boto3
import pytest
from botocore.stub import ANY, Stubber

from terraml.backend import State
from terraml.catalog import load_catalog
from terraml.providers.aws.sagemaker import SageMakerBackend
from terraml.providers.aws.training import job_cost, map_status
from terraml.spec.job_loader import load_job

from ..conftest import EXAMPLE, ROOT, tool_env

BUCKET = "acme-vision-prod-ml-artifacts-us-east-1"
ROLE = "arn:aws:iam::123456789012:role/acme-vision-prod-sagemaker-execution"
ARN = "arn:aws:sagemaker:us-east-1:123456789012"
EP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/acme-vision-prod-classifier"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5-gpu-py311"


@pytest.fixture
def job(example_spec, tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    shutil.copy(ROOT / "examples" / "job.yaml", tmp_path / "job.yaml")
    return load_job(tmp_path / "job.yaml", example_spec.platform, "aws")


@pytest.fixture
def aws(moto_reset, example_spec):
    """The team's environment as the vision-aws stack creates it (bucket), on moto."""
    session = boto3.Session(region_name="us-east-1")
    session.client("s3").create_bucket(Bucket=BUCKET)
    return SageMakerBackend(example_spec.platform, load_catalog(), session=session), session


def test_training_request_field_by_field(aws, job):
    backend, _ = aws
    plan = backend.plan(job)
    r = plan.request
    assert plan.decision.capacity == "spot"
    assert r["TrainingJobName"] == "image-classifier"
    # Planning makes no network call: the account is filled in from STS when the job is submitted.
    assert r["RoleArn"] == "arn:aws:iam::<account-id>:role/acme-vision-prod-sagemaker-execution"
    # argv, no shell: GNU env enters the code channel's folder and execs the entrypoint's words.
    assert r["AlgorithmSpecification"] == {
        "TrainingImage": IMAGE, "TrainingInputMode": "File",
        "ContainerEntrypoint": ["env", "--chdir=/opt/ml/input/data/code", "python", "train.py", "--epochs", "5"]}
    assert r["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == \
        f"s3://{BUCKET}/jobs/image-classifier/code/"
    assert r["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/jobs/image-classifier/output",
                                     "KmsKeyId": "alias/acme-vision-prod"}
    # A10G x1: the cheapest SageMaker training type carrying one (g5.xlarge on EC2).
    assert r["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge" and r["ResourceConfig"]["InstanceCount"] == 1
    assert r["StoppingCondition"] == {"MaxRuntimeInSeconds": 4 * 3600, "MaxWaitTimeInSeconds": 8 * 3600}
    assert r["EnableManagedSpotTraining"] is True
    assert r["CheckpointConfig"] == {"S3Uri": f"s3://{BUCKET}/jobs/image-classifier/checkpoints",
                                     "LocalPath": "/opt/ml/checkpoints"}
    assert r["RetryStrategy"] == {"MaximumRetryAttempts": 2}
    assert r["HyperParameters"] == {"batch_size": "64", "lr": "0.001"}
    assert r["Environment"]["TERRAML_CHECKPOINT_DIR"] == "/opt/ml/checkpoints"
    assert json.loads(r["Environment"]["TERRAML_HYPERPARAMETERS"]) == {"lr": 0.001, "batch_size": 64}
    tags = {t["Key"]: t["Value"] for t in r["Tags"]}
    assert tags["team"] == "vision" and tags["cost-center"] == "CC-1042" and tags["terraml:spot-mode"] == "auto"


def test_training_request_passes_botocore_validation(aws, job):
    backend, _ = aws
    request = {**backend.plan(job).request, "RoleArn": ROLE}  # as submit sends it
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("create_training_job", {"TrainingJobArn": f"{ARN}:training-job/x"}, request)
        client.create_training_job(**request)  # Stubber raises if the body breaks the API model


def test_submit_creates_the_job_once_and_uploads_the_source(aws, job):
    backend, session = aws
    first, second = backend.submit(backend.plan(job)), backend.submit(backend.plan(job))
    assert not first.existing and second.existing
    sm = session.client("sagemaker")
    assert [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]] == ["image-classifier"]
    stored = sm.describe_training_job(TrainingJobName="image-classifier")
    assert stored["RoleArn"] == ROLE  # the account moto's STS answers, filled in at submit
    assert stored["EnableManagedSpotTraining"] is True
    assert stored["StoppingCondition"]["MaxWaitTimeInSeconds"] == 28800
    assert stored["CheckpointConfig"]["S3Uri"].endswith("/jobs/image-classifier/checkpoints")
    keys = [o["Key"] for o in session.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["jobs/image-classifier/code/train.py"]


@pytest.mark.parametrize("primary,secondary,state", [
    ("InProgress", "Starting", State.PENDING),
    ("InProgress", "Pending", State.WAITING_FOR_CAPACITY),
    ("InProgress", "Downloading", State.RUNNING),
    ("InProgress", "Training", State.RUNNING),
    ("InProgress", "Interrupted", State.INTERRUPTED),
    ("InProgress", "Restarting", State.WAITING_FOR_CAPACITY),
    ("Completed", "Completed", State.COMPLETED),
    ("Failed", "MaxWaitTimeExceeded", State.FAILED),
    ("Failed", "Failed", State.FAILED),
    ("Stopping", "Stopping", State.STOPPED),
    ("Stopped", "Stopped", State.STOPPED),
])
def test_status_mapping(primary, secondary, state):
    assert map_status(primary, secondary) == state


def test_cost_and_savings_arithmetic():
    # 100 billed seconds of 500 trained on one ml.g5.xlarge at $1.408/h (catalog, SageMaker training).
    describe = {"BillableTimeInSeconds": 100, "TrainingTimeInSeconds": 500, "EnableManagedSpotTraining": True,
                "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.g5.xlarge"}}
    price = load_catalog().managed_row("aws", "us-east-1", "ml.g5.xlarge", "training job instance-hour")
    cost = job_cost(describe, price.usd_per_hour)
    assert price.usd_per_hour == 1.408
    assert cost.savings_percent == 80.0
    assert cost.usd == round(100 * 1.408 / 3600, 4) == 0.0391
    two = job_cost({**describe, "ResourceConfig": {"InstanceCount": 2}}, 1.408)
    assert two.usd == round(2 * 100 * 1.408 / 3600, 4)


def _describe(name, status, secondary, **extra):
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    base = {"TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
            "TrainingJobStatus": status, "SecondaryStatus": secondary, "CreationTime": now,
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE, "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/jobs/{name}/output"},
            "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 100},
            "StoppingCondition": {"MaxRuntimeInSeconds": 14400, "MaxWaitTimeInSeconds": 28800},
            "ModelArtifacts": {"S3ModelArtifacts": f"s3://{BUCKET}/jobs/{name}/output/model.tar.gz"}}
    base.update(extra)
    return base


def _stubbed(example_spec, stubs: dict):
    return SageMakerBackend(example_spec.platform, load_catalog(), client_factory=lambda svc, region: stubs[svc])


def test_billable_seconds_become_cost_and_savings(example_spec):
    sm, sts = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sts", region_name="us-east-1")
    backend = _stubbed(example_spec, {"sagemaker": sm, "sts": sts})
    with Stubber(sm) as stub:
        done = _describe("image-classifier", "Completed", "Completed", EnableManagedSpotTraining=True,
                         BillableTimeInSeconds=100, TrainingTimeInSeconds=500,
                         SecondaryStatusTransitions=[{"Status": "Training", "StartTime": dt.datetime(2026, 1, 1)},
                                                     {"Status": "Interrupted", "StartTime": dt.datetime(2026, 1, 1)},
                                                     {"Status": "Training", "StartTime": dt.datetime(2026, 1, 1)}])
        stub.add_response("describe_training_job", done, {"TrainingJobName": "image-classifier"})
        stub.add_response("list_tags", {"Tags": [{"Key": "terraml:spot-mode", "Value": "auto"}]}, {"ResourceArn": ANY})
        stub.add_response("list_tags", {"Tags": [{"Key": "terraml:spot-mode", "Value": "auto"}]}, {"ResourceArn": ANY})
        status = backend.status(backend_handle("image-classifier"))
    assert (status.state, status.capacity, status.interruptions) == (State.COMPLETED, "spot", 1)
    assert (status.billable_seconds, status.training_seconds, status.savings_percent) == (100, 500, 80.0)
    assert status.cost_usd == 0.0391


def backend_handle(name):
    from terraml.backend import JobHandle

    return JobHandle("aws", name, name, "vision")


def test_auto_resubmits_on_on_demand_when_spot_gives_up(example_spec):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    backend = _stubbed(example_spec, {"sagemaker": sm})
    spot = _describe("image-classifier", "Failed", "MaxWaitTimeExceeded", EnableManagedSpotTraining=True,
                     FailureReason="Spot capacity was not available within MaxWaitTimeInSeconds",
                     InputDataConfig=[{"ChannelName": "code", "DataSource": {"S3DataSource": {
                         "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/jobs/image-classifier/code/"}}}],
                     CheckpointConfig={"S3Uri": f"s3://{BUCKET}/jobs/image-classifier/checkpoints",
                                       "LocalPath": "/opt/ml/checkpoints"},
                     Environment={"TERRAML_CAPACITY": "spot", "TERRAML_JOB_NAME": "image-classifier"},
                     RetryStrategy={"MaximumRetryAttempts": 2})
    expected = {
        "TrainingJobName": "image-classifier-od", "RoleArn": ROLE, "EnableManagedSpotTraining": False,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "InputDataConfig": spot["InputDataConfig"], "OutputDataConfig": spot["OutputDataConfig"],
        "ResourceConfig": spot["ResourceConfig"], "StoppingCondition": {"MaxRuntimeInSeconds": 14400},
        "CheckpointConfig": spot["CheckpointConfig"], "RetryStrategy": {"MaximumRetryAttempts": 2},
        "Environment": {"TERRAML_CAPACITY": "on-demand", "TERRAML_JOB_NAME": "image-classifier-od"},
        "Tags": ANY}
    with Stubber(sm) as stub:
        stub.add_response("describe_training_job", spot, {"TrainingJobName": "image-classifier"})
        stub.add_response("list_tags", {"Tags": [{"Key": "terraml:spot-mode", "Value": "auto"}]}, {"ResourceArn": ANY})
        stub.add_client_error("describe_training_job", "ValidationException", "Requested resource not found.",
                              expected_params={"TrainingJobName": "image-classifier-od"})
        stub.add_response("create_training_job", {"TrainingJobArn": f"{ARN}:training-job/od"}, expected)
        stub.add_response("describe_training_job", _describe("image-classifier-od", "InProgress", "Training"),
                          {"TrainingJobName": "image-classifier-od"})
        status = backend.status(backend_handle("image-classifier"))
        stub.assert_no_pending_responses()
    assert (status.state, status.capacity) == (State.RUNNING, "on-demand")
    assert "continuing on on-demand as image-classifier-od" in status.message


def test_cancel_stops_the_job(example_spec):
    sm = boto3.client("sagemaker", region_name="us-east-1")  # moto does not implement StopTrainingJob
    backend = _stubbed(example_spec, {"sagemaker": sm})
    with Stubber(sm) as stub:
        stub.add_response("stop_training_job", {}, {"TrainingJobName": "image-classifier"})
        backend.cancel(backend_handle("image-classifier"))
        stub.assert_no_pending_responses()


def test_completed_job_is_registered_in_mlflow_once(aws, job, mlflow_server):
    from mlflow import MlflowClient

    backend, _ = aws
    backend.tracking_uri = mlflow_server
    handle = backend.submit(backend.plan(job))
    first = backend.status(handle)  # moto completes jobs at once
    again = backend.status(handle)
    assert first.state == State.COMPLETED and first.model_version is not None
    assert again.model_version is None  # already registered: nothing new
    mv = MlflowClient(tracking_uri=mlflow_server).get_model_version("image-classifier", first.model_version)
    assert mv.source == f"s3://{BUCKET}/jobs/image-classifier/output/image-classifier/output/model.tar.gz"
    assert mv.tags["terraml.image"] == IMAGE.replace("-training:", "-inference:")


def test_blue_green_canary_rollout(example_spec, mlflow_server):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server)
    try:
        client.create_registered_model("rollout-model")
    except Exception:  # noqa: BLE001 - created by an earlier run of this session
        pass
    source = f"s3://{BUCKET}/jobs/x/output/model.tar.gz"
    version = client.create_model_version("rollout-model", source=source,
                                          tags={"terraml.image": IMAGE.replace("-training:", "-inference:")}).version
    sm, sts = boto3.client("sagemaker", region_name="us-east-1"), boto3.client("sts", region_name="us-east-1")
    backend = SageMakerBackend(example_spec.platform, load_catalog(), tracking_uri=mlflow_server,
                               client_factory=lambda svc, region: {"sagemaker": sm, "sts": sts}[svc])
    name = f"acme-vision-prod-classifier-rollout-model-v{version}"
    with Stubber(sm) as stub, Stubber(sts) as sts_stub:
        sts_stub.add_response("get_caller_identity", {"Account": "123456789012"})
        stub.add_response("describe_endpoint", {
            "EndpointName": "acme-vision-prod-classifier", "EndpointArn": EP_ARN, "EndpointConfigName": "boot",
            "EndpointStatus": "InService", "CreationTime": dt.datetime(2026, 1, 1),
            "LastModifiedTime": dt.datetime(2026, 1, 1)}, {"EndpointName": "acme-vision-prod-classifier"})
        stub.add_response("create_model", {"ModelArn": f"{ARN}:model/m"}, {
            "ModelName": name, "ExecutionRoleArn": ROLE, "Tags": ANY,
            "PrimaryContainer": {"Image": IMAGE.replace("-training:", "-inference:"), "ModelDataUrl": source}})
        stub.add_response("create_endpoint_config", {"EndpointConfigArn": f"{ARN}:endpoint-config/c"}, {
            "EndpointConfigName": name, "KmsKeyId": "alias/acme-vision-prod", "Tags": ANY,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
                                    "InstanceType": "ml.g5.xlarge"}]})
        stub.add_response("update_endpoint", {"EndpointArn": EP_ARN}, {
            "EndpointName": "acme-vision-prod-classifier", "EndpointConfigName": name,
            "RetainAllVariantProperties": True,
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600,
                                                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}},
                    "TerminationWaitInSeconds": 300, "MaximumExecutionTimeoutInSeconds": 3600},
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "acme-vision-prod-classifier-5xx"},
                                                         {"AlarmName": "acme-vision-prod-classifier-latency"}]}}})
        result = backend.deploy("rollout-model", version, "classifier", canary_percent=10)
        stub.assert_no_pending_responses()
    assert "canary 10% first" in result.message and "rolls back" in result.message


def test_deploy_names_an_unknown_endpoint(example_spec):
    backend = SageMakerBackend(example_spec.platform, load_catalog(), tracking_uri="sqlite:///unused.db")
    from terraml.errors import UserError

    with pytest.raises(UserError, match="'clasifier' is not an AWS endpoint in the platform spec; did you mean "
                                        "'classifier'"):
        backend._endpoint_spec("clasifier")


def test_accelerator_sagemaker_cannot_provide(aws, job):
    from terraml.errors import SpecError

    backend, _ = aws
    bad = job.job.model_copy(update={"resources": job.job.resources.model_copy(update={"accelerator": "A10"})})
    with pytest.raises(SpecError) as info:
        backend.plan(type(job)(bad, job.path, job.source_dir, job.spot))
    message = str(info.value)
    assert "resources.accelerator: SageMaker in us-east-1 offers no training instance with 1 x A10" in message
    assert "did you mean 'A10G'?" in message


def test_dry_run_prints_the_request_and_submits_nothing(moto_reset, tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    shutil.copy(ROOT / "examples" / "job.yaml", tmp_path / "job.yaml")
    # Nothing listens on port 9: a dry run that called AWS (STS, SageMaker) would fail.
    env = {**tool_env(), "TERRAML_HOME": str(tmp_path / "home"), "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    result = subprocess.run([sys.executable, "-m", "terraml.cli", "train", str(tmp_path / "job.yaml"), "--cloud",
                             "aws", "--dry-run", "--spec", str(EXAMPLE)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"EnableManagedSpotTraining": true' in out and '"MaxWaitTimeInSeconds": 28800' in out
    assert "arn:aws:iam::<account-id>:role/" in out
    assert "dry run: nothing submitted" in out
    sm = boto3.client("sagemaker", region_name="us-east-1")
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_logs_come_from_the_jobs_cloudwatch_streams(aws, job):
    backend, session = aws
    logs = session.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)  # CloudWatch rejects events older than 14 days
    logs.create_log_group(logGroupName=group)
    for stream, lines in (("image-classifier/algo-1-1700000000", ["epoch 1/5", "epoch 2/5"]),
                          ("other-job/algo-1-1700000000", ["not ours"])):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now_ms + i, "message": m} for i, m in enumerate(lines)])
    assert list(backend.logs(backend_handle("image-classifier"))) == ["epoch 1/5", "epoch 2/5"]


# ------------------------------------------------------------------------------------------------ guardrails
def test_plan_counts_the_gpus_of_the_instance_type(aws, job):
    backend, _ = aws
    assert backend.plan(job).gpus == 1  # 1 x A10G: ml.g5.xlarge
    resources = job.job.resources.model_copy(update={"accelerator": None, "instance_type": "ml.g5.12xlarge",
                                                     "instance_count": 2})
    named = type(job)(job.job.model_copy(update={"resources": resources}), job.path, job.source_dir, job.spot)
    # An instance type rather than an accelerator: g5.12xlarge carries 4 A10G (catalog), on 2 instances.
    assert backend.plan(named).gpus == 8
    from terraml import guardrails

    assert guardrails.gpus_of(backend.plan(named)) == 8


def test_override_tags_follow_the_aws_tag_rules():
    from terraml.backend import BudgetOverride
    from terraml.providers.aws.cloud import TAG_TEXT
    from terraml.providers.aws.training import override_of, override_tags, tag_value

    at = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC).timestamp()
    tags = override_tags(BudgetOverride("ana@acme.example", "Q4 retrain (FIN-42), approved by Bo; ok!", at))
    assert tags == {"terraml:override-by": "ana@acme.example", "terraml:override-reason":
                    "Q4 retrain FIN-42 approved by Bo ok", "terraml:override-at": "2026-11-23T09:30:00Z"}
    long = tag_value("why " * 100)
    assert len(long) == 256 and long.endswith("...")
    assert all(TAG_TEXT.fullmatch(v) and len(v) <= 256 for v in (*tags.values(), long))
    assert override_of(tags) == {"by": "ana@acme.example", "reason": "Q4 retrain FIN-42 approved by Bo ok", "at": at}
    assert override_of({"team": "vision"}) is None


def test_status_has_the_times_the_gpus_and_the_override(example_spec):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    backend = _stubbed(example_spec, {"sagemaker": sm})
    start, end = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC), dt.datetime(2026, 11, 23, 10, 30, tzinfo=dt.UTC)
    done = _describe("image-classifier", "Completed", "Completed", TrainingEndTime=end,
                     ResourceConfig={"InstanceType": "ml.g5.12xlarge", "InstanceCount": 2, "VolumeSizeInGB": 100})
    done["CreationTime"] = start
    tags = [{"Key": "terraml:override-by", "Value": "ana@acme.example"},
            {"Key": "terraml:override-reason", "Value": "deadline"},
            {"Key": "terraml:override-at", "Value": "2026-11-23T08:59:00Z"}]
    with Stubber(sm) as stub:
        stub.add_response("describe_training_job", done, {"TrainingJobName": "image-classifier"})
        stub.add_response("list_tags", {"Tags": tags}, {"ResourceArn": ANY})
        stub.add_response("list_tags", {"Tags": tags}, {"ResourceArn": ANY})
        status = backend.status(backend_handle("image-classifier"))
    assert (status.submitted_at, status.ended_at) == (start.timestamp(), end.timestamp())
    assert status.gpus == 8  # 2 x ml.g5.12xlarge, 4 A10G each
    assert status.details["override"] == {"by": "ana@acme.example", "reason": "deadline",
                                          "at": dt.datetime(2026, 11, 23, 8, 59, tzinfo=dt.UTC).timestamp()}


def test_list_jobs_describes_only_the_jobs_in_progress(example_spec):
    sm = boto3.client("sagemaker", region_name="us-east-1")
    backend = SageMakerBackend(example_spec.platform, load_catalog(), team="vision",
                               client_factory=lambda svc, region: sm)
    t0 = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)

    def summary(name, status, **extra):
        return {"TrainingJobName": name, "TrainingJobArn": f"{ARN}:training-job/{name}", "TrainingJobStatus": status,
                "CreationTime": t0, **extra}

    running = _describe("running-job", "InProgress", "Training",
                        ResourceConfig={"InstanceType": "ml.g5.12xlarge", "InstanceCount": 1, "VolumeSizeInGB": 100},
                        CreationTime=t0)
    theirs = _describe("not-ours", "InProgress", "Training", RoleArn="arn:aws:iam::123456789012:role/someone-else")
    with Stubber(sm) as stub:
        stub.add_response("list_training_jobs", {"TrainingJobSummaries": [
            summary("running-job", "InProgress"), summary("not-ours", "InProgress")], "NextToken": "2"},
            {"MaxResults": 100, "StatusEquals": "InProgress"})
        stub.add_response("list_training_jobs", {"TrainingJobSummaries": []},
                          {"MaxResults": 100, "StatusEquals": "InProgress", "NextToken": "2"})
        stub.add_response("list_training_jobs", {"TrainingJobSummaries": [
            summary("running-job", "InProgress"),
            summary("ended-job", "Completed", TrainingEndTime=t0 + dt.timedelta(hours=1))]},
            {"MaxResults": 100, "SortBy": "CreationTime", "SortOrder": "Descending"})
        stub.add_response("describe_training_job", running, {"TrainingJobName": "running-job"})
        stub.add_response("describe_training_job", theirs, {"TrainingJobName": "not-ours"})
        listing = backend.list_jobs()
        stub.assert_no_pending_responses()  # the ended job was not described
    jobs = {h.name: (h.team, s) for h, s in listing}
    assert sorted(jobs) == ["ended-job", "running-job"]  # not-ours runs under a role of no team
    team, status = jobs["running-job"]
    assert (team, status.state, status.gpus, status.submitted_at) == ("vision", State.RUNNING, 4, t0.timestamp())
    team, status = jobs["ended-job"]
    assert (status.state, status.ended_at) == (State.COMPLETED, (t0 + dt.timedelta(hours=1)).timestamp())


PRICED_JOB = """\
name: priced-job
team: vision
entrypoint: python train.py
source_dir: ./train
framework: {name: pytorch, version: "2.5"}
resources: {accelerator: A10G}
max_runtime_hours: 4
"""


def test_a_job_past_the_budget_is_refused_with_the_figures_and_an_override_is_recorded(moto_reset, tmp_path):
    """The example spec with a vision budget of $11; $3.25 of jobs in the ledger and $2.50 on the Cost Explorer
    bill (moto); the job runs up to 4 h on one ml.g5.xlarge on on-demand."""
    import urllib.request

    from terraml.backend import JobStatus
    from terraml.cost.ledger import record_cloud_job
    from terraml.guardrails import this_month

    from ..local.test_faults import terraml

    price = load_catalog().managed_row("aws", "us-east-1", "ml.g5.xlarge", "training job instance-hour").usd_per_hour
    assert price == 1.408  # managed_ml_prices.csv: SageMaker training, ml.g5.xlarge, us-east-1
    worst = 4 * 1 * price  # max_runtime_hours x instances x $/h = $5.632
    spec = tmp_path / "platform.yaml"
    spec.write_text(EXAMPLE.read_text().replace("monthly_usd: 20000", "monthly_usd: 11"))
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    (tmp_path / "job.yaml").write_text(PRICED_JOB)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    home = tmp_path / "home"
    record_cloud_job(home, "aws", "earlier-job", "vision", JobStatus(state=State.COMPLETED, cost_usd=3.25))
    bill = {"ResultsByTime": [{"TimePeriod": {"Start": f"{this_month()}-01", "End": f"{this_month()}-28"},
                               "Total": {}, "Estimated": True, "Groups": [
                                   {"Keys": ["team$vision"], "Metrics": {"UnblendedCost": {"Amount": "2.50",
                                                                                           "Unit": "USD"}}}]}]}
    urllib.request.urlopen(urllib.request.Request(f"{moto_reset}/moto-api/static/ce/cost-and-usage-results",
                                                  data=json.dumps({"results": [bill]}).encode(), method="POST",
                                                  headers={"Content-Type": "application/json"}), timeout=10)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\temail = ana@acme.example\n")
    env = {"TERRAML_HOME": str(home), "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}
    args = ("--cloud", "aws", "--spec", spec)

    refused = terraml("train", "job.yaml", *args, "--detach", cwd=tmp_path, env=env)
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 2, refused.stdout + refused.stderr
    # 3.25 + 2.50 = 5.75 month-to-date; + 5.632 = 11.382 > 11, over by 0.382.
    assert f"{3.25 + 2.50 + worst:.3f}" == "11.382"
    assert (f"refused: team vision's monthly budget is $11.00 (budget.monthly_usd); month-to-date {this_month()} "
            "spend $5.75 (job ledger: 1 job(s) $3.25") in said
    assert f"aws bill {this_month()}: $2.50 (Cost Explorer, UnblendedCost, tag team$vision)" in said
    assert "+ this job's worst case $5.63 = $11.38, $0.38 over." in said
    assert "Traceback" not in refused.stderr
    sm = boto3.client("sagemaker", region_name="us-east-1")
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []

    allowed = terraml("train", "job.yaml", *args, "--detach", "--over-budget", "Q4 retrain (FIN-42)", cwd=tmp_path,
                      env=env)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "over budget: submitted anyway by ana@acme.example: Q4 retrain (FIN-42)" in " ".join(allowed.stdout.split())
    arn = sm.describe_training_job(TrainingJobName="priced-job")["TrainingJobArn"]
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    assert tags["terraml:override-by"] == "ana@acme.example"
    assert tags["terraml:override-reason"] == "Q4 retrain FIN-42"  # AWS tag values take no parentheses
    assert dt.datetime.strptime(tags["terraml:override-at"], "%Y-%m-%dT%H:%M:%SZ")

    status = terraml("jobs", "status", "priced-job", *args, cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert re.search(r"budget override: by ana@acme\.example at \d{4}-\d\d-\d\d \d\d:\d\d: Q4 retrain FIN-42",
                     status.stdout), status.stdout
    listed = terraml("jobs", "list", *args, "--state", "completed", cwd=tmp_path, env=env)
    row = next(line for line in listed.stdout.splitlines() if "priced-job" in line)
    assert [c.strip() for c in row.split("│")[1:-1]][1:2] == ["vision"]


@pytest.mark.parametrize("accelerator,instance", [("L4", "ml.g6.xlarge"), ("T4", "ml.g4dn.xlarge")])
def test_train_accelerator_replaces_the_job_files(tmp_path, accelerator, instance):
    from ..local.test_faults import terraml

    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    shutil.copy(ROOT / "examples" / "job.yaml", tmp_path / "job.yaml")  # accelerator: A10G
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    result = terraml("train", "job.yaml", "--cloud", "aws", "--spec", EXAMPLE, "--dry-run", "--accelerator",
                     accelerator, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f'"InstanceType": "{instance}"' in result.stdout and f"(1 x {accelerator})" in result.stdout


def test_train_accelerator_sagemaker_cannot_provide(tmp_path):
    from ..local.test_faults import terraml

    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    shutil.copy(ROOT / "examples" / "job.yaml", tmp_path / "job.yaml")
    result = terraml("train", "job.yaml", "--cloud", "aws", "--spec", EXAMPLE, "--dry-run", "--accelerator", "A100-80G",
                     cwd=tmp_path, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "offers no training instance with 1 x A100-80G; did you mean 'A100-80GB'?" in " ".join(result.stderr.split())
