"""The Azure ML backend: command jobs on the team's compute clusters (low priority for spot), and model
rollouts on the team's managed online endpoints with canaries that terraml's rollout watcher rolls back.

azure-ai-ml is imported in this folder only. The workspace, compute clusters and endpoints are the team's,
named by AzureNames from the spec, as the nlp-azure stack creates them; nothing reads Terraform outputs.

Clients are injected: the constructor takes an azure-core ``transport`` and a ``credential`` (tests pass a
fake service's transport and a token stub). Without them the SDK's own transport and
``azure.identity.DefaultAzureCredential`` are used. Testing hook: ``TERRAML_AZUREML_TRANSPORT=module:factory``
names a factory returning a transport or a ``(transport, credential)`` pair, so the CLI can be pointed at a
fake service too; the CLI reads it once (Cloud.API_OVERRIDE_ENV -> Settings.api_override).

Low-priority preemption: Azure ML restarts a preempted job by itself and sends the container no signal;
from outside the job goes from Running back to Queued/Preparing and runs again. terraml counts those
restarts in status() (so it counts the ones its polls see: a restart shorter than the poll interval is
missed), and the container resumes from its checkpoints in the job's ``checkpoints`` output
(TERRAML_CHECKPOINT_DIR, a read-write mount of a fixed datastore path). Its own bookkeeping (restarts,
running time per capacity, the fallback job, the registered model version) is kept as tags on the job.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from azure.ai.ml import MLClient

from terraml.backend import (
    Backend,
    JobHandle,
    JobListing,
    JobPlan,
    JobStatus,
    Settings,
    State,
)
from terraml.catalog import Catalog
from terraml.errors import CredentialsError, Problem, ProviderError, SpecError, UserError
from terraml.naming import team_tags
from terraml.policy.spot import decide
from terraml.providers.azure.azureml_jobs import (
    ClusterChoice,
    JobRequest,
    TeamCluster,
    build_request,
    curated_environment,
    fallback_name,
    job_cost,
    map_status,
    phase,
    pick_clusters,
    team_clusters,
)
from terraml.providers.azure.azureml_serving import AzureMLServing
from terraml.providers.azure.names import TAG_MAX_VALUE, AzureNames
from terraml.spec.job import LoadedJob
from terraml.spec.models import Platform
from terraml.suggest import did_you_mean

ARM = "https://management.azure.com"
JOBS_API = "2025-01-01-preview"  # the api-version azure-ai-ml 1.35.2 sends for jobs
T = "terraml:"
ARM_TIMEOUTS = (10, 20)
"""Seconds to connect and to read one ARM response (azure-core's default is 300 each)."""
ARM_TOTAL_S = 45
"""Seconds one ARM call may take with its retries."""


def _quiet_sdk() -> None:
    """azure-ai-ml prints experimental-class and studio-URL notices on stderr through its own handlers."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("azure.ai.ml"):
            logging.getLogger(name).setLevel(logging.ERROR)


def status_text(job) -> str:
    """The job's Azure ML status word ('Running'): the SDK gives an enum or a string."""
    value = getattr(job.status, "value", job.status)
    return str(value or "Unknown")


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _created_at(job) -> float | None:
    """When Azure ML created the job (epoch seconds; its systemData.createdAt)."""
    context = getattr(job, "creation_context", None)
    created = getattr(context, "created_at", None)
    return created.timestamp() if created is not None else None


def _utc_epoch(text) -> float | None:
    """An Azure ML run timestamp ('2026-01-02T03:04:05.123Z', '2026-01-02 03:04:05') as epoch seconds (UTC)."""
    import datetime as dt

    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def _azure_span(job, now: float) -> float | None:
    """Seconds the job ran by Azure ML's own run timestamps (its properties StartTimeUtc and EndTimeUtc; up to now
    while it has not ended); None when Azure reports no start."""
    props = getattr(job, "properties", None) or {}
    start = _utc_epoch(props.get("StartTimeUtc"))
    if start is None:
        return None
    end = _utc_epoch(props.get("EndTimeUtc"))
    if end is None:
        if map_status(status_text(job)).terminal:
            return None
        end = now
    return max(end - start, 0.0)


def load_hook(spec: str):
    """The factory named by TERRAML_AZUREML_TRANSPORT ('module:function'): (transport, credential or None)."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise UserError(f"$TERRAML_AZUREML_TRANSPORT: '{spec}' is not module:factory (a testing hook that names a "
                        "function returning an azure-core transport, or a (transport, credential) pair).")
    made = getattr(importlib.import_module(module), attr)()
    return made if isinstance(made, tuple) else (made, None)


@dataclass(frozen=True)
class AzureMLPlan(JobPlan):
    """An Azure ML job plan: the command job, the clusters it may use, and the workspace."""

    job_request: JobRequest | None = None
    clusters: ClusterChoice | None = None
    source_hash: str = ""


def source_hash(source_dir: Path) -> tuple[str, list[Path]]:
    """A content hash of the source folder (the code's datastore path), and its files."""
    files = sorted(p for p in source_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(source_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32], files


class AzureMLBackend(AzureMLServing, Backend):
    NAME = "azure"

    @classmethod
    def from_settings(cls, settings: Settings) -> AzureMLBackend:
        if settings.platform is None:
            raise UserError("the azure backend needs the platform spec (--spec or $TERRAML_SPEC).")
        transport = credential = None
        if settings.api_override:  # $TERRAML_AZUREML_TRANSPORT, read by the CLI
            transport, credential = load_hook(settings.api_override)
        return cls(settings.platform, settings.catalog, transport=transport, credential=credential,
                   tracking_uri=settings.tracking_uri, team=settings.team)

    def __init__(self, platform: Platform, catalog: Catalog, *, transport=None, credential=None,
                 tracking_uri: str | None = None, team: str | None = None, clock: Callable[[], float] = time.time,
                 metrics_factory: Callable[..., object] | None = None):
        """``clock`` is epoch seconds (tests move it to pass max_wait_hours); ``metrics_factory(backend,
        endpoint, deployment)`` replaces the Azure Monitor metrics source of canaries."""
        self.platform, self.catalog = platform, catalog
        self.transport, self._credential = transport, credential
        self.tracking_uri = tracking_uri
        self.team_name = team
        self.clock = clock
        self.metrics_factory = metrics_factory
        self._clients: dict[str, object] = {}
        self._arm = None
        self._uploaded: set[str] = set()
        self._datastore: dict[str, tuple[str, str]] = {}
        self._registry_note: str | None = None

    # ------------------------------------------------------------ plumbing
    def _team(self, name: str):
        team = self.platform.team(name)
        if team is None or team.clouds.azure is None:
            teams = [t.name for t in self.platform.teams if t.clouds.azure is not None]
            raise UserError(f"team '{name}' has no azure environment in the platform spec{did_you_mean(name, teams)} "
                            f"Teams on Azure: {', '.join(teams) or 'none'}.")
        return team

    def _teams(self):
        return [t for t in self.platform.teams if t.clouds.azure is not None
                and (self.team_name is None or t.name == self.team_name)]

    def names(self, team) -> AzureNames:
        return AzureNames.for_team(self.platform, team)

    @property
    def credential(self):
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    def client(self, team_name: str):
        """The MLClient of the team's workspace (one per team, reused)."""
        if team_name not in self._clients:
            team = self._team(team_name)
            names = self.names(team)
            extra = {"transport": self.transport} if self.transport is not None else {}
            self._clients[team_name] = MLClient(self.credential, team.clouds.azure.subscription_id,
                                                names.resource_group, names.ml_workspace, enable_telemetry=False,
                                                **extra)
            _quiet_sdk()
        return self._clients[team_name]

    def arm(self):
        """An azure-core pipeline to Azure Resource Manager (the same transport and credential), for the calls
        the SDK has no cheap verb for: a job's tags, Azure Monitor metrics. Bounded: each request gets
        ARM_TIMEOUTS (connect, read) and the retries ARM_TOTAL_S in all, so the rollout watcher, which reads a
        canary's metrics here, hears of a hung call in time to act within its two minutes."""
        if self._arm is None:
            from azure.core.pipeline.policies import RetryPolicy
            from azure.mgmt.core import ARMPipelineClient
            from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

            extra = {"transport": self.transport} if self.transport is not None else {}
            self._arm = ARMPipelineClient(base_url=ARM, policies=[
                RetryPolicy(retry_total=2, retry_backoff_max=4, timeout=ARM_TOTAL_S),
                ARMChallengeAuthenticationPolicy(self.credential, f"{ARM}/.default")], **extra)
        return self._arm

    def _arm_call(self, method: str, path: str, params: dict, body: dict | None = None) -> dict:
        from azure.core.rest import HttpRequest

        request = HttpRequest(method, f"{ARM}{path}", params=params, json=body)
        response = self._sdk(f"{method} {path}", lambda: self.arm().send_request(
            request, connection_timeout=ARM_TIMEOUTS[0], read_timeout=ARM_TIMEOUTS[1]))
        if response.status_code >= 400:
            raise ProviderError(f"{method} {path}: HTTP {response.status_code}: {response.text()[:300]}")
        return response.json() if response.text() else {}

    def _sdk(self, what: str, call: Callable, *, passthrough: tuple[type[BaseException], ...] = ()):
        """Run an SDK call; missing credentials (azure.identity's CredentialUnavailableError among them) become
        CredentialsError, a missing resource and other service errors ProviderError. ``passthrough``: the azure-core
        errors the caller handles itself (ResourceNotFoundError for 'is it there', ResourceExistsError for a race)."""
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

        try:
            return call()
        except passthrough:
            raise
        except ClientAuthenticationError as exc:
            raise CredentialsError(f"no usable Azure credentials for {what}: run `az login` (or set AZURE_CLIENT_ID/"
                                   f"AZURE_TENANT_ID/AZURE_CLIENT_SECRET). ({_first_line(exc)})") from None
        except ResourceNotFoundError as exc:
            raise ProviderError(f"{what}: not found in Azure ({_first_line(exc)})") from None
        except HttpResponseError as exc:
            raise ProviderError(f"{what}: {_first_line(exc)}") from None

    def _workspace_path(self, team) -> str:
        names = self.names(team)
        return (f"/subscriptions/{team.clouds.azure.subscription_id}/resourceGroups/{names.resource_group}"
                f"/providers/Microsoft.MachineLearningServices/workspaces/{names.ml_workspace}")

    def workspace_tracking_uri(self, team) -> str:
        """The workspace's MLflow tracking URI (Azure ML workspaces speak MLflow; needs azureml-mlflow)."""
        return f"azureml://{team.clouds.azure.location}.api.azureml.ms/mlflow/v1.0{self._workspace_path(team)}"

    # ------------------------------------------------------------ planning
    def environment(self, job: LoadedJob) -> str:
        if job.job.image:
            return job.job.image
        fw = job.job.framework
        if fw is None:
            raise SpecError([Problem("framework", "Azure ML jobs need framework: or image:")], str(job.path))
        found = curated_environment(fw.name, fw.version)
        if found is None:
            from terraml.providers.azure.azureml_jobs import CURATED

            offered = ", ".join(sorted(CURATED.get(fw.name, {}))) or "none"
            raise SpecError([Problem("framework", f"Azure ML has no curated {fw.name} {fw.version} training "
                                                  f"environment; versions: {offered}. Or set image: to a container "
                                                  "image.")], str(job.path))
        return found

    def plan(self, job: LoadedJob) -> AzureMLPlan:
        """Everything submit will do, offline: no SDK call, no network."""
        team = self._team(job.job.team)
        clusters = pick_clusters(job, team_clusters(self.platform, team, self.catalog), team.name)
        row = clusters.row
        decision = decide(job.spot, max_runtime_hours=job.job.max_runtime_hours,
                          on_demand_usd_per_hour=row.on_demand_usd_per_hour if row else None,
                          spot_usd_per_hour=row.spot_usd_per_hour if row else None)
        mode = job.spot.mode
        if mode == "on-demand" and clusters.on_demand is None:
            raise SpecError([Problem("spot.mode", f"on-demand, but pool '{clusters.spot.pool}' has only the "
                                                  f"low-priority cluster {clusters.spot.name}; use spot.mode spot, "
                                                  "or give the pool spot.mode auto or on-demand in the spec.")],
                            str(job.path))
        if mode in ("spot", "auto") and clusters.spot is None:
            raise SpecError([Problem("spot.mode", f"{mode}, but pool '{clusters.on_demand.pool}' has only the "
                                                  f"dedicated cluster {clusters.on_demand.name} (no low-priority "
                                                  "cluster); use spot.mode on-demand.")], str(job.path))
        if mode == "auto" and clusters.on_demand is None:
            raise SpecError([Problem("spot.mode", f"auto falls back to a dedicated cluster, but pool "
                                                  f"'{clusters.spot.pool}' is spot only; use spot.mode spot.")],
                            str(job.path))
        first = clusters.spot if decision.capacity == "spot" else clusters.on_demand
        digest, _ = source_hash(job.source_dir)
        request = build_request(job, decision, first.name, self.environment(job), digest,
                                self.job_tags(job, team, decision, clusters))
        notes = [f"compute cluster {first.describe()} in workspace {self.names(team).ml_workspace}"]
        if mode == "auto":
            notes.append(f"auto: after {job.spot.max_interruptions} low-priority restart(s) or a capacity error, "
                         f"terraml cancels the job and runs {fallback_name(job.job.name)} on "
                         f"{clusters.on_demand.name} (dedicated), resuming from the same checkpoints")
        if mode != "on-demand":
            notes.append(f"max_wait_hours {job.spot.max_wait_hours:g}: Azure ML has no wait limit of its own, so "
                         "terraml's status() enforces it (a job is only checked while someone polls it)")
        notes.append(f"limits.timeout {request.timeout_s} s (max_runtime_hours)")
        # A fractional vGPU slice still takes one GPU of the team's quota.
        gpus = math.ceil(row.accelerator_count or 0) * job.job.resources.instance_count if row else None
        return AzureMLPlan(job=job, decision=decision, notes=tuple(notes), request=request.to_dict(),
                           estimate=self.estimate(job, decision, row), job_request=request, clusters=clusters,
                           source_hash=digest, gpus=gpus)

    def job_tags(self, job: LoadedJob, team, decision, clusters: ClusterChoice) -> dict[str, str]:
        spot = job.spot
        tags = {**team_tags(self.platform, team), f"{T}job": job.job.name, f"{T}spot-mode": spot.mode,
                f"{T}capacity": decision.capacity, f"{T}instances": str(job.job.resources.instance_count)}
        if spot.mode != "on-demand":
            tags[f"{T}max-wait-hours"] = f"{spot.max_wait_hours:g}"
            tags[f"{T}max-runtime-hours"] = f"{job.job.max_runtime_hours:g}"
        if spot.mode == "auto":
            tags[f"{T}max-interruptions"] = str(spot.max_interruptions)
            tags[f"{T}fallback-compute"] = clusters.on_demand.name
        if job.job.register_model:
            tags[f"{T}register-model"] = job.job.register_model
        return tags

    def estimate(self, job: LoadedJob, decision, row):
        """Expected and worst-case cost: Azure ML compute at the VM price (no surcharge), low priority at the
        catalog's spot row (the Spot meter; no Low Priority meter is transcribed), dedicated at on-demand."""
        from terraml.cost.job_estimate import job_estimate

        if row is None or row.on_demand_usd_per_hour is None:
            return None
        from terraml.providers.azure.azureml_jobs import _caveat
        from terraml.providers.azure.pricing import on_demand_as_of, spot_as_of

        note = (f"{row.instance_type} {row.region} VM price (vm_prices.csv, on-demand as of {on_demand_as_of(row)}"
                f"{_caveat(row, None, 'on-demand')}); Azure ML adds no surcharge")
        if job.spot.mode != "on-demand":
            note += (f"; low priority priced at the Spot meter row ${row.spot_usd_per_hour:g}/h as of "
                     f"{spot_as_of(row)}{_caveat(row, None, 'spot')} (no Low Priority meter transcribed)"
                     if row.spot_usd_per_hour is not None else "; no spot price: low priority priced at on-demand")
        return job_estimate(mode=job.spot.mode, first_capacity=decision.capacity, hours=job.job.max_runtime_hours,
                            instances=job.job.resources.instance_count,
                            on_demand_usd_per_hour=row.on_demand_usd_per_hour,
                            spot_usd_per_hour=row.spot_usd_per_hour, price_note=note)

    # ------------------------------------------------------------ submit
    def submit(self, plan: JobPlan, *, simulate_interruptions: int = 0) -> JobHandle:
        from terraml.cloud import Feature

        if simulate_interruptions:
            self.require(Feature.SIMULATED_INTERRUPTIONS)
        if not isinstance(plan, AzureMLPlan) or plan.job_request is None:
            raise TypeError("submit takes the plan this backend's plan() returned")
        job = plan.job
        team = job.job.team
        name = job.job.name
        if self._exists(team, name):  # one name, one job: a second submit creates nothing
            return JobHandle(self.NAME, name, name, team, existing=True)
        request = plan.job_request
        if plan.override is not None:
            o = plan.override
            request = JobRequest(**{**request.__dict__, "tags": {
                **request.tags, f"{T}override-by": o.by[:TAG_MAX_VALUE],
                f"{T}override-reason": o.reason[:TAG_MAX_VALUE], f"{T}override-at": f"{o.at:.0f}"}})
        self.upload_source(team, job.source_dir, plan.source_hash)
        from azure.core.exceptions import ResourceExistsError

        try:  # another submit of the same name may have won the race since _exists
            self._create(team, request, passthrough=(ResourceExistsError,))
        except ResourceExistsError:
            return JobHandle(self.NAME, name, name, team, existing=True)
        return JobHandle(self.NAME, name, name, team)

    def _create(self, team: str, request: JobRequest, *, passthrough: tuple[type[BaseException], ...] = ()):
        from azure.ai.ml import Input, Output, command

        env = request.environment
        if request.image:
            from azure.ai.ml.entities import Environment

            env = Environment(image=request.environment)
        job = command(name=request.name, display_name=request.name, experiment_name=request.experiment,
                      command=request.command, environment=env, compute=request.compute,
                      instance_count=request.instance_count, timeout=request.timeout_s,
                      environment_variables=request.environment_variables, tags=request.tags,
                      inputs={"code": Input(type="uri_folder", path=request.code_uri, mode="download")},
                      outputs={"checkpoints": Output(type="uri_folder", path=request.checkpoints_uri, mode="rw_mount"),
                               "model": Output(type="uri_folder", path=request.model_uri, mode="rw_mount")})
        return self._sdk(f"create job {request.name}", lambda: self.client(team).jobs.create_or_update(job),
                         passthrough=passthrough)

    def upload_source(self, team: str, source_dir: Path, digest: str) -> int:
        """The source folder to the workspace's default blob datastore, under terraml/code/<content hash>/
        (once per content: a marker blob says the upload finished)."""
        if digest in self._uploaded:
            return 0
        from azure.storage.blob import ContainerClient

        if team not in self._datastore:
            store = self._sdk("get datastore workspaceblobstore",
                              lambda: self.client(team).datastores.get("workspaceblobstore"))
            self._datastore[team] = (store.account_name, store.container_name)
        account, container = self._datastore[team]
        extra = {"transport": self.transport} if self.transport is not None else {}
        blobs = ContainerClient(f"https://{account}.blob.core.windows.net", container, credential=self.credential,
                                **extra)
        prefix = f"terraml/code/{digest}"
        marker = blobs.get_blob_client(f"{prefix}/.terraml-complete")
        count = 0
        if not self._sdk("check uploaded source", marker.exists):
            _, files = source_hash(source_dir)
            for path in files:
                self._sdk(f"upload {path.name}", lambda p=path: blobs.upload_blob(
                    f"{prefix}/{p.relative_to(source_dir).as_posix()}", p.read_bytes(), overwrite=True))
                count += 1
            self._sdk("mark the upload complete", lambda: marker.upload_blob(b"", overwrite=True))
        self._uploaded.add(digest)
        return count

    # ------------------------------------------------------------ jobs
    def _get(self, team: str, name: str):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._sdk(f"get job {name}", lambda: self.client(team).jobs.get(name),
                             passthrough=(ResourceNotFoundError,))
        except ResourceNotFoundError:
            return None

    def _exists(self, team_name: str, name: str) -> bool:
        """Whether a job of this name exists: one ARM GET, read for its status code only (the SDK's jobs.get
        would build the whole job object)."""
        from azure.core.rest import HttpRequest

        path = f"{self._workspace_path(self._team(team_name))}/jobs/{name}"
        request = HttpRequest("GET", f"{ARM}{path}", params={"api-version": JOBS_API})
        response = self._sdk(f"GET job {name}", lambda: self.arm().send_request(
            request, connection_timeout=ARM_TIMEOUTS[0], read_timeout=ARM_TIMEOUTS[1]))
        if response.status_code == 404:
            return False
        if response.status_code >= 400:
            raise ProviderError(f"GET job {name}: HTTP {response.status_code}: {response.text()[:300]}")
        return True

    def _set_tags(self, team_name: str, name: str, tags: dict[str, str]) -> None:
        """Change a job's tags: one ARM GET and PUT (Azure ML lets a PUT on an existing job change only its
        tags, display name and description; the SDK's create_or_update goes through workspace discovery)."""
        path = f"{self._workspace_path(self._team(team_name))}/jobs/{name}"
        body = self._arm_call("GET", path, {"api-version": JOBS_API})
        props = {k: v for k, v in body.get("properties", {}).items() if k not in ("status", "services")}
        props["tags"] = tags
        self._arm_call("PUT", path, {"api-version": JOBS_API}, {"properties": props})

    def handle(self, name: str) -> JobHandle:
        teams = self._teams()
        for team in teams:
            if self._get(team.name, name) is not None:
                return JobHandle(self.NAME, name, name, team.name)
        raise UserError(f"no Azure ML job named '{name}' in the workspaces of team(s) "
                        f"{', '.join(t.name for t in teams) or 'none'}.")

    def status(self, handle: JobHandle) -> JobStatus:
        team = handle.team
        primary = self._get(team, handle.name)
        if primary is None:
            raise UserError(f"no Azure ML job named '{handle.name}' for team {team}.")
        tags = dict(primary.tags or {})
        before = dict(tags)
        now = self.clock()
        live_name = tags.get(f"{T}fallback-job")
        live = primary
        if live_name:
            live = self._get(team, live_name)
            if live is None and tags.get(f"{T}cancelled"):  # cancelled before the fallback was created
                live, live_name = primary, None
            elif live is None:  # terraml stopped between the cancel and the create: finish the fallback
                live = self._fallback(team, primary, tags, live_name)
        capacity = "on-demand" if live_name or tags.get(f"{T}capacity") == "on-demand" else "spot"
        azure_status = status_text(live)
        self._observe(tags, azure_status, capacity, now)
        message = azure_status
        mode = tags.get(f"{T}spot-mode", "on-demand")
        if capacity == "spot" and not map_status(azure_status).terminal and mode in ("spot", "auto"):
            submitted = _created_at(primary) or now
            elapsed = now - submitted
            max_wait = float(tags.get(f"{T}max-wait-hours", "inf")) * 3600
            runtime = float(tags.get(f"{T}max-runtime-hours", "0")) * 3600
            interruptions = int(tags.get(f"{T}interruptions", "0"))
            why = None
            if mode == "auto":
                limit = int(tags.get(f"{T}max-interruptions", "3"))
                if interruptions >= limit:
                    why = f"{interruptions} low-priority restart(s) reached max_interruptions {limit}"
                elif tags.get(f"{T}ran") != "1" and elapsed > max(max_wait - runtime, 0):
                    why = (f"no low-priority capacity after {elapsed / 3600:.1f} h (max_wait_hours minus "
                           "max_runtime_hours)")
                elif elapsed > max_wait:
                    why = f"max_wait_hours {max_wait / 3600:g} passed on low priority"
                if why:
                    live_name = fallback_name(handle.name)
                    self._close_running(tags, capacity, now)
                    tags[f"{T}fallback-job"] = live_name
                    tags[f"{T}fallback-reason"] = why[:TAG_MAX_VALUE]
                    tags[f"{T}phase"] = "waiting"
                    self._set_tags(team, handle.name, tags)  # recorded first: never two live jobs
                    before = dict(tags)
                    self._sdk(f"cancel {handle.name}", lambda: self.client(team).jobs.begin_cancel(handle.name))
                    live = self._get(team, live_name) or self._fallback(team, primary, tags, live_name)
                    capacity, azure_status = "on-demand", status_text(live)
                    message = f"auto: {why}; continuing on dedicated as {live_name}: {azure_status}"
            elif elapsed > max_wait:
                self._sdk(f"cancel {handle.name}", lambda: self.client(team).jobs.begin_cancel(handle.name))
                self._close_running(tags, capacity, now)
                tags[f"{T}gave-up"] = f"max_wait_hours {max_wait / 3600:g}"
                tags[f"{T}ended-at"] = f"{now:.0f}"
                self._set_tags(team, handle.name, tags)
                return self._status(primary, tags, "spot", State.FAILED,
                                    f"spot: waited past max_wait_hours {max_wait / 3600:g} (terraml cancelled the "
                                    "job; spot never falls back)", now)
        elif live_name:
            why = tags.get(f"{T}fallback-reason", "fell back")
            message = f"auto: {why}; on dedicated as {live_name}: {azure_status}"
        state = map_status(azure_status)
        if state == State.COMPLETED and tags.get(f"{T}register-model") and not tags.get(f"{T}register-model-version"):
            version = self._register(team, primary, live, tags)
            if version:
                tags[f"{T}register-model-version"] = version
        if tags != before:
            self._set_tags(team, handle.name, tags)
        return self._status(primary, tags, capacity, state, message, now, live=live)

    def _observe(self, tags: dict, status_text: str, capacity: str, now: float) -> None:
        """Fold one observation of the live job into the bookkeeping tags: a running -> waiting change on low
        priority is a preemption restart (Azure sends no signal and reports nothing else)."""
        last, current = tags.get(f"{T}phase", "waiting"), phase(status_text)
        if last == "running" and current != "running":
            self._close_running(tags, capacity, now)
            if current == "waiting" and capacity == "spot":
                tags[f"{T}interruptions"] = str(int(tags.get(f"{T}interruptions", "0")) + 1)
        if current == "running" and last != "running":
            tags[f"{T}running-since"] = f"{now:.3f}"
            tags[f"{T}ran"] = "1"
        tags[f"{T}phase"] = current
        if current == "ended" and f"{T}ended-at" not in tags:
            tags[f"{T}ended-at"] = f"{now:.0f}"

    @staticmethod
    def _close_running(tags: dict, capacity: str, now: float) -> None:
        since = tags.pop(f"{T}running-since", None)
        if since is not None:
            key = f"{T}seconds-{'spot' if capacity == 'spot' else 'od'}"
            tags[key] = f"{float(tags.get(key, '0')) + max(now - float(since), 0):.3f}"

    def _status(self, primary, tags: dict, capacity: str, state: State, message: str, now: float,
                live=None) -> JobStatus:
        live = live or primary
        spot_s, od_s, source = self._running_seconds(primary, live, tags, capacity, now)
        instances = int(tags.get(f"{T}instances", "1"))
        compute = str(live.compute or "").rsplit("/", 1)[-1]
        cluster = self._cluster(primary, compute)
        row = cluster.row if cluster else None
        cost = job_cost(spot_s, od_s, instances, row, source=source)
        submitted = _created_at(primary)
        ended = None
        if state.terminal:
            ended = _utc_epoch((getattr(live, "properties", None) or {}).get("EndTimeUtc")) or (
                float(tags[f"{T}ended-at"]) if f"{T}ended-at" in tags else None)
        gpus = math.ceil(cluster.gpus or 0) * instances if cluster and not state.terminal else 0
        seconds = None if spot_s is None and od_s is None else round((spot_s or 0) + (od_s or 0), 3)
        return JobStatus(state=state, message=message, capacity=capacity,
                         interruptions=int(tags.get(f"{T}interruptions", "0")),
                         training_seconds=seconds, billable_seconds=seconds,
                         cost_usd=cost.usd, savings_percent=cost.savings_percent,
                         model_version=tags.get(f"{T}register-model-version"), submitted_at=submitted,
                         ended_at=ended, gpus=gpus,
                         details={"cost_note": cost.note, "compute": compute, "azure_status": status_text(live),
                                  "job": live.name, "studio_url": getattr(live, "studio_url", None),
                                  "model_uri": self._model_uri(primary),
                                  **({"model_registry": self._registry_note} if self._registry_note else {})})

    @staticmethod
    def _running_seconds(primary, live, tags: dict, capacity: str, now: float
                         ) -> tuple[float | None, float | None, str]:
        """(low-priority seconds, dedicated seconds, where they come from). Azure ML's own run timestamps first
        (properties StartTimeUtc..EndTimeUtc, or up to now while the job runs: each job runs on one capacity, the
        fallback NAME-od on dedicated), then the running time terraml's polls observed (the tags) for a job
        whose run history reports no start. (None, None) when neither knows anything: a cost not known, not 0."""
        observed_spot = float(tags.get(f"{T}seconds-spot", "0"))
        observed_od = float(tags.get(f"{T}seconds-od", "0"))
        if f"{T}running-since" in tags:  # still running: count up to now
            extra = max(now - float(tags[f"{T}running-since"]), 0)
            observed_spot, observed_od = ((observed_spot + extra, observed_od) if capacity == "spot"
                                          else (observed_spot, observed_od + extra))
        observed = tags.get(f"{T}ran") == "1" or observed_spot > 0 or observed_od > 0
        if live is not primary:  # fell back: the primary ran on low priority, the live job on dedicated
            spans = {"spot": _azure_span(primary, now), "on-demand": _azure_span(live, now)}
        else:
            spans = {"spot": None, "on-demand": None}
            spans["spot" if capacity == "spot" else "on-demand"] = _azure_span(primary, now)
        if all(v is None for v in spans.values()) and not observed:
            return None, None, ("no running time known: Azure ML reports no start time (StartTimeUtc) for the job "
                                "and no terraml poll saw it running")
        spot = spans["spot"] if spans["spot"] is not None else observed_spot
        od = spans["on-demand"] if spans["on-demand"] is not None else observed_od
        used = (["Azure ML's run timestamps (StartTimeUtc..EndTimeUtc)"] if any(
            v is not None for v in spans.values()) else [])
        if any(v is None and seen > 0 for v, seen in ((spans["spot"], observed_spot),
                                                      (spans["on-demand"], observed_od))) or not used:
            used.append("the running time terraml's polls observed")
        return spot, od, " and ".join(used)

    def _cluster(self, primary, compute: str) -> TeamCluster | None:
        team_name = (primary.tags or {}).get("team")
        team = self.platform.team(team_name) if team_name else None
        teams = [team] if team is not None and team.clouds.azure is not None else self._teams()
        for t in teams:
            for c in team_clusters(self.platform, t, self.catalog):
                if c.name == compute:
                    return c
        return None

    @staticmethod
    def _model_uri(job) -> str | None:
        out = (job.outputs or {}).get("model")
        return getattr(out, "path", None)

    def _fallback(self, team: str, primary, tags: dict, name: str):
        """The low-priority job again as NAME-od on the team's dedicated cluster: same command, code and
        checkpoint/model outputs, so it resumes from the low-priority attempts' checkpoints."""
        compute = tags.get(f"{T}fallback-compute")
        if not compute:
            raise ProviderError(f"job {primary.name} has no {T}fallback-compute tag; cannot fall back")
        inputs = primary.inputs or {}
        outputs = primary.outputs or {}
        code = getattr(inputs.get("code"), "path", None)
        request = JobRequest(
            name=primary.name, experiment=primary.experiment_name, command=primary.command,
            environment=str(primary.environment), compute=compute,
            instance_count=int(getattr(primary.resources, "instance_count", None) or 1),
            timeout_s=int(getattr(primary.limits, "timeout", None) or 0),
            environment_variables=dict(primary.environment_variables or {}), code_uri=code,
            checkpoints_uri=getattr(outputs.get("checkpoints"), "path", None),
            model_uri=getattr(outputs.get("model"), "path", None),
            tags={k: v for k, v in (primary.tags or {}).items() if not k.startswith(f"{T}seconds")
                  and k not in (f"{T}phase", f"{T}running-since", f"{T}ran", f"{T}fallback-job")})
        self._create(team, request.on_demand(name, compute, {f"{T}fallback-of": primary.name}))
        return self._get(team, name)

    def _register(self, team: str, primary, live, tags: dict) -> str | None:
        """Register the finished job's model output in the MLflow registry, once (the version is then tagged
        on the job). The tracking URI is --tracking-uri, else the workspace's own (needs azureml-mlflow)."""
        tracking = self.tracking_uri or self.workspace_tracking_uri(self._team(team))
        if tracking.startswith("azureml:"):
            import importlib.util

            if importlib.util.find_spec("azureml") is None or importlib.util.find_spec("azureml.mlflow") is None:
                self._registry_note = ("model not registered: the workspace's MLflow registry needs the azureml-mlflow "
                                       "plugin (pip install azureml-mlflow), or pass --tracking-uri")
                return None
        from terraml.model_registry import register_version

        return register_version(tracking, tags[f"{T}register-model"], self._model_uri(primary), tags={
            "terraml.environment": str(primary.environment), "terraml.image": str(primary.environment),
            "terraml.training_job": live.name, "terraml.team": tags.get("team", team), "terraml.cloud": self.NAME})

    def logs(self, handle: JobHandle) -> Iterator[str]:
        """What terraml knows of the job's attempts (Azure ML keeps the container's std_log.txt in the job's
        run history, which this backend does not read yet: see the Studio link)."""
        primary = self._get(handle.team, handle.name)
        if primary is None:
            return
        tags = primary.tags or {}
        yield f"{handle.name}: Azure ML status {status_text(primary)} on {str(primary.compute).rsplit('/', 1)[-1]}"
        if tags.get(f"{T}interruptions"):
            yield f"{handle.name}: {tags[f'{T}interruptions']} low-priority restart(s) seen (resumed from checkpoints)"
        if tags.get(f"{T}fallback-job"):
            live = self._get(handle.team, tags[f"{T}fallback-job"])
            yield f"{tags[f'{T}fallback-job']}: dedicated fallback ({tags.get(f'{T}fallback-reason', '')}): " \
                  f"{status_text(live) if live else 'not created yet'}"
        if getattr(primary, "studio_url", None):
            yield f"container logs (user_logs/std_log.txt): {primary.studio_url}"

    def cancel(self, handle: JobHandle) -> None:
        """Cancel the live job: the fallback NAME-od where terraml moved the job to dedicated. When the fallback
        is recorded but not created yet (terraml stopped in between), the low-priority job is cancelled and a
        ``cancelled`` tag keeps status() from creating the fallback afterwards."""
        team = handle.team
        primary = self._get(team, handle.name)
        if primary is None:
            raise UserError(f"no Azure ML job named '{handle.name}'.")
        tags = dict(primary.tags or {})
        live = tags.get(f"{T}fallback-job") or handle.name
        if live != handle.name and self._get(team, live) is None:
            tags[f"{T}cancelled"] = "1"
            self._set_tags(team, handle.name, tags)
            live = handle.name
        self._sdk(f"cancel {live}", lambda: self.client(team).jobs.begin_cancel(live))

    def list_jobs(self) -> JobListing:
        """Every job of the team(s), from one list call per workspace: state, capacity, submit time and the GPUs a
        live job holds (its cluster's VM GPUs x its instance count, from the spec's clusters; no extra call)."""
        out = []
        for team in self._teams():
            clusters = {c.name: c for c in team_clusters(self.platform, team, self.catalog)}
            for job in self._sdk("list jobs", lambda t=team: list(self.client(t.name).jobs.list())):
                tags = job.tags or {}
                state = map_status(status_text(job))
                cluster = clusters.get(str(job.compute or "").rsplit("/", 1)[-1])
                instances = int(tags.get(f"{T}instances") or getattr(job.resources, "instance_count", None) or 1)
                gpus = math.ceil(cluster.gpus or 0) * instances if cluster and not state.terminal else 0
                out.append((JobHandle(self.NAME, job.name, job.name, team.name),
                            JobStatus(state=state, capacity=tags.get(f"{T}capacity"),
                                      interruptions=int(tags.get(f"{T}interruptions", "0")),
                                      model_version=tags.get(f"{T}register-model-version"), gpus=gpus,
                                      submitted_at=_created_at(job))))
        return JobListing(out)
