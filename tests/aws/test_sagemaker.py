"""The SageMaker backend against moto in server mode, with botocore's Stubber where moto falls short.

Stubber still validates every request against SageMaker's real API model.
"""

from __future__ import annotations

import datetime as dt
import json
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
