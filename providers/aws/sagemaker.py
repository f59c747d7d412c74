"""The SageMaker backend: training jobs with managed spot, and blue/green model rollouts on endpoints.

boto3 is imported in this folder only; a boto3 session can be injected (tests pass one pointed at
moto). The team's bucket, role and key come from the spec through AwsNames: the same names the AWS
team stack creates.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

from terraml.backend import (
    Backend,
    Deployment,
    EndpointStatus,
    JobHandle,
    JobListing,
    JobPlan,
    JobStatus,
    Settings,
    State,
)
from terraml.catalog import Catalog, VmRow
from terraml.cloud import Feature
from terraml.errors import CredentialsError, Problem, ProviderError, SpecError, UserError
from terraml.naming import fit, team_tags
from terraml.policy.machines import Unresolvable, resolve_machine
from terraml.policy.spot import decide
from terraml.providers.aws.names import AwsNames
from terraml.providers.aws.regions import botocore_enum
from terraml.providers.aws.training import (
    TeamEnvironment,
    job_cost,
    map_status,
    on_demand_retry,
    override_of,
    override_tags,
    spot_gave_up,
    training_request,
)
from terraml.spec.job import LoadedJob
from terraml.spec.models import Platform
from terraml.suggest import did_you_mean

FALLBACK_SUFFIX = "-od"
JOB_NAME_LIMIT = 63  # CreateTrainingJob TrainingJobName: 1-63 characters


def fallback_job_name(name: str) -> str:
    """The on-demand retry of a spot job: NAME-od, kept within SageMaker's job name limit."""
    return fit(name + FALLBACK_SUFFIX, JOB_NAME_LIMIT)



def _epoch(value) -> float | None:
    """A time from the SageMaker API (botocore gives a datetime) as epoch seconds."""
    return value.timestamp() if hasattr(value, "timestamp") else None


def _not_found(exc: ClientError) -> bool:
    """SageMaker answers a missing job with ValidationException 'Requested resource not found'."""
    error = exc.response.get("Error", {})
    message = error.get("Message", "").lower()
    return error.get("Code") == "ResourceNotFound" or (
        error.get("Code") == "ValidationException" and ("not found" in message or "could not find" in message))


@functools.lru_cache(maxsize=256)
def framework_image(framework: str, version: str, region: str, instance_type: str, scope: str) -> str:
    """The AWS framework image URI, from the SageMaker SDK's bundled tables (offline). Memoized: the SDK
    re-reads botocore's endpoint data on every call (tens of milliseconds)."""
    from sagemaker.core import image_uris

    return image_uris.retrieve(framework=framework, region=region, version=version, instance_type=instance_type,
                               image_scope=scope)


@dataclass(frozen=True)
class SageMakerPlan(JobPlan):
    """A SageMaker job plan: the request, and where it goes."""

    environment: TeamEnvironment | None = None
    instance_type: str = ""


class SageMakerBackend(Backend):
    NAME = "aws"

    @classmethod
    def from_settings(cls, settings: Settings) -> SageMakerBackend:
        if settings.platform is None:
            raise UserError("the aws backend needs the platform spec (--spec or $TERRAML_SPEC).")
        return cls(settings.platform, settings.catalog, tracking_uri=settings.tracking_uri, team=settings.team)

    def __init__(self, platform: Platform, catalog: Catalog, *, session: boto3.Session | None = None,
                 client_factory: Callable[[str, str], object] | None = None,
                 tracking_uri: str | None = None, team: str | None = None):
        """``client_factory(service, region)`` replaces boto3 client creation (tests pass stubbed clients)."""
        self.platform, self.catalog = platform, catalog
        self.session = session
        self.client_factory = client_factory
        self.tracking_uri = tracking_uri
        self.team_name = team
        self._clients: dict[tuple[str, str], object] = {}
        self._account: str | None = None

    # ------------------------------------------------------------ plumbing
    def _team(self, name: str):
        team = self.platform.team(name)
        if team is None or team.clouds.aws is None:
            raise UserError(f"team '{name}' has no aws environment in the platform spec.")
        return team

    def client(self, service: str, region: str):
        key = (service, region)
        if key not in self._clients:
            if self.client_factory is not None:
                self._clients[key] = self.client_factory(service, region)
            else:
                session = self.session or boto3.Session()
                self._clients[key] = session.client(service, region_name=region)
        return self._clients[key]

    def account_id(self, region: str) -> str:
        if self._account is None:
            try:
                self._account = self.client("sts", region).get_caller_identity()["Account"]
            except NoCredentialsError:
                raise CredentialsError("no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                                       "AWS_SECRET_ACCESS_KEY (or run `aws sso login`).") from None
        return self._account

    def environment(self, team_name: str, *, offline: bool = False) -> TeamEnvironment:
        """The team's AWS environment; ``offline`` leaves the account out (no STS call: plans, dry runs)."""
        team = self._team(team_name)
        aws = team.clouds.aws
        names = AwsNames.for_team(self.platform, team)
        return TeamEnvironment(region=aws.region, account_id=None if offline else self.account_id(aws.region),
                               bucket=names.artifact_bucket, role_name=names.sagemaker_role,
                               kms_alias=names.kms_alias, tags=team_tags(self.platform, team))

    # ------------------------------------------------------------ planning
    def instance_type(self, job: LoadedJob, region: str) -> tuple[str, VmRow | None]:
        """The SageMaker training instance type and the EC2 catalog row behind it: as named, or the cheapest
        type with the accelerator among those SageMaker trains on (the one machine pick, terraml.policy)."""
        known = botocore_enum("sagemaker", "TrainingInstanceType")
        r = job.job.resources
        if r.instance_type:
            if r.instance_type not in known:
                raise SpecError([Problem("resources.instance_type", f"'{r.instance_type}' is not a SageMaker "
                                         f"training instance type{did_you_mean(r.instance_type, known)}")],
                                str(job.path))
            return r.instance_type, self.catalog.vm("aws", region, r.instance_type.removeprefix("ml."))
        if not r.accelerator:
            return "ml.m5.xlarge", self.catalog.vm("aws", region, "m5.xlarge")
        try:
            machine = resolve_machine("aws", region, None, r.accelerator, r.accelerator_count, self.catalog,
                                      allowed=lambda name: f"ml.{name}" in known)
        except Unresolvable:
            offered = self.catalog.accelerators("aws", region)
            hint = did_you_mean(r.accelerator, offered) if r.accelerator not in offered else "."
            raise SpecError([Problem("resources.accelerator",
                                     f"SageMaker in {region} offers no training instance with "
                                     f"{r.accelerator_count} x {r.accelerator}{hint} Accelerators there: "
                                     f"{', '.join(sorted(offered))}.")], str(job.path)) from None
        return f"ml.{machine.instance_type}", machine.row

    def image(self, job: LoadedJob, region: str, instance_type: str, scope: str = "training") -> str:
        if job.job.image:
            return job.job.image
        fw = job.job.framework
        try:
            return framework_image(fw.name, fw.version, region, instance_type, scope)
        except ValueError as exc:
            raise SpecError([Problem("framework", f"{fw.name} {fw.version}: {exc}")], str(job.path)) from None

    def training_price(self, region: str, instance_type: str) -> float | None:
        row = self.catalog.managed_row("aws", region, instance_type, "training job instance-hour")
        return row.usd_per_hour if row else None

    def plan(self, job: LoadedJob) -> SageMakerPlan:
        team = self._team(job.job.team)
        region = team.clouds.aws.region
        instance_type, row = self.instance_type(job, region)
        decision = decide(job.spot, max_runtime_hours=job.job.max_runtime_hours,
                          on_demand_usd_per_hour=row.on_demand_usd_per_hour if row else None,
                          spot_usd_per_hour=row.spot_usd_per_hour if row else None)
        env = self.environment(job.job.team, offline=True)  # plan() makes no network call
        request = training_request(job.job, job.spot, decision, env, instance_type,
                                   self.image(job, region, instance_type))
        notes = (f"instance {instance_type}" + (f" ({row.accelerator_count:g} x {row.accelerator})" if row and
                                                row.accelerator else ""),)
        return SageMakerPlan(job=job, decision=decision, notes=notes, request=request,
                             estimate=self.estimate(job, region, instance_type, row, decision), environment=env,
                             instance_type=instance_type, gpus=self._gpus(row, job.job.resources.instance_count))

    @staticmethod
    def _gpus(row: VmRow | None, instances: int) -> int:
        return int(row.accelerator_count or 0) * instances if row is not None and row.accelerator else 0

    def estimate(self, job: LoadedJob, region: str, instance_type: str, row, decision):
        """Expected and worst-case cost of the job under its spot policy (None when nothing prices it).

        Like with like: SageMaker's managed-spot rate against SageMaker's on-demand training rate. The
        catalog has no managed-spot (TrSpt) rate, only AWS's "up to 90%" saving, so spot hours are priced
        at the on-demand training rate and the estimate says it is an upper bound; EC2's spot/on-demand
        ratio is never applied to SageMaker's price.
        """
        from terraml.cost.job_estimate import job_estimate

        on_demand = self.training_price(region, instance_type)
        note = f"SageMaker training price for {instance_type} (managed_ml_prices.csv)"
        if on_demand is None and row is not None and row.on_demand_usd_per_hour is not None:
            on_demand, note = row.on_demand_usd_per_hour, (f"no SageMaker training price for {instance_type}: "
                                                           f"the EC2 price of {row.instance_type} (SageMaker adds a "
                                                           "premium, so this is low)")
        if on_demand is None:
            return None
        spot_row = self.catalog.managed_row("aws", region, instance_type, "training job instance-hour (managed spot)")
        spot = spot_row.usd_per_hour if spot_row else None
        if spot_row is not None:
            note += f"; SageMaker managed-spot price ${spot:g}/h (managed_ml_prices.csv)"
        elif job.spot.mode != "on-demand":
            saving = self.catalog.fee("aws.sagemaker.spot_training.max_saving_percent")
            floor = (f" (AWS: managed spot saves up to {saving.usd:g}%, i.e. as low as "
                     f"${on_demand * (1 - saving.usd / 100):g}/h)" if saving else "")
            note += (f"; no SageMaker managed-spot price in the catalog: spot hours priced at the SageMaker "
                     f"on-demand rate ${on_demand:g}/h, an upper bound{floor}")
            if row is not None and row.spot_usd_per_hour is not None:
                note += (f"; the capacity line's spot and on-demand prices are EC2's ({row.instance_type}), "
                         "used only to decide spot vs on-demand")
        return job_estimate(mode=job.spot.mode, first_capacity=decision.capacity, hours=job.job.max_runtime_hours,
                            instances=job.job.resources.instance_count, on_demand_usd_per_hour=on_demand,
                            spot_usd_per_hour=spot, price_note=note)

    # ------------------------------------------------------------ jobs
    def _describe(self, region: str, name: str) -> dict | None:
        try:
            return self.client("sagemaker", region).describe_training_job(TrainingJobName=name)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise ProviderError(f"DescribeTrainingJob {name}: {exc}") from None

    def upload_source(self, source_dir: Path, env: TeamEnvironment, job: str) -> int:
        s3 = self.client("s3", env.region)
        count = 0
        for path in sorted(p for p in source_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            key = f"jobs/{job}/code/{path.relative_to(source_dir).as_posix()}"
            s3.put_object(Bucket=env.bucket, Key=key, Body=path.read_bytes(), ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=env.kms_alias)
            count += 1
        return count

    def submit(self, plan: JobPlan, *, simulate_interruptions: int = 0) -> JobHandle:
        if simulate_interruptions:
            self.require(Feature.SIMULATED_INTERRUPTIONS)
        if not isinstance(plan, SageMakerPlan) or plan.environment is None or plan.request is None:
            raise TypeError("submit takes the plan this backend's plan() returned")
        job = plan.job
        env = replace(plan.environment, account_id=self.account_id(plan.environment.region))
        request = {**plan.request, "RoleArn": env.role_arn}  # the one field that needed the network
        if plan.override is not None:  # train --over-budget: who submitted past the budget, and why, on the job
            tags = {t["Key"]: t["Value"] for t in request.get("Tags", [])} | override_tags(plan.override)
            request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        handle = JobHandle(self.NAME, job.job.name, job.job.name, job.job.team)
        # SageMaker refuses a second job of one name, but terraml checks first so that retries and
        # look-alike APIs (moto overwrites silently) can never create two.
        if self._describe(env.region, job.job.name) is not None:
            return JobHandle(self.NAME, job.job.name, job.job.name, job.job.team, existing=True)
        self.upload_source(job.source_dir, env, job.job.name)
        try:
            self.client("sagemaker", env.region).create_training_job(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceInUse":
                return JobHandle(self.NAME, job.job.name, job.job.name, job.job.team, existing=True)
            raise ProviderError(f"CreateTrainingJob {job.job.name}: {exc}") from None
        return handle

    def handle(self, name: str) -> JobHandle:
        team = self.team_name or self._team_of_job(name)
        if self._describe(self._team(team).clouds.aws.region, name) is None:
            raise UserError(f"no SageMaker training job named '{name}' for team {team}.")
        return JobHandle(self.NAME, name, name, team)

    def _team_of_job(self, name: str) -> str:
        teams = [t.name for t in self.platform.teams if t.clouds.aws is not None]
        if len(teams) == 1:
            return teams[0]
        for team in teams:
            if self._describe(self._team(team).clouds.aws.region, name) is not None:
                return team
        raise UserError(f"no SageMaker training job named '{name}' in the regions of teams {', '.join(teams)}; "
                        "pass --team.")

    def status(self, handle: JobHandle) -> JobStatus:
        region = self._team(handle.team).clouds.aws.region
        describe = self._describe(region, handle.name)
        if describe is None:
            raise UserError(f"no SageMaker training job named '{handle.name}'.")
        tags = self._tags(region, describe)
        fallback_name = fallback_job_name(handle.name)
        if tags.get("terraml:spot-mode") == "auto" and describe["TrainingJobStatus"] == "Failed" \
                and spot_gave_up(describe):
            retry = self._describe(region, fallback_name)
            if retry is None:
                request = on_demand_retry(describe, fallback_name)
                request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(
                    {**tags, "terraml:capacity": "on-demand", "terraml:fallback-of": handle.name}.items())]
                self.client("sagemaker", region).create_training_job(**request)
                retry = self._describe(region, fallback_name) or {"TrainingJobStatus": "InProgress",
                                                                   "SecondaryStatus": "Starting"}
            inner = self._status_of(region, retry, "on-demand", tags)
            return JobStatus(**{**inner.__dict__, "message": f"spot gave up ({describe.get('FailureReason', '')}); "
                                                               f"continuing on on-demand as {fallback_name}: "
                                                               f"{inner.message}",
                                "submitted_at": _epoch(describe.get("CreationTime"))})
        status = self._status_of(region, describe, "spot" if describe.get("EnableManagedSpotTraining")
                                 else "on-demand", tags)
        if status.state == State.COMPLETED and "terraml:register-model-version" not in tags:
            version = self._register(region, describe)
            if version:
                status = JobStatus(**{**status.__dict__, "model_version": version})
        return status

    def _status_of(self, region: str, describe: dict, capacity: str, tags: dict[str, str] | None = None) -> JobStatus:
        state = map_status(describe["TrainingJobStatus"], describe.get("SecondaryStatus"))
        resources = describe.get("ResourceConfig", {})
        instance = resources.get("InstanceType", "")
        cost = job_cost(describe, self.training_price(region, instance))
        interruptions = sum(1 for t in describe.get("SecondaryStatusTransitions", [])
                            if t.get("Status") == "Interrupted")
        message = describe.get("FailureReason") or describe.get("SecondaryStatus", "")
        details = {"cost_note": cost.note, "instance_type": instance,
                   "model_artifacts": describe.get("ModelArtifacts", {}).get("S3ModelArtifacts")}
        if (override := override_of(tags or {})) is not None:
            details["override"] = override
        row = self.catalog.vm("aws", region, instance.removeprefix("ml.")) if instance else None
        return JobStatus(state=state, message=message, capacity=capacity, interruptions=interruptions,
                         training_seconds=cost.training_seconds, billable_seconds=cost.billable_seconds,
                         cost_usd=cost.usd, savings_percent=cost.savings_percent,
                         submitted_at=_epoch(describe.get("CreationTime")),
                         ended_at=_epoch(describe.get("TrainingEndTime")) if state.terminal else None,
                         gpus=self._gpus(row, resources.get("InstanceCount", 1)), details=details)

    def _tags(self, region: str, describe: dict) -> dict[str, str]:
        arn = describe.get("TrainingJobArn")
        if not arn:
            return {}
        tags = self.client("sagemaker", region).list_tags(ResourceArn=arn).get("Tags", [])
        return {t["Key"]: t["Value"] for t in tags}

    def _register(self, region: str, describe: dict) -> str | None:
        """Register the finished job's model in the MLflow registry, once (the version is tagged on the job)."""
        tags = self._tags(region, describe)
        model = tags.get("terraml:register-model")
        if not model or not self.tracking_uri or tags.get("terraml:register-model-version"):
            return None
        from terraml.model_registry import register_version

        image = describe["AlgorithmSpecification"]["TrainingImage"].replace("-training:", "-inference:")
        version = register_version(self.tracking_uri, model, describe["ModelArtifacts"]["S3ModelArtifacts"], tags={
            "terraml.image": image, "terraml.training_job": describe["TrainingJobName"],
            "terraml.team": tags.get("team", "")})
        self.client("sagemaker", region).add_tags(ResourceArn=describe["TrainingJobArn"], Tags=[
            {"Key": "terraml:register-model-version", "Value": version}])
        return version

    def logs(self, handle: JobHandle) -> Iterator[str]:
        region = self._team(handle.team).clouds.aws.region
        logs = self.client("logs", region)
        group = "/aws/sagemaker/TrainingJobs"
        try:
            streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{handle.name}/")
        except ClientError:
            return
        for stream in streams.get("logStreams", []):
            events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                         startFromHead=True)
            for event in events.get("events", []):
                yield event["message"]

    def cancel(self, handle: JobHandle) -> None:
        region = self._team(handle.team).clouds.aws.region
        try:
            self.client("sagemaker", region).stop_training_job(TrainingJobName=handle.name)
        except ClientError as exc:
            raise ProviderError(f"StopTrainingJob {handle.name}: {exc}") from None

    LIST_RECENT = 100
    """`jobs list` shows the newest this many jobs per region (one ListTrainingJobs page)."""

    def list_jobs(self) -> JobListing:
        """Per region of the spec's AWS teams: every job in progress (all pages: they hold GPUs, which the quota
        counts) and the newest LIST_RECENT of any state. A job in progress is described (its instances, hence
        GPUs, and its role, hence its team); an ended one is described only where several teams share the
        region (to tell whose it is), so DescribeTrainingJob calls stay within the jobs in progress plus one
        page. A described job whose role is no team's (not submitted by terraml for a team) is left out."""
        regions: dict[str, list] = {}
        for team in self.platform.teams:
            if team.clouds.aws is not None:
                regions.setdefault(team.clouds.aws.region, []).append(team)
        out = []
        for region, teams in regions.items():
            if self.team_name and self.team_name not in [t.name for t in teams]:
                continue
            roles = {AwsNames.for_team(self.platform, t).sagemaker_role: t.name for t in teams}
            sm = self.client("sagemaker", region)
            summaries: dict[str, dict] = {}
            for summary in self._summaries(sm, StatusEquals="InProgress"):
                summaries[summary["TrainingJobName"]] = summary
            recent = sm.list_training_jobs(MaxResults=self.LIST_RECENT, SortBy="CreationTime",
                                           SortOrder="Descending").get("TrainingJobSummaries", [])
            for summary in recent:
                summaries.setdefault(summary["TrainingJobName"], summary)
            for name, summary in sorted(summaries.items(), key=lambda kv: kv[1].get("CreationTime") or 0,
                                        reverse=True):
                state = map_status(summary["TrainingJobStatus"], summary.get("SecondaryStatus"))
                if state.terminal and len(teams) == 1:
                    team, status = teams[0].name, JobStatus(
                        state=state, submitted_at=_epoch(summary.get("CreationTime")),
                        ended_at=_epoch(summary.get("TrainingEndTime")))
                else:
                    describe = self._describe(region, name)
                    if describe is None:
                        continue  # ended and deleted between the two calls
                    team = roles.get(describe.get("RoleArn", "").rsplit("/", 1)[-1])
                    if team is None:
                        continue
                    status = self._status_of(region, describe, "spot" if describe.get("EnableManagedSpotTraining")
                                             else "on-demand")
                if self.team_name and team != self.team_name:
                    continue
                out.append((JobHandle(self.NAME, name, name, team), status))
        return JobListing(out)

    @staticmethod
    def _summaries(sm, **filters) -> Iterator[dict]:
        token = None
        while True:
            page = sm.list_training_jobs(MaxResults=100, **filters, **({"NextToken": token} if token else {}))
            yield from page.get("TrainingJobSummaries", [])
            token = page.get("NextToken")
            if not token:
                return

    # ------------------------------------------------------------ deployment
    def _endpoint_spec(self, endpoint: str):
        found = [(t, ep) for t in self.platform.teams if t.clouds.aws is not None
                 for ep in t.clouds.aws.endpoints if ep.name == endpoint and
                 (self.team_name is None or t.name == self.team_name)]
        if len(found) != 1:
            names = [ep.name for t in self.platform.teams if t.clouds.aws for ep in t.clouds.aws.endpoints]
            if not found:
                raise UserError(f"--endpoint: '{endpoint}' is not an AWS endpoint in the platform spec"
                                f"{did_you_mean(endpoint, names)} Endpoints: {', '.join(names) or 'none'}.")
            raise UserError(f"--endpoint: '{endpoint}' belongs to several teams; pass --team.")
        return found[0]

    def deployment_requests(self, model: str, version: str, endpoint: str, canary_percent: int | None,
                            source: str, image: str) -> dict:
        """CreateModel, CreateEndpointConfig and UpdateEndpoint bodies for a blue/green rollout."""
        team, ep = self._endpoint_spec(endpoint)
        names = AwsNames.for_team(self.platform, team)
        env = self.environment(team.name)
        endpoint_name = names.endpoint(endpoint)
        config_name = f"{endpoint_name}-{model}-v{version}"[:63].rstrip("-")
        # The canary bakes for the spec's rollout.bake_minutes before SageMaker shifts the rest (as terraml's
        # watcher does on Vertex AI and Azure ML); the spec check keeps it within SageMaker's 3600 s.
        routing = ({"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary_percent},
                    "WaitIntervalInSeconds": round(ep.rollout.bake_minutes * 60)} if canary_percent else
                   {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300})
        return {
            "create_model": {"ModelName": config_name, "ExecutionRoleArn": env.role_arn,
                             "PrimaryContainer": {"Image": image, "ModelDataUrl": source},
                             "Tags": [{"Key": k, "Value": v} for k, v in sorted(env.tags.items())]},
            "create_endpoint_config": {
                "EndpointConfigName": config_name, "KmsKeyId": env.kms_alias,
                "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": config_name,
                                        "InitialInstanceCount": ep.min_replicas, "InstanceType": ep.instance_type}],
                "Tags": [{"Key": k, "Value": v} for k, v in sorted(env.tags.items())]},
            "update_endpoint": {
                "EndpointName": endpoint_name, "EndpointConfigName": config_name,
                # Keep the instance count that autoscaling chose; only the model changes.
                "RetainAllVariantProperties": True,
                "DeploymentConfig": {
                    "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing,
                                              "TerminationWaitInSeconds": 300,
                                              "MaximumExecutionTimeoutInSeconds": 3600},
                    "AutoRollbackConfiguration": {"Alarms": [
                        {"AlarmName": names.endpoint_alarm(endpoint, "5xx")},
                        {"AlarmName": names.endpoint_alarm(endpoint, "latency")}]}}},
            "region": env.region,
        }

    def deploy(self, model: str, version: str, endpoint: str, canary_percent: int | None = None) -> Deployment:
        from terraml.model_registry import version_to_deploy

        mv = version_to_deploy(self.tracking_uri, model, version, cloud=self.NAME, service="SageMaker",
                               source_scheme="s3://")
        image = mv.tags["terraml.image"]
        reqs = self.deployment_requests(model, version, endpoint, canary_percent, mv.source, image)
        sm = self.client("sagemaker", reqs["region"])
        try:
            sm.describe_endpoint(EndpointName=reqs["update_endpoint"]["EndpointName"])
        except ClientError:
            team, _ = self._endpoint_spec(endpoint)
            raise UserError(f"endpoint {reqs['update_endpoint']['EndpointName']} does not exist yet; deploy the "
                            f"team stack first: npx cdktn deploy {team.name}-aws") from None
        for call in ("create_model", "create_endpoint_config"):
            try:
                getattr(sm, call)(**reqs[call])
            except ClientError as exc:
                if "already exist" not in str(exc).lower():
                    raise ProviderError(f"{call}: {exc}") from None
        sm.update_endpoint(**reqs["update_endpoint"])
        how = f"canary {canary_percent}% first" if canary_percent else "all at once"
        return Deployment(endpoint, model, version, None,
                          f"rolling out {model} v{version} to {reqs['update_endpoint']['EndpointName']} ({how}, "
                          "rolls back on the endpoint's 5xx or latency alarm)")

    def invoke(self, endpoint: str, payload: dict) -> dict:
        team, _ = self._endpoint_spec(endpoint)
        names = AwsNames.for_team(self.platform, team)
        runtime = self.client("sagemaker-runtime", team.clouds.aws.region)
        body = runtime.invoke_endpoint(EndpointName=names.endpoint(endpoint), ContentType="application/json",
                                       Body=json.dumps(payload))["Body"].read()
        try:
            return json.loads(body)
        except ValueError:
            return {"raw": body.decode(errors="replace")}

    def list_endpoints(self) -> list[EndpointStatus]:
        """The spec's AWS endpoints (of --team, if given) with SageMaker's status and current model."""
        out = []
        for team in self.platform.teams:
            if team.clouds.aws is None or (self.team_name and team.name != self.team_name):
                continue
            names = AwsNames.for_team(self.platform, team)
            sm = self.client("sagemaker", team.clouds.aws.region)
            for ep in team.clouds.aws.endpoints:
                try:
                    described = sm.describe_endpoint(EndpointName=names.endpoint(ep.name))
                except ClientError as exc:
                    if not _not_found(exc):
                        raise ProviderError(f"DescribeEndpoint {names.endpoint(ep.name)}: {exc}") from None
                    out.append(EndpointStatus(ep.name, team.name, "not deployed (deploy the team stack)"))
                    continue
                config = described.get("EndpointConfigName", "")
                out.append(EndpointStatus(ep.name, team.name, described.get("EndpointStatus", "?"),
                                          model=config or None))
        return out
