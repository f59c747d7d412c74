"""The Vertex AI backend: CustomJobs on Spot or standard capacity, and model rollouts on Vertex AI endpoints.

google-cloud-aiplatform is imported in this folder only (GAPIC clients over REST). The team's project,
region, bucket, service accounts, KMS key and endpoints come from the spec through GcpNames: the same
names the nlp-gcp stack creates. Cloud Storage and Cloud Logging are called through their JSON APIs
with the same credentials.

Where the APIs are: Google's, unless ``TERRAML_VERTEX_API_ENDPOINT`` names another Vertex AI endpoint
(a regional or private one, or a local stand-in for tests). A loopback ``http://`` endpoint stands in for
every Google API terraml calls (Vertex AI, Cloud Storage, Cloud Logging, Cloud Monitoring) and is called
without credentials; anything else uses Application Default Credentials.

How a submission runs as a chain of CustomJobs (attempts), and why: see vertex_request.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import google.cloud.aiplatform_v1 as aiplatform_v1

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
from terraml.naming import team_tags
from terraml.policy.machines import Unresolvable, resolve_machine
from terraml.policy.spot import decide
from terraml.providers.gcp.labels import label_value, labels_from_tags
from terraml.providers.gcp.machines import ACCELERATOR, ACCELERATOR_TYPE, N1_ATTACHABLE, bundled_gpus, gpus_for
from terraml.providers.gcp.names import GcpNames
from terraml.providers.gcp.vertex_request import (
    TERMINAL,
    AttemptTime,
    MachineChoice,
    VertexEnvironment,
    VertexRates,
    accelerator_enum,
    attempt_number,
    bundle_digest,
    capacity_of,
    custom_job_request,
    failure_kind,
    job_cost,
    next_attempt,
    prebuilt_image,
    serving_image,
    state_name,
)
from terraml.spec.job import JobSpot, LoadedJob
from terraml.spec.models import Platform
from terraml.suggest import did_you_mean

DEFAULT_MACHINE = "n1-standard-4"
LOGIN_HINT = "gcloud auth application-default login"
HTTP_TIMEOUT_S = 30.0
CLAIM_STALE_S = 600.0
"""A claim on attempt 1 this old with no job is a submit that died between claiming and creating."""
"""The longest wait for one Cloud Storage or Cloud Logging call (connect, then each read)."""
# Memory per GPU (GiB), to name the nearest fit for an accelerator a cloud does not offer.
GPU_MEMORY_GIB = {"T4": 16, "V100": 16, "P100": 16, "P4": 8, "A10G": 24, "A10": 24, "L4": 24, "L40S": 48,
                  "A100": 40, "A100-80GB": 80, "H100": 80, "H100-MEGA": 80, "H200": 141, "B200": 180,
                  "K80": 12, "T4G": 16, "A16": 16, "M60": 8}


def is_loopback(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    host = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    return endpoint.startswith("http://") and host in ("127.0.0.1", "localhost", "::1")


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def source_bundle(source_dir: Path) -> bytes:
    """The job's source folder as a reproducible tar.gz (sorted, no timestamps, no __pycache__)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(p for p in source_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            info = tarfile.TarInfo(path.relative_to(source_dir).as_posix())
            data = path.read_bytes()
            info.size, info.mtime, info.mode = len(data), 0, 0o755 if os.access(path, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass(frozen=True)
class VertexPlan(JobPlan):
    """A Vertex AI job plan: the CustomJob request, and where it goes."""

    environment: VertexEnvironment | None = None
    machine: MachineChoice | None = None
    bundle: bytes = b""
    """The source folder as submit uploads it (made while planning: a local read, no network)."""


class VertexBackend(Backend):
    NAME = "gcp"

    @classmethod
    def from_settings(cls, settings: Settings) -> VertexBackend:
        if settings.platform is None:
            raise UserError("the gcp backend needs the platform spec (--spec or $TERRAML_SPEC).")
        return cls(settings.platform, settings.catalog, api_endpoint=settings.api_override,
                   tracking_uri=settings.tracking_uri, team=settings.team)

    def __init__(self, platform: Platform, catalog: Catalog, *, api_endpoint: str | None = None, credentials=None,
                 tracking_uri: str | None = None, team: str | None = None, clock: Callable[[], float] = time.time,
                 metrics_source_factory: Callable | None = None, http_timeout_s: float = HTTP_TIMEOUT_S):
        """``api_endpoint``: another Vertex AI endpoint (a loopback one stands in for every Google API);
        ``credentials``: google.auth credentials (default: anonymous for loopback, else ADC); ``clock``:
        epoch seconds, for the spot wait deadline; ``metrics_source_factory(backend, deployment)``:
        replaces the Cloud Monitoring source of canary metrics; ``http_timeout_s``: the longest wait for one
        Cloud Storage, Logging or Monitoring call (the metrics read waits at most METRICS_TIMEOUT_S)."""
        self.platform, self.catalog = platform, catalog
        self.api_endpoint = api_endpoint.rstrip("/") if api_endpoint else None
        self._credentials = credentials
        self.tracking_uri = tracking_uri
        self.team_name = team
        self.clock = clock
        self.metrics_source_factory = metrics_source_factory
        self._clients: dict[tuple[str, str], object] = {}
        self._session = None
        self.http_timeout_s = http_timeout_s

    # ------------------------------------------------------------ plumbing
    def _team(self, name: str):
        team = self.platform.team(name)
        if team is None or team.clouds.gcp is None:
            raise UserError(f"team '{name}' has no gcp environment in the platform spec.")
        return team

    def environment(self, team_name: str) -> VertexEnvironment:
        team = self._team(team_name)
        gcp = team.clouds.gcp
        names = GcpNames.for_team(self.platform, team)
        return VertexEnvironment(
            project=gcp.project, region=gcp.region, bucket=names.artifact_bucket,
            service_account=f"{names.training_service_account}@{gcp.project}.iam.gserviceaccount.com",
            kms_key=(f"projects/{gcp.project}/locations/{gcp.region}/keyRings/{names.kms_key_ring}/cryptoKeys/"
                     f"{names.kms_key('vertex')}"),
            labels=labels_from_tags(team_tags(self.platform, team)))

    def credentials(self):
        if self._credentials is None:
            if is_loopback(self.api_endpoint):
                from google.auth.credentials import AnonymousCredentials

                self._credentials = AnonymousCredentials()
            else:
                import google.auth
                from google.auth.exceptions import DefaultCredentialsError

                try:
                    self._credentials, _ = google.auth.default(
                        scopes=["https://www.googleapis.com/auth/cloud-platform"])
                except DefaultCredentialsError:
                    raise CredentialsError(f"no Google Cloud credentials found; run `{LOGIN_HINT}` (or set "
                                           "GOOGLE_APPLICATION_CREDENTIALS to a service account key file).") from None
        return self._credentials

    def client(self, kind: str, region: str):
        """A GAPIC client over REST: kind is 'job', 'model', 'endpoint' or 'prediction'."""
        key = (kind, region)
        if key not in self._clients:
            from google.api_core.client_options import ClientOptions

            cls = {"job": aiplatform_v1.JobServiceClient, "model": aiplatform_v1.ModelServiceClient,
                   "endpoint": aiplatform_v1.EndpointServiceClient,
                   "prediction": aiplatform_v1.PredictionServiceClient}[kind]
            endpoint = self.api_endpoint or f"{region}-aiplatform.googleapis.com"
            self._clients[key] = cls(credentials=self.credentials(), transport="rest",
                                     client_options=ClientOptions(api_endpoint=endpoint))
        return self._clients[key]

    def google_api(self, service: str) -> str:
        """Base URL of a Google JSON API: the loopback stand-in, or Google's."""
        if is_loopback(self.api_endpoint):
            return self.api_endpoint
        return {"storage": "https://storage.googleapis.com", "logging": "https://logging.googleapis.com",
                "monitoring": "https://monitoring.googleapis.com"}[service]

    def session(self):
        if self._session is None:
            if is_loopback(self.api_endpoint):
                import requests

                self._session = requests.Session()
            else:
                from google.auth.transport.requests import AuthorizedSession

                self._session = AuthorizedSession(self.credentials())
        return self._session

    def _call(self, what: str, fn, *args, **kwargs):
        """One SDK call; the SDK's errors become ProviderError (missing credentials: CredentialsError)."""
        import requests
        from google.api_core import exceptions as gexc
        from google.auth.exceptions import DefaultCredentialsError, RefreshError, TransportError

        try:
            return fn(*args, **kwargs)
        except (DefaultCredentialsError, RefreshError) as exc:
            raise CredentialsError(f"{what}: Google Cloud credentials were refused ({exc}); run `{LOGIN_HINT}`.") \
                from None
        except (gexc.GoogleAPICallError, requests.RequestException, TransportError) as exc:
            raise ProviderError(f"{what}: {exc}") from None

    def http(self, what: str, method: str, url: str, *, timeout_s: float | None = None, **kwargs):
        """One call to a Google JSON API (Storage, Logging, Monitoring) through the session, with a timeout;
        refused credentials become CredentialsError, an unreachable or silent service ProviderError. The
        caller reads the HTTP status."""
        return self._call(what, lambda: self.session().request(method, url, timeout=timeout_s or self.http_timeout_s,
                                                               **kwargs))

    @staticmethod
    def as_json(message) -> dict:
        """A GAPIC message as the REST API's JSON (camelCase, enum names, int64 as strings)."""
        return json.loads(type(message).to_json(message, use_integers_for_enums=False, indent=None))

    # ------------------------------------------------------------ Cloud Storage (JSON API)
    def gcs_create(self, bucket: str, name: str, data: bytes, metadata: dict[str, str] | None = None, *,
                   generation: str = "0") -> bool:
        """Write an object only if it does not exist yet (ifGenerationMatch=0), or replace it only if it is
        still the ``generation`` read before; False when the precondition failed (someone else wrote it)."""
        boundary = "terraml-upload-boundary"
        meta = json.dumps({"name": name, "metadata": metadata or {}})
        body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{meta}\r\n"
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data + \
            f"\r\n--{boundary}--\r\n".encode()
        url = (f"{self.google_api('storage')}/upload/storage/v1/b/{bucket}/o?uploadType=multipart"
               f"&ifGenerationMatch={generation}")
        response = self.http(f"Cloud Storage upload gs://{bucket}/{name}", "POST", url, data=body,
                             headers={"Content-Type": f"multipart/related; boundary={boundary}"})
        if response.status_code == 412:
            return False
        if response.status_code in (401, 403):
            raise CredentialsError(f"gs://{bucket}/{name}: access refused ({response.status_code}); check that "
                                   f"`{LOGIN_HINT}` ran with an account that may write the team's bucket.")
        if response.status_code == 404:
            raise UserError(f"gs://{bucket} does not exist; deploy the team stack first: npx cdktn deploy "
                            "<team>-gcp")
        if not response.ok:
            raise ProviderError(f"Cloud Storage upload gs://{bucket}/{name}: {response.status_code} "
                                f"{response.text[:300]}")
        return True

    def gcs_get(self, bucket: str, name: str, media: bool = True):
        url = f"{self.google_api('storage')}/storage/v1/b/{bucket}/o/{urllib.parse.quote(name, safe='')}"
        response = self.http(f"Cloud Storage get gs://{bucket}/{name}", "GET", url,
                             params={"alt": "media"} if media else None)
        if response.status_code == 404:
            return None
        if not response.ok:
            raise ProviderError(f"Cloud Storage get gs://{bucket}/{name}: {response.status_code} "
                                f"{response.text[:300]}")
        return response.content if media else response.json()

    def gcs_delete(self, bucket: str, name: str, generation: str) -> None:
        """Delete an object if it is still ``generation`` (a claim this process wrote)."""
        url = f"{self.google_api('storage')}/storage/v1/b/{bucket}/o/{urllib.parse.quote(name, safe='')}"
        response = self.http(f"Cloud Storage delete gs://{bucket}/{name}", "DELETE", url,
                             params={"ifGenerationMatch": generation})
        if not response.ok and response.status_code not in (404, 412):
            raise ProviderError(f"Cloud Storage delete gs://{bucket}/{name}: {response.status_code} "
                                f"{response.text[:300]}")

    # ------------------------------------------------------------ planning
    def machine(self, job: LoadedJob, region: str) -> tuple[MachineChoice, VmRow | None]:
        """The machine type and GPUs a job runs on: as named, the cheapest type carrying the accelerator
        (the one machine pick, terraml.policy), or a CPU machine."""
        r = job.job.resources
        where = str(job.path)
        if r.instance_type:
            raise SpecError([Problem("resources.instance_type", f"'{r.instance_type}' is an AWS/Azure field; on "
                                     "GCP name the machine with resources.machine_type (e.g. g2-standard-8) or give "
                                     "resources.accelerator.")], where)
        if r.machine_type:
            gpus, problem = gpus_for(r.machine_type, None, None)
            if problem:
                raise SpecError([Problem("resources.machine_type", problem)], where)
            row = self.catalog.vm("gcp", region, r.machine_type)
            return self._choice(r.machine_type, gpus.accelerator if gpus else None, gpus.count if gpus else 0), row
        if not r.accelerator:
            return self._choice(DEFAULT_MACHINE, None, 0), self.catalog.vm("gcp", region, DEFAULT_MACHINE)
        if r.accelerator in N1_ATTACHABLE:
            return self._n1(region, r.accelerator, r.accelerator_count, where)
        offered = sorted(a for a in self.catalog.accelerators("gcp", region) if a in ACCELERATOR_TYPE)
        offered = sorted({*offered, *(a for a, counts in N1_ATTACHABLE.items()
                                      if any(self.catalog.attached_gpus("gcp", region, a, c) for c in counts))})
        if r.accelerator not in offered:
            raise SpecError([Problem("resources.accelerator", f"'{r.accelerator}' is not offered by GCP (Vertex AI) "
                                     f"in {region}{self._nearest(r.accelerator, offered)} GCP offers there: "
                                     f"{', '.join(offered)}. See: terraml catalog gpus --cloud gcp --region "
                                     f"{region}")], where)
        try:
            picked = resolve_machine("gcp", region, None, r.accelerator, r.accelerator_count, self.catalog,
                                     allowed=lambda t: bundled_gpus(t) is not None or t.startswith("n1-"))
        except Unresolvable as exc:
            raise SpecError([Problem("resources.accelerator_count", str(exc))], where) from None
        return self._choice(picked.instance_type, r.accelerator, r.accelerator_count), picked.row

    def _n1(self, region: str, accelerator: str, count: int, where: str) -> tuple[MachineChoice, VmRow | None]:
        """T4, V100, P100 and P4 attach to N1 machines: the smallest n1-standard host the catalog prices in the
        region (every count N1 takes fits on it), priced as host + GPUs (the catalog's gpu-only row)."""
        _, problem = gpus_for("n1-standard-4", accelerator, count)
        if problem:
            raise SpecError([Problem("resources.accelerator_count", problem)], where)
        gpus = self.catalog.attached_gpus("gcp", region, accelerator, count)
        hosts = sorted((row.vcpus or 0, t) for t in self.catalog.instance_types("gcp") if t.startswith("n1-standard-")
                       and (row := self.catalog.vm("gcp", region, t)) and row.on_demand_usd_per_hour is not None)
        if gpus is None or not hosts:
            raise SpecError([Problem("resources.accelerator", f"{count} x {accelerator} on an N1 machine has no price "
                                     f"in {region} in the catalog. See: terraml catalog gpus --cloud gcp --region "
                                     f"{region}")], where)
        host = hosts[0][1]
        return self._choice(host, accelerator, count), self._n1_row(region, host, accelerator, count)

    def _n1_row(self, region: str, host: str, accelerator: str, count: int) -> VmRow | None:
        """An N1 host's row with its attached GPUs' prices added (vm_prices.csv prices them apart)."""
        row, gpus = self.catalog.vm("gcp", region, host), self.catalog.attached_gpus("gcp", region, accelerator, count)
        if row is None or gpus is None or row.on_demand_usd_per_hour is None or gpus.on_demand_usd_per_hour is None:
            return row
        spot = (row.spot_usd_per_hour + gpus.spot_usd_per_hour
                if row.spot_usd_per_hour is not None and gpus.spot_usd_per_hour is not None else None)
        return replace(row, accelerator=accelerator, accelerator_count=count,
                       on_demand_usd_per_hour=round(row.on_demand_usd_per_hour + gpus.on_demand_usd_per_hour, 6),
                       spot_usd_per_hour=round(spot, 6) if spot is not None else None,
                       source=f"{row.source}; + {gpus.source}")

    @staticmethod
    def _choice(machine_type: str, accelerator: str | None, count: int) -> MachineChoice:
        gce = ACCELERATOR_TYPE.get(accelerator) if accelerator else None
        return MachineChoice(machine_type, accelerator, accelerator_enum(gce) if gce else None, count if gce else 0)

    @staticmethod
    def _nearest(wanted: str, offered: list[str]) -> str:
        """For a GPU terraml knows (another cloud's), the offered GPU with the least memory that still holds as
        much; for a name it does not know, a did-you-mean (a typo)."""
        memory = GPU_MEMORY_GIB.get(wanted)
        if memory is None:
            return did_you_mean(wanted, offered)
        fits = sorted((GPU_MEMORY_GIB[a], a) for a in offered if GPU_MEMORY_GIB.get(a, 0) >= memory)
        return (f" ({wanted} is another cloud's GPU); the nearest fit is '{fits[0][1]}' ({fits[0][0]} GiB per GPU, "
                f"{wanted} has {memory} GiB).") if fits else "."

    def image(self, job: LoadedJob, machine: MachineChoice) -> str:
        if job.job.image:
            return job.job.image
        fw = job.job.framework
        image = prebuilt_image(fw.name, fw.version, machine.accelerator is not None, "training")
        if image is None:
            raise SpecError([Problem("framework.name", f"'{fw.name}' has no Vertex AI prebuilt training container; "
                                     "give image: <your training image> instead.")], str(job.path))
        return image

    def rates(self, region: str, machine: MachineChoice, row: VmRow | None) -> VertexRates:
        """Vertex AI custom training rates (machine plus accelerators, standard and spot) from the catalog;
        where it has none for the machine, Compute Engine's VM price, and the note says so."""
        def managed(name: str, usage: str):
            return (self.catalog.managed_row("gcp", region, name, usage)
                    or self.catalog.managed_row("gcp", "unspecified", name, usage))

        base = managed(machine.machine_type, "custom training machine-hour")
        accel = managed(f"{machine.accelerator_type} (accelerator, per GPU)", "custom training accelerator-hour") \
            if machine.accelerator_type else None
        bundled = bundled_gpus(machine.machine_type) is not None
        if base is not None and (machine.accelerator_type is None or accel is not None or bundled):
            standard = base.usd_per_hour + (accel.usd_per_hour * machine.accelerator_count if accel else 0)
            spot_base = managed(machine.machine_type, "custom training machine-hour (spot")
            note = f"Vertex AI custom training price for {machine.machine_type}" + (
                f" + {machine.accelerator_count} x {machine.accelerator_type}" if accel else "") + \
                " (managed_ml_prices.csv)"
            if spot_base is not None:
                return VertexRates(standard, spot_base.usd_per_hour, note + "; Vertex AI spot price")
            return VertexRates(standard, None, note + "; no Vertex AI spot price in the catalog: spot hours at the "
                                                      "standard rate, an upper bound")
        if row is not None and row.on_demand_usd_per_hour is not None:
            return VertexRates(row.on_demand_usd_per_hour, row.spot_usd_per_hour,
                               f"no Vertex AI custom training price for {machine.machine_type} in the catalog: "
                               f"Compute Engine's VM price (vm_prices.csv: ${row.on_demand_usd_per_hour:g}/h "
                               f"standard, ${row.spot_usd_per_hour:g}/h spot); Vertex AI adds a management fee, "
                               "so this is low")
        return VertexRates(None, None, f"no price for {machine.machine_type} in the catalog")

    def plan(self, job: LoadedJob, *, override=None) -> VertexPlan:
        env = self.environment(job.job.team)
        machine, row = self.machine(job, env.region)
        decision = decide(job.spot, max_runtime_hours=job.job.max_runtime_hours,
                          on_demand_usd_per_hour=row.on_demand_usd_per_hour if row else None,
                          spot_usd_per_hour=row.spot_usd_per_hour if row else None)
        request = custom_job_request(job.job, job.spot, decision, env, machine, self.image(job, machine),
                                     override=override)
        gpus = f" ({machine.accelerator_count} x {machine.accelerator})" if machine.accelerator else ""
        notes = [f"machine {machine.machine_type}{gpus}, scheduling.strategy "
                 f"{request['jobSpec']['scheduling']['strategy']}",
                 f"code, checkpoints and model in gs://{env.bucket}/jobs/{job.job.name}/ (the container sees "
                 f"/gcs/{env.bucket}/jobs/{job.job.name}/)"]
        if job.spot.mode != "on-demand":
            notes.append(f"max_wait_hours {job.spot.max_wait_hours:g}: Vertex AI has no wait limit for Spot jobs "
                         "(its max_wait_duration is for FLEX_START only), so terraml enforces it: past it, "
                         "status cancels the job and reports it failed")
        rates = self.rates(env.region, machine, row)
        estimate = None
        if rates.standard_usd_per_hour is not None:
            from terraml.cost.job_estimate import job_estimate

            estimate = job_estimate(mode=job.spot.mode, first_capacity=decision.capacity,
                                    hours=job.job.max_runtime_hours, instances=job.job.resources.instance_count,
                                    on_demand_usd_per_hour=rates.standard_usd_per_hour,
                                    spot_usd_per_hour=rates.spot_usd_per_hour, price_note=rates.note)
        return VertexPlan(job=job, decision=decision, notes=tuple(notes), request=request, estimate=estimate,
                          override=override, environment=env, machine=machine,
                          bundle=source_bundle(job.source_dir),
                          gpus=machine.accelerator_count * job.job.resources.instance_count)

    # ------------------------------------------------------------ jobs
    def _attempts(self, team: str, name: str) -> list[dict]:
        """Every attempt of one submission (REST JSON), oldest first: one list call by label."""
        env = self.environment(team)
        pager = self._call("ListCustomJobs", self.client("job", env.region).list_custom_jobs,
                           request={"parent": env.parent, "filter": f'labels.terraml-job="{label_value(name)}"'})
        found = [self.as_json(j) for j in pager]
        names = {name, f"{name}-od"}
        mine = [j for j in found if j.get("displayName") in names or
                (j.get("displayName", "").startswith(f"{name}-r") and j["displayName"][len(name) + 2:].isdigit())]
        return sorted(mine, key=lambda j: (attempt_number(j), j.get("createTime", "")))

    def _create(self, env: VertexEnvironment, request: dict, *, read_back: bool = True) -> dict | None:
        job = aiplatform_v1.CustomJob.from_json(json.dumps(request))
        created = self._call(f"CreateCustomJob {request['displayName']}",
                             self.client("job", env.region).create_custom_job, parent=env.parent, custom_job=job)
        return self.as_json(created) if read_back else None

    def submit(self, plan: JobPlan, *, simulate_interruptions: int = 0) -> JobHandle:
        if simulate_interruptions:
            self.require(Feature.SIMULATED_INTERRUPTIONS)
        if not isinstance(plan, VertexPlan) or plan.environment is None or plan.request is None:
            raise TypeError("submit takes the plan this backend's plan() returned")
        job, env = plan.job.job, plan.environment
        request = plan.request
        if plan.override is not None and "terraml-override-by" not in request.get("labels", {}):
            request = {**request, "labels": {**request["labels"], **{
                "terraml-override-by": label_value(plan.override.by),
                "terraml-override-reason": label_value(plan.override.reason),
                "terraml-override-at": str(int(plan.override.at))}}}
        metadata = {"terraml-job": job.name, "team": job.team, "register-model": job.register_model or "",
                    "spot": plan.job.spot.model_dump_json()}
        if plan.override is not None:
            metadata.update({"override-by": plan.override.by, "override-reason": plan.override.reason,
                             "override-at": str(plan.override.at)})
        # The code bundle is written create-only: the first submit of a name writes it. A later submit that
        # finds it and a job of that name creates nothing (the bundle a job reads is never replaced).
        bundle = plan.bundle or source_bundle(plan.job.source_dir)
        digest = bundle_digest(bundle)
        metadata["bundle-digest"] = digest
        bundle_object = env.bundle_object(job.name)
        fresh = self.gcs_create(env.bucket, bundle_object, bundle, metadata)
        if not fresh and self._attempts(job.team, job.name):
            return JobHandle(self.NAME, job.name, job.name, job.team, existing=True)
        # Only the submit that claims attempt 1 (create-only, as resubmissions claim theirs) creates the job:
        # another one that finds the bundle while the first's create is in flight creates nothing.
        claim = self._claim_first(env, job.name, digest)
        if claim is None:
            return JobHandle(self.NAME, job.name, job.name, job.team, existing=True)
        if not fresh:
            # The bundle is there but no job: an earlier submit stopped before creating it. Its bundle may be
            # older code: replaced when the digest differs, only if it is still the version read here.
            meta = self.gcs_get(env.bucket, bundle_object, media=False) or {}
            if (meta.get("metadata") or {}).get("bundle-digest") != digest and not self.gcs_create(
                    env.bucket, bundle_object, bundle, metadata, generation=str(meta.get("generation", "0"))):
                self.gcs_delete(env.bucket, claim, self._generation(env, claim))
                raise ProviderError(f"gs://{env.bucket}/{bundle_object} changed while submitting {job.name}; "
                                    "another submit of it is under way. Check `terraml jobs list --cloud gcp`.")
        try:
            self._create(env, request, read_back=False)
        except (ProviderError, CredentialsError):
            # nothing was created: give the claim back, so that a rerun of the submit can create the job
            self.gcs_delete(env.bucket, claim, self._generation(env, claim))
            raise
        return JobHandle(self.NAME, job.name, job.name, job.team)

    def _generation(self, env: VertexEnvironment, name: str) -> str:
        return str((self.gcs_get(env.bucket, name, media=False) or {}).get("generation", "0"))

    def _claim_first(self, env: VertexEnvironment, name: str, digest: str) -> str | None:
        """Claim attempt 1 create-only: its object name, or None when another submit holds the claim. A claim
        older than CLAIM_STALE_S with still no job is a submit that died between its claim and its create:
        taken over only if it is still the version read here (one taker)."""
        claim = f"{env.prefix(name)}/attempts/1"
        body = json.dumps({"capacity": "first", "bundle-digest": digest}).encode()
        if self.gcs_create(env.bucket, claim, body):
            return claim
        meta = self.gcs_get(env.bucket, claim, media=False) or {}
        created = _epoch(meta.get("timeCreated"))
        if created is not None and self.clock() - created > CLAIM_STALE_S and \
                self.gcs_create(env.bucket, claim, body, generation=str(meta.get("generation", "0"))):
            return claim
        return None

    def handle(self, name: str) -> JobHandle:
        teams = [self.team_name] if self.team_name else [t.name for t in self.platform.teams
                                                          if t.clouds.gcp is not None]
        for team in teams:
            if self._attempts(team, name):
                return JobHandle(self.NAME, name, name, team)
        raise UserError(f"no Vertex AI job named '{name}' for team(s) {', '.join(teams)}; see `terraml jobs list "
                        "--cloud gcp`.")

    def _spot_policy(self, first: dict) -> JobSpot:
        labels = first.get("labels", {})
        mode = labels.get("terraml-spot-mode", "on-demand")
        if mode == "on-demand":
            return JobSpot(mode="on-demand")
        limit = labels.get("terraml-max-interruptions")
        return JobSpot(mode=mode, max_wait_hours=int(labels.get("terraml-max-wait-s", "0")) / 3600 or None,
                       max_interruptions=int(limit) if limit and mode == "auto" else None)

    def status(self, handle: JobHandle) -> JobStatus:
        env = self.environment(handle.team)
        attempts = self._attempts(handle.team, handle.name)
        if not attempts:
            raise UserError(f"no Vertex AI job named '{handle.name}'.")
        note = ""
        latest = attempts[-1]
        kind = failure_kind(latest)
        spot = self._spot_policy(attempts[0])
        interruptions = sum(1 for a in attempts if failure_kind(a) == "preempted")
        submitted = _epoch(attempts[0].get("createTime"))
        deadline = (submitted + spot.max_wait_hours * 3600) if spot.max_wait_hours and submitted else None
        past_wait = deadline is not None and self.clock() >= deadline
        waited = (f"the spot wait passed max_wait_hours {spot.max_wait_hours:g} (terraml enforces it; Vertex AI has "
                  "no wait limit for Spot jobs)") if past_wait else ""
        between = kind is not None and capacity_of(latest) == "spot" and spot.mode != "on-demand"
        overdue = state_name(latest) not in TERMINAL and past_wait and capacity_of(latest) == "spot"
        if (between or overdue) and self._cancelled(env, handle.name):  # `jobs cancel` came between attempts
            return self._status_of(env, attempts, interruptions, State.STOPPED,
                                   "cancelled (terraml jobs cancel) between attempts: no further attempt")
        if between:
            if past_wait and spot.mode == "spot":
                note = f"gave up: {waited}"
            else:  # auto past the wait: no spot capacity in time, the one on-demand attempt (as on a stockout)
                decision = decide(spot, max_runtime_hours=self._runtime_hours(latest), interruptions=interruptions,
                                  capacity_error=kind == "capacity" or past_wait)
                latest = self._resubmit(env, handle.name, latest, decision.capacity, attempts) or latest
                note = f"{kind} on spot ({latest.get('error', {}).get('message', '') or 'stockout'}); " \
                       f"{decision.reason}: attempt {attempt_number(latest)} on {decision.capacity}"
                if latest is not attempts[-1]:
                    attempts = [*attempts, latest]
        elif overdue:
            if state_name(latest) != "JOB_STATE_CANCELLING":
                self._call(f"CancelCustomJob {latest['displayName']}",
                           self.client("job", env.region).cancel_custom_job, name=latest["name"])
            if spot.mode == "spot":
                return self._status_of(env, attempts, interruptions, State.FAILED,
                                       f"cancelled: still on spot after max_wait_hours {spot.max_wait_hours:g} "
                                       "(terraml enforces it; Vertex AI has no wait limit for Spot jobs)")
            decision = decide(spot, max_runtime_hours=self._runtime_hours(latest), interruptions=interruptions,
                              capacity_error=True)
            created = self._resubmit(env, handle.name, latest, decision.capacity, attempts)
            if created is None:  # another poller claimed the on-demand attempt: it shows up on the next poll
                return self._status_of(env, attempts, interruptions, State.WAITING_FOR_CAPACITY,
                                        f"{waited}; {decision.reason}: the on-demand attempt is being created")
            return self._status_of(env, [*attempts, created], interruptions, None,
                                   f"{waited}; cancelled {latest['displayName']}; {decision.reason}: attempt "
                                   f"{attempt_number(created)} on {decision.capacity}")
        return self._status_of(env, attempts, interruptions, None, note)

    def _runtime_hours(self, job: dict) -> float:
        timeout = job.get("jobSpec", {}).get("scheduling", {}).get("timeout", "86400s")
        return float(str(timeout).rstrip("s")) / 3600

    def _resubmit(self, env: VertexEnvironment, name: str, previous: dict, capacity: str,
                  attempts: list[dict]) -> dict | None:
        """Create the next attempt once: the slot is claimed create-only in Cloud Storage first, so two
        pollers acting on the same failed attempt start one job, never two."""
        number = attempt_number(previous) + 1
        if capacity == "on-demand" and any(capacity_of(a) == "on-demand" for a in attempts):
            return None  # the one on-demand retry exists already: nothing more to try
        used = sum(self._billed(a) for a in attempts)
        total = int(float(self._original_timeout(attempts[0])))
        timeout = max(total - int(used), 60)
        claim = f"{env.prefix(name)}/attempts/{number}"
        if not self.gcs_create(env.bucket, claim, json.dumps({"after": previous["name"],
                                                               "capacity": capacity}).encode()):
            return None  # another poller claimed it; its job shows up on the next poll
        return self._create(env, next_attempt(previous, name, number, capacity, timeout))

    @staticmethod
    def _original_timeout(first: dict) -> str:
        return str(first.get("jobSpec", {}).get("scheduling", {}).get("timeout", "86400s")).rstrip("s")

    def _billed(self, job: dict) -> float:
        start = _epoch(job.get("startTime"))
        if start is None:
            return 0.0
        end = _epoch(job.get("endTime")) if state_name(job) in TERMINAL else None
        return max((end if end is not None else self.clock()) - start, 0.0)

    def _status_of(self, env: VertexEnvironment, attempts: list[dict], interruptions: int, forced: State | None,
                   note: str) -> JobStatus:
        latest = attempts[-1]
        name = state_name(latest)
        state = forced or _state(name)
        if state == State.PENDING and len(attempts) > 1:
            state = State.INTERRUPTED if failure_kind(attempts[-2]) == "preempted" else State.WAITING_FOR_CAPACITY
        if note.startswith("gave up"):
            state = State.FAILED
        pool = latest.get("jobSpec", {}).get("workerPoolSpecs", [{}])
        machine = pool[0].get("machineSpec", {})
        replicas = sum(int(p.get("replicaCount", "1")) for p in pool)
        gpus_each = int(machine.get("acceleratorCount", 0) or 0)
        choice = MachineChoice(machine.get("machineType", ""), None, machine.get("acceleratorType")
                               if isinstance(machine.get("acceleratorType"), str) else None, gpus_each)
        attached = ACCELERATOR.get(str(choice.accelerator_type or "").lower().replace("_", "-"))
        row = (self._n1_row(env.region, choice.machine_type, attached, gpus_each) if attached in N1_ATTACHABLE
               else self.catalog.vm("gcp", env.region, choice.machine_type))
        rates = self.rates(env.region, choice, row)
        cost = job_cost([AttemptTime(capacity_of(a), round(self._billed(a), 3), replicas) for a in attempts], rates)
        error = (latest.get("error") or {}).get("message", "")
        message = "; ".join(m for m in (note, error if not note else "", name.removeprefix("JOB_STATE_").lower())
                            if m)
        submitted = _epoch(attempts[0].get("createTime"))
        ended = _epoch(latest.get("endTime")) if state.terminal else None
        training = ((ended or self.clock()) - submitted) if submitted else None
        status = JobStatus(state=state, message=message, capacity=capacity_of(latest), interruptions=interruptions,
                           training_seconds=round(training, 3) if training is not None else None,
                           billable_seconds=round(cost.billed_seconds, 3), cost_usd=cost.usd,
                           savings_percent=cost.savings_percent, submitted_at=submitted, ended_at=ended,
                           gpus=0 if state.terminal else gpus_of(latest),
                           details={"cost_note": cost.note, "machine_type": choice.machine_type,
                                    "attempts": [a.get("displayName") for a in attempts],
                                    "vertex_job": latest.get("name"),
                                    "model_artifacts": f"gs://{env.bucket}/jobs/{self._job_of(latest)}/model"})
        labels = attempts[0].get("labels", {})
        if "terraml-override-by" in labels:  # as labels keep it (GCP label rules); exact in the bundle's metadata
            status.details["override"] = {"by": labels["terraml-override-by"],
                                          "reason": labels.get("terraml-override-reason", ""),
                                          "at": float(labels.get("terraml-override-at", "0"))}
        if state == State.COMPLETED:
            version = self._register(env, latest)
            if version:
                status = replace(status, model_version=version)
        return status

    @staticmethod
    def _job_of(job: dict) -> str:
        for pool in job.get("jobSpec", {}).get("workerPoolSpecs", []):
            for e in pool.get("containerSpec", {}).get("env", []):
                if e.get("name") == "TERRAML_JOB_NAME":
                    return e.get("value", "")
        return job.get("displayName", "")

    def _register(self, env: VertexEnvironment, job: dict) -> str | None:
        """Register the finished job's model in the MLflow registry, once: a version tagged with this
        training job is looked up first (the registry is the marker; CustomJobs cannot be relabelled)."""
        if not self.tracking_uri or "terraml-register-model" not in job.get("labels", {}):
            return None
        name = self._job_of(job)
        meta = self.gcs_get(env.bucket, env.bundle_object(name), media=False) or {}
        model = (meta.get("metadata") or {}).get("register-model") or job["labels"]["terraml-register-model"]
        from mlflow import MlflowClient

        from terraml.model_registry import register_version

        client = MlflowClient(tracking_uri=self.tracking_uri)
        try:
            for v in client.search_model_versions(f"name = '{model}'"):
                if (v.tags or {}).get("terraml.training_job") == name and (v.tags or {}).get("terraml.cloud") == "gcp":
                    return str(v.version)
        except Exception:  # noqa: BLE001 - a model not registered yet has no versions to search
            pass
        pool = job["jobSpec"]["workerPoolSpecs"][0]
        image = serving_image(pool["containerSpec"]["imageUri"])
        return register_version(self.tracking_uri, model, env.gcs(name, "model"), tags={
            "terraml.image": image, "terraml.training_job": name, "terraml.cloud": "gcp",
            "terraml.vertex_job": job["name"], "terraml.team": job.get("labels", {}).get("team", "")})

    def logs(self, handle: JobHandle) -> Iterator[str]:
        """Each attempt's log lines from Cloud Logging (resource ml_job), oldest first."""
        env = self.environment(handle.team)
        for job in self._attempts(handle.team, handle.name):
            job_id = job["name"].rsplit("/", 1)[1]
            body = {"resourceNames": [f"projects/{env.project}"], "orderBy": "timestamp asc", "pageSize": 1000,
                    "filter": f'resource.type="ml_job" AND resource.labels.job_id="{job_id}"'}
            response = self.http(f"Cloud Logging entries.list for {job['displayName']}", "POST",
                                 f"{self.google_api('logging')}/v2/entries:list", json=body)
            if not response.ok:
                raise ProviderError(f"Cloud Logging entries.list for {job['displayName']}: {response.status_code} "
                                    f"{response.text[:300]}")
            for entry in response.json().get("entries", []):
                text = entry.get("textPayload") or json.dumps(entry.get("jsonPayload", {}))
                yield f"[{job['displayName']}] {text}"

    def _cancelled(self, env: VertexEnvironment, name: str) -> bool:
        return self.gcs_get(env.bucket, f"{env.prefix(name)}/cancelled", media=False) is not None

    def cancel(self, handle: JobHandle) -> None:
        """Cancel the live attempt, and mark the submission cancelled (create-only jobs/NAME/cancelled), which
        status() reads before it starts any further attempt: a cancel between two attempts (after a
        preemption, before the next poll resubmits) stops the chain too."""
        env = self.environment(handle.team)
        attempts = self._attempts(handle.team, handle.name)
        live = [a for a in attempts if state_name(a) not in TERMINAL]
        latest = attempts[-1] if attempts else {}
        between = failure_kind(latest) is not None and capacity_of(latest) == "spot" and \
            self._spot_policy(attempts[0]).mode != "on-demand"
        if not live and not between:
            raise UserError(f"job '{handle.name}' has already ended; nothing to cancel.")
        self.gcs_create(env.bucket, f"{env.prefix(handle.name)}/cancelled",
                        json.dumps({"at": self.clock()}).encode())  # False: marked already
        for job in live:
            if state_name(job) != "JOB_STATE_CANCELLING":  # a cancel under way needs no second one
                self._call(f"CancelCustomJob {job['displayName']}",
                           self.client("job", env.region).cancel_custom_job, name=job["name"])

    def list_jobs(self) -> JobListing:
        out, skipped = [], []
        for team in (t for t in self.platform.teams if t.clouds.gcp is not None):
            if self.team_name and team.name != self.team_name:
                continue
            env = self.environment(team.name)
            pager = self._call("ListCustomJobs", self.client("job", env.region).list_custom_jobs,
                               request={"parent": env.parent, "filter": f'labels.team="{label_value(team.name)}"'})
            chains: dict[str, list[dict]] = {}
            for message in pager:
                job = self.as_json(message)
                if "terraml-job" not in job.get("labels", {}):
                    continue
                chains.setdefault(self._job_of(job), []).append(job)
            for name, chain in sorted(chains.items()):
                chain.sort(key=lambda j: (attempt_number(j), j.get("createTime", "")))
                handle = JobHandle(self.NAME, name, name, team.name)
                out.append((handle, self._listed(chain)))
        return JobListing(out, skipped)

    def _listed(self, chain: list[dict]) -> JobStatus:
        """A submission's status from the list call's JSON alone (no call per job): the state, when it was
        submitted, and the GPUs it holds while live, which the GPU quota at submit counts. A spot attempt that
        failed for capacity is live too: the next poll starts its next attempt."""
        latest = chain[-1]
        state = _state(state_name(latest))
        kind = failure_kind(latest)
        if kind is not None and capacity_of(latest) == "spot" and self._spot_policy(chain[0]).mode != "on-demand":
            state = State.INTERRUPTED if kind == "preempted" else State.WAITING_FOR_CAPACITY
        elif state == State.PENDING and len(chain) > 1:
            state = State.INTERRUPTED if failure_kind(chain[-2]) == "preempted" else State.WAITING_FOR_CAPACITY
        return JobStatus(state=state, capacity=capacity_of(latest),
                         interruptions=sum(1 for a in chain if failure_kind(a) == "preempted"),
                         submitted_at=_epoch(chain[0].get("createTime")), gpus=0 if state.terminal else gpus_of(latest))

    # ------------------------------------------------------------ serving
    def deploy(self, model: str, version: str, endpoint: str, canary_percent: int | None = None) -> Deployment:
        from terraml.providers.gcp.vertex_serving import deploy

        return deploy(self, model, version, endpoint, canary_percent)

    def canary_controls(self, deployment: Deployment):
        from terraml.providers.gcp.vertex_serving import canary_controls

        return canary_controls(self, deployment)

    def invoke(self, endpoint: str, payload: dict) -> dict:
        from terraml.providers.gcp.vertex_serving import invoke

        return invoke(self, endpoint, payload)

    def list_endpoints(self) -> list[EndpointStatus]:
        from terraml.providers.gcp.vertex_serving import list_endpoints

        return list_endpoints(self)

    def undeploy(self, endpoint: str) -> bool:
        from terraml.providers.gcp.vertex_serving import undeploy

        return undeploy(self, endpoint)


def gpus_of(job: dict) -> int:
    """The GPUs one attempt holds (REST JSON): acceleratorCount x replicaCount over its worker pools."""
    return sum(int(p.get("machineSpec", {}).get("acceleratorCount", 0) or 0) * int(p.get("replicaCount", "1") or 1)
               for p in job.get("jobSpec", {}).get("workerPoolSpecs", []))


def _state(name: str) -> State:
    from terraml.providers.gcp.vertex_request import STATES

    return STATES.get(name, State.PENDING)


