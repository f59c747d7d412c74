"""A fake Azure Resource Manager + Azure ML service behind an injected azure-core transport.

The real azure-ai-ml SDK (and azure-storage-blob, and terraml's Azure Monitor metrics GET) talk to it
through ``RequestsTransport`` over a ``requests`` session whose ``https://`` adapter is this fake: the
URLs stay ``https://management.azure.com/...``, nothing leaves the process (reference: cloud_apis.md §4).

What it keeps, per workspace: jobs, compute clusters (seeded like the team stack creates them), the default
blob datastore and its blobs, models, online endpoints, deployments and their traffic split, and Azure
Monitor metric series per deployment. What it does NOT do: run containers. A job is a script of states
that advances one step per ``hold`` GETs of that job (default 2: terraml's status() reads a job once, and
once more when it updates the job's tags, so every state is seen by at least one status()): Queued, Running,
Completed. On a
LowPriority cluster, ``preemptions`` inserts Running -> Queued -> Running restarts, the way Azure ML
reports a preempted low-priority job that it restarts by itself (no signal reaches the container; the
job is requeued and starts again). ``no_capacity`` keeps low-priority jobs Queued forever.

Every request is recorded in ``calls`` as (method, path, json body or None).
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import urllib3
from azure.core.credentials import AccessToken

ARM = "management.azure.com"
WS_PATH = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                     r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)(?P<rest>/.*)?$", re.I)
WAITING = ("Queued", "Preparing", "Starting", "Provisioning", "NotStarted")


def _utc(epoch: float) -> str:
    """An Azure ML run timestamp: ISO 8601 in UTC."""
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeCredential:
    """A credential stub: any scope gets a token (the fake never checks it)."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("fake-token", int(time.time()) + 3600)


@dataclass
class FakeJob:
    body: dict
    script: list[str]
    step: int = 0
    gets: int = 0
    hold: int = 1
    started_at: float | None = None
    """When the job first ran (the fake's clock): reported as properties.StartTimeUtc, as Azure ML does."""
    ended_at: float | None = None
    """When it ended: properties.EndTimeUtc."""

    @property
    def status(self) -> str:
        return self.script[min(self.step, len(self.script) - 1)]


@dataclass
class Workspace:
    location: str
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    computes: dict[str, dict] = field(default_factory=dict)
    models: dict[tuple[str, str], dict] = field(default_factory=dict)
    endpoints: dict[str, dict] = field(default_factory=dict)
    deployments: dict[tuple[str, str], dict] = field(default_factory=dict)


class FakeAzureML(requests.adapters.BaseAdapter):
    """The fake service; mount it on a requests session (see :meth:`transport`)."""

    def __init__(self, *, preemptions: int = 0, no_capacity: bool = False, hold: int = 2, fail: bool = False,
                 clock=time.time, timestamps: bool = True):
        """``clock`` dates a job's start and end (epoch seconds; tests share theirs with the backend);
        ``timestamps=False`` reports no StartTimeUtc/EndTimeUtc (a job whose run history has none)."""
        super().__init__()
        self.clock, self.timestamps = clock, timestamps
        self.timeouts: list[tuple[str, str, object]] = []
        """(method, path, the requests timeout the client set) of every request."""
        self.hidden: set[str] = set()
        """Job names whose next GET answers 404 once (another submitter creates them right after the check)."""
        self.workspaces: dict[str, Workspace] = {}
        self.blobs: dict[str, bytes] = {}
        self.calls: list[tuple[str, str, dict | None]] = []
        self.preemptions, self.no_capacity, self.hold, self.fail = preemptions, no_capacity, hold, fail
        self.metrics: dict[str, dict] = {}
        """deployment name -> {'requests': per minute, 'errors_5xx': per minute, 'p99_ms': latency}."""
        self.scores: list[dict] = []

    # ------------------------------------------------------------ wiring
    def transport(self):
        from azure.core.pipeline.transport import RequestsTransport

        session = requests.Session()
        session.mount("https://", self)
        return RequestsTransport(session=session, session_owner=False)

    def workspace(self, sub: str, rg: str, ws: str, location: str = "eastus") -> Workspace:
        key = f"{sub}/{rg}/{ws}".lower()
        return self.workspaces.setdefault(key, Workspace(location))

    def seed_team(self, platform, team_name: str, catalog=None) -> Workspace:
        """The workspace and compute clusters the team's Azure stack creates (the same names and tiers)."""
        from terraml.catalog import load_catalog
        from terraml.policy.capacity import capacity_plan
        from terraml.policy.machines import resolve_machine
        from terraml.providers.azure.names import AzureNames

        catalog = catalog or load_catalog()
        team = platform.team(team_name)
        azure = team.clouds.azure
        names = AzureNames.for_team(platform, team)
        ws = self.workspace(azure.subscription_id, names.resource_group, names.ml_workspace, azure.location)
        for pool in azure.gpu_pools:
            machine = resolve_machine("azure", azure.location, pool.instance_type, pool.accelerator,
                                      pool.accelerator_count, catalog)
            plan = capacity_plan(pool.spot.mode, pool.spot.max_price_ratio, machine.row, min_nodes=0,
                                 max_nodes=pool.max_nodes, price_cap_enforced_by_cloud=True)
            for group in plan.groups:
                ws.computes[names.ml_compute(pool.name, group.suffix)] = {
                    "vmSize": machine.instance_type, "maxNodeCount": group.max_nodes,
                    "vmPriority": "LowPriority" if group.capacity == "spot" else "Dedicated"}
        for ep in azure.endpoints:
            ws.endpoints[names.ml_endpoint(ep.name)] = {"traffic": {}, "authMode": "AADToken"}
        return ws

    def set_metrics(self, deployment: str, *, requests_per_minute: float, errors_5xx: float = 0.0,
                    p99_ms: float | None = None) -> None:
        self.metrics[deployment] = {"requests": requests_per_minute, "errors_5xx": errors_5xx, "p99_ms": p99_ms}

    # ------------------------------------------------------------ requests adapter
    def close(self):
        pass

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        body = None
        if request.body:
            raw = request.body if isinstance(request.body, bytes) else request.body.encode()
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        self.calls.append((request.method, url.path, body))
        self.timeouts.append((request.method, url.path, kwargs.get("timeout")))
        if url.hostname.endswith(".blob.core.windows.net"):
            return self._blob(request, url)
        if url.hostname.endswith(".inference.ml.azure.com"):
            self.scores.append({"deployment": request.headers.get("azureml-model-deployment"), "body": body})
            return self._reply(request, 200, {"predictions": [0], "host": url.hostname})
        if url.hostname != ARM:
            return self._reply(request, 404, {"error": {"code": "NotFound", "message": f"no host {url.hostname}"}})
        if "/providers/Microsoft.Insights/metrics" in url.path:
            return self._metrics(request, url)
        m = WS_PATH.match(url.path)
        if not m:
            return self._reply(request, 404, {"error": {"code": "NotFound", "message": url.path}})
        ws = self.workspaces.get(f"{m['sub']}/{m['rg']}/{m['ws']}".lower())
        if ws is None:
            return self._reply(request, 404, {"error": {"code": "ResourceNotFound",
                                                        "message": f"workspace {m['ws']} not found"}})
        base = url.path[: len(url.path) - len(m["rest"] or "")]
        parts = [unquote(p) for p in (m["rest"] or "").strip("/").split("/") if p]
        return self._route(request, ws, base, parts, body)

    def _route(self, request, ws: Workspace, base: str, parts: list[str], body):
        method = request.method
        if not parts:
            return self._reply(request, 200, {"id": base, "name": base.rsplit("/", 1)[1], "location": ws.location,
                                              "properties": {}})
        kind = parts[0]
        if kind == "jobs":
            return self._jobs(request, ws, base, parts[1:], body)
        if kind == "datastores" and method == "GET" and parts[1:] == ["workspaceblobstore"]:
            return self._reply(request, 200, {
                "id": f"{base}/datastores/workspaceblobstore", "name": "workspaceblobstore",
                "properties": {"datastoreType": "AzureBlob", "accountName": "stfakeworkspace",
                               "containerName": "azureml-blobstore-0000", "endpoint": "core.windows.net",
                               "protocol": "https", "isDefault": True, "credentials": {"credentialsType": "None"}}})
        if kind == "computes" and len(parts) == 2 and method == "GET":
            c = ws.computes.get(parts[1])
            if c is None:
                return self._not_found(request, f"compute {parts[1]}")
            return self._reply(request, 200, {"id": f"{base}/computes/{parts[1]}", "name": parts[1],
                                              "location": ws.location, "properties": {
                                                  "computeType": "AmlCompute", "provisioningState": "Succeeded",
                                                  "properties": {"vmSize": c["vmSize"], "vmPriority": c["vmPriority"],
                                                                 "scaleSettings": {"maxNodeCount": c["maxNodeCount"],
                                                                                   "minNodeCount": 0}}}})
        if kind == "models" and len(parts) == 4 and parts[2] == "versions":
            key = (parts[1], parts[3])
            rid = f"{base}/models/{parts[1]}/versions/{parts[3]}"
            if method == "PUT":
                ws.models[key] = {"id": rid, "name": parts[3], "properties": {
                    "flavors": {}, **body["properties"], "provisioningState": "Succeeded"}}
                return self._reply(request, 201, ws.models[key])
            if method == "GET":
                return self._reply(request, 200, ws.models[key]) if key in ws.models else \
                    self._not_found(request, f"model {key}")
        if kind == "models" and len(parts) == 2 and method == "GET":  # the model container
            return self._reply(request, 200, {"id": f"{base}/models/{parts[1]}", "name": parts[1], "properties": {}})
        if kind == "onlineEndpoints":
            return self._endpoints(request, ws, base, parts[1:], body)
        return self._reply(request, 404, {"error": {"code": "NotFound", "message": f"{method} {'/'.join(parts)}"}})

    # ------------------------------------------------------------ jobs
    def _script(self, ws: Workspace, compute: str) -> list[str]:
        low = ws.computes.get(compute, {}).get("vmPriority") == "LowPriority"
        if low and self.no_capacity:
            return ["Queued"]
        script = ["Queued", "Running"]
        for _ in range(self.preemptions if low else 0):
            script += ["Queued", "Running"]  # preempted: Azure requeues and restarts the job, no signal
        return script + (["Failed"] if self.fail else ["Completed"])

    def _job_json(self, base: str, name: str, job: FakeJob) -> dict:
        out = json.loads(json.dumps(job.body))
        out["properties"]["status"] = job.status
        if self.timestamps:
            when = {"StartTimeUtc": job.started_at, "EndTimeUtc": job.ended_at}
            out["properties"].setdefault("properties", {}).update(
                {k: _utc(v) for k, v in when.items() if v is not None})
        out["properties"].setdefault("services", {})["Studio"] = {
            "jobServiceType": "Studio", "endpoint": f"https://ml.azure.com/runs/{name}"}
        return {**out, "id": f"{base}/jobs/{name}", "name": name, "type": "Microsoft.MachineLearningServices/jobs",
                "systemData": {"createdAt": job.body["_created"]}}

    def _jobs(self, request, ws: Workspace, base: str, parts: list[str], body):
        method = request.method
        if not parts and method == "GET":
            value = [self._job_json(base, n, j) for n, j in ws.jobs.items()]
            for v in value:
                v.pop("_created", None)
            return self._reply(request, 200, {"value": value})
        name = parts[0]
        job = ws.jobs.get(name)
        if len(parts) == 2 and parts[1] == "cancel" and method == "POST":
            if job is None:
                return self._not_found(request, f"job {name}")
            if job.status not in ("Completed", "Failed", "Canceled"):
                job.script, job.step = ["Canceled"], 0
                self._dated(job)
            return self._reply(request, 202, {})
        if method == "GET":
            if job is None or name in self.hidden:
                self.hidden.discard(name)
                return self._not_found(request, f"job {name}")
            job.gets += 1
            if job.gets > job.hold and job.step < len(job.script) - 1:
                job.step, job.gets = job.step + 1, 1
                self._dated(job)
            out = self._job_json(base, name, job)
            out.pop("_created", None)
            return self._reply(request, 200, out)
        if method == "PUT":
            props = body["properties"]
            if job is not None and any(props.get(k) != job.body["properties"].get(k) for k in ("command", "computeId")):
                return self._reply(request, 409, {"error": {"code": "Conflict", "message":
                                                            f"job {name} already exists with other properties"}})
            if job is not None:  # Azure ML lets a PUT change only tags, display name and description
                for key in ("tags", "displayName", "description"):
                    if key in props:
                        job.body["properties"][key] = props[key]
                out = self._job_json(base, name, job)
                out.pop("_created", None)
                return self._reply(request, 200, out)
            compute = (props.get("computeId") or "").rsplit("/", 1)[-1]
            if compute not in ws.computes:
                return self._reply(request, 400, {"error": {"code": "UserError", "message":
                                                            f"compute {compute!r} not found in the workspace"}})
            stored = {**body, "_created": time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime(self.clock()))}
            ws.jobs[name] = FakeJob(stored, self._script(ws, compute), hold=self.hold)
            out = self._job_json(base, name, ws.jobs[name])
            out.pop("_created", None)
            return self._reply(request, 201, out)
        return self._reply(request, 405, {"error": {"code": "MethodNotAllowed", "message": method}})

    def _dated(self, job: FakeJob) -> None:
        if job.status == "Running" and job.started_at is None:
            job.started_at = self.clock()
        if job.status in ("Completed", "Failed", "Canceled") and job.ended_at is None:
            job.ended_at = self.clock()

    def finish(self, name: str) -> None:
        """Run a job's script to its end without anyone polling it (a detached job that ended meanwhile)."""
        job = next(ws.jobs[name] for ws in self.workspaces.values() if name in ws.jobs)
        while job.step < len(job.script) - 1:
            job.step += 1
            self._dated(job)

    # ------------------------------------------------------------ endpoints and deployments
    def _endpoint_json(self, ws: Workspace, base: str, name: str) -> dict:
        ep = ws.endpoints[name]
        return {"id": f"{base}/onlineEndpoints/{name}", "name": name, "location": ws.location,
                "identity": {"type": "SystemAssigned"}, "kind": "Managed",
                "properties": {"authMode": ep["authMode"], "traffic": dict(ep["traffic"]), "mirrorTraffic": {},
                               "provisioningState": "Succeeded",
                               "scoringUri": f"https://{name}.{ws.location}.inference.ml.azure.com/score"}}

    def _deployment_json(self, ws: Workspace, base: str, ep: str, name: str) -> dict:
        d = ws.deployments[(ep, name)]
        return {"id": f"{base}/onlineEndpoints/{ep}/deployments/{name}", "name": name, "location": ws.location,
                "sku": d["sku"], "tags": d["tags"], "properties": {**d["properties"], "provisioningState": "Succeeded",
                                                "scaleSettings": {"scaleType": "Default"}}}

    def _endpoints(self, request, ws: Workspace, base: str, parts: list[str], body):
        method = request.method
        if not parts and method == "GET":
            return self._reply(request, 200, {"value": [self._endpoint_json(ws, base, n) for n in ws.endpoints]})
        name = parts[0]
        if len(parts) == 1:
            if method == "GET":
                return self._reply(request, 200, self._endpoint_json(ws, base, name)) if name in ws.endpoints \
                    else self._not_found(request, f"online endpoint {name}")
            if method in ("PUT", "PATCH"):
                traffic = body.get("properties", {}).get("traffic")
                unknown = [d for d in (traffic or {}) if (name, d) not in ws.deployments]
                if unknown:
                    return self._reply(request, 400, {"error": {"code": "BadArgument", "message":
                                                                f"traffic names unknown deployments {unknown}"}})
                if traffic is not None and traffic and sum(traffic.values()) != 100:
                    return self._reply(request, 400, {"error": {"code": "BadArgument",
                                                                "message": "traffic must sum to 100"}})
                ep = ws.endpoints.setdefault(name, {"traffic": {}, "authMode": "AADToken"})
                if traffic is not None:
                    ep["traffic"] = dict(traffic)
                return self._reply(request, 200, self._endpoint_json(ws, base, name))
        if name not in ws.endpoints:
            return self._not_found(request, f"online endpoint {name}")
        if parts[1:] == ["listKeys"]:
            return self._reply(request, 200, {"primaryKey": "k1", "secondaryKey": "k2"})
        if parts[1:] == ["token"]:
            return self._reply(request, 200, {"accessToken": "t", "tokenType": "Bearer"})
        if len(parts) == 2 and parts[1] == "deployments" and method == "GET":
            return self._reply(request, 200, {"value": [self._deployment_json(ws, base, e, d)
                                                        for (e, d) in ws.deployments if e == name]})
        if len(parts) == 3 and parts[1] == "deployments":
            dep = parts[2]
            if method == "PUT":
                model = body["properties"].get("model", "")
                if model.startswith("/subscriptions/") and tuple(model.split("/")[-3::2]) not in ws.models:
                    return self._reply(request, 400, {"error": {"code": "BadArgument", "message":
                                                                f"model {model} not found"}})
                ws.deployments[(name, dep)] = {"sku": body.get("sku", {}), "properties": body["properties"],
                                               "tags": body.get("tags", {})}
                return self._reply(request, 201, self._deployment_json(ws, base, name, dep))
            if method == "GET":
                return self._reply(request, 200, self._deployment_json(ws, base, name, dep)) \
                    if (name, dep) in ws.deployments else self._not_found(request, f"deployment {dep}")
            if method == "DELETE":
                if ws.endpoints[name]["traffic"].get(dep):
                    return self._reply(request, 400, {"error": {"code": "BadArgument", "message":
                                                                f"deployment {dep} still takes traffic"}})
                ws.deployments.pop((name, dep), None)
                return self._reply(request, 200, {})
        return self._reply(request, 404, {"error": {"code": "NotFound", "message": "/".join(parts)}})

    # ------------------------------------------------------------ Azure Monitor metrics
    def _metrics(self, request, url):
        query = parse_qs(url.query)
        names = query.get("metricnames", [""])[0].split(",")
        flt = query.get("$filter", [""])[0]
        dep = re.search(r"deployment eq '([^']+)'", flt)
        m = self.metrics.get(dep.group(1) if dep else "", {"requests": 0, "errors_5xx": 0, "p99_ms": None})
        value = []
        for name in names:
            if name == "RequestsPerMinute":
                series = [{"metadatavalues": [{"name": {"value": "statusCodeClass"}, "value": "2xx"}],
                           "data": [{"timeStamp": "t", "total": m["requests"] - m["errors_5xx"]}]},
                          {"metadatavalues": [{"name": {"value": "statusCodeClass"}, "value": "5xx"}],
                           "data": [{"timeStamp": "t", "total": m["errors_5xx"]}]}]
            elif name == "RequestLatency_P99":
                series = [{"metadatavalues": [], "data": [{"timeStamp": "t", **(
                    {"average": m["p99_ms"]} if m["p99_ms"] is not None else {})}]}]
            else:
                return self._reply(request, 400, {"error": {"code": "BadRequest", "message": f"metric {name}"}})
            value.append({"name": {"value": name}, "unit": "Count", "timeseries": series})
        return self._reply(request, 200, {"value": value, "interval": "PT1M"})

    # ------------------------------------------------------------ blob storage
    def _blob(self, request, url):
        key = f"{url.hostname.split('.')[0]}{url.path}"
        if request.method == "PUT":
            raw = request.body if isinstance(request.body, bytes) else (request.body or b"")
            if hasattr(raw, "read"):
                raw = raw.read()
            self.blobs[key] = raw if isinstance(raw, bytes) else raw.encode()
            return self._reply(request, 201, None, headers={
                "ETag": '"0x1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
                "x-ms-request-server-encrypted": "true"})
        if request.method in ("HEAD", "GET"):
            if key in self.blobs:
                data = b"" if request.method == "HEAD" else self.blobs[key]
                return self._reply(request, 200, None, raw=data, headers={"x-ms-blob-type": "BlockBlob"})
            return self._reply(request, 404, None, headers={"x-ms-error-code": "BlobNotFound"})
        return self._reply(request, 405, None)

    # ------------------------------------------------------------ responses
    def _not_found(self, request, what: str):
        return self._reply(request, 404, {"error": {"code": "UserError", "message": f"{what} not found"}})

    def _reply(self, request, status: int, payload, *, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        head = {"Content-Type": "application/json", "Content-Length": str(len(data)), "x-ms-request-id": "fake",
                **(headers or {})}
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url
        response.headers.update(head)
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(data), headers=head, status=status,
                                            preload_content=False, decode_content=False)
        response.reason = "OK" if status < 400 else "Error"
        return response


def cli_transport():
    """The testing hook's factory (TERRAML_AZUREML_TRANSPORT=tests.azure.azure_fake:cli_transport): a fresh
    fake seeded with the team of $TERRAML_FAKE_AZURE_TEAM from $TERRAML_FAKE_AZURE_SPEC, preempting each
    low-priority job $TERRAML_FAKE_AZURE_PREEMPTIONS times. Lives as long as the CLI process, unless
    $TERRAML_FAKE_AZURE_STATE names a file: then its workspaces and blobs are read from there at start and
    written back after each request, so several CLI processes share one service. Each state is
    held for 4 GETs: `train` reads the job's logs (one GET) after each status() (one GET, two with a tag
    update), so every state is seen by a status()."""
    import os
    import pickle
    from pathlib import Path

    from terraml.spec import load_platform

    class Persistent(FakeAzureML):
        def __init__(self, path: Path, **kwargs):
            super().__init__(**kwargs)
            self.path = path
            if path.exists():
                self.workspaces, self.blobs = pickle.loads(path.read_bytes())

        def send(self, request, **kwargs):
            response = super().send(request, **kwargs)
            self.path.write_bytes(pickle.dumps((self.workspaces, self.blobs)))
            return response

    preemptions = int(os.environ.get("TERRAML_FAKE_AZURE_PREEMPTIONS", "0"))
    state = os.environ.get("TERRAML_FAKE_AZURE_STATE")
    fake = Persistent(Path(state), preemptions=preemptions, hold=4) if state else \
        FakeAzureML(preemptions=preemptions, hold=4)
    if not fake.workspaces:
        platform = load_platform(os.environ["TERRAML_FAKE_AZURE_SPEC"]).platform
        fake.seed_team(platform, os.environ.get("TERRAML_FAKE_AZURE_TEAM", "nlp"))
    return fake.transport(), FakeCredential()
