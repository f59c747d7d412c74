"""A local stand-in for the Google APIs the Vertex AI backend calls, on stdlib http.server (loopback, free port).

It speaks the REST surface the real SDK uses (google-cloud-aiplatform's GAPIC clients with transport="rest",
and the Cloud Storage, Cloud Logging and Cloud Monitoring JSON APIs):

    Vertex AI   customJobs create / get / list (filter by labels and display_name) / :cancel,
                models:upload, models get, endpoints get / list / :deployModel / :undeployModel /
                PATCH trafficSplit / :predict, operations get (long-running operations answer done)
    Storage     multipart upload (ifGenerationMatch 0 or a generation), object get (metadata or alt=media),
                delete (ifGenerationMatch), list
    Logging     entries:list (the fake's per-job lines)
    Monitoring  timeSeries list (points the test sets, per deployed model)

What is real and what is not: the requests are the SDK's own (paths, JSON, int enums, int64 strings), and the
server checks what Vertex AI checks where terraml depends on it (traffic splits sum to 100 and name deployed
models; a model with traffic cannot be undeployed without a new split; a create-only write of an existing
object is refused with 412). No container runs: a job moves one state per poll (pending -> running ->
succeeded), and the fake plays the part of the example trainer against Cloud Storage (it reads the
checkpoint folder the job's TERRAML_CHECKPOINT_DIR names through the /gcs mount, records what it found as
the attempt's resume point, writes a checkpoint one epoch further, and on success writes the model). Spot
preemption and stockouts are injected here: a preempted attempt fails the way Vertex AI reports a reclaimed
Spot VM (JOB_STATE_FAILED, error code 8 RESOURCE_EXHAUSTED, STOCKOUT) after it started; a stockout fails
the same way before it starts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREEMPTED = "The job's Spot VMs were preempted by Compute Engine (STOCKOUT); the job was stopped."
STOCKOUT = "Resources are insufficient in region: us-central1 (STOCKOUT). Please try a different region."


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeGoogle:
    """The state behind the server; tests read and steer it directly (thread-safe)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.jobs: dict[str, dict] = {}
        self.objects: dict[tuple[str, str], dict] = {}
        self.buckets: set[str] = set()
        self.models: dict[str, dict] = {}
        self.endpoints: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.ids = itertools.count(1001)
        self.to_preempt = 0
        self.to_stockout = 0
        self.run_seconds = 600.0
        """How long a successful attempt ran (startTime to endTime), in seconds."""
        self.preempt_after_seconds = 300.0
        self.queue_seconds = 30.0
        self.metrics: dict[str, dict[str, list[float]]] = {}
        """metric type -> deployed model id -> values the monitoring API returns (one point each)."""
        self.hold = False
        """Freeze jobs where they are (a cancel still goes through)."""
        self.fail_create = 0
        """The next n CreateCustomJob calls fail (HTTP 500), as a submit interrupted at its create."""
        self.predict_fail: set[str] = set()
        """Deployed model ids whose predictions fail (HTTP 500), to make a canary breach real."""

    # ------------------------------------------------------------ steering
    def preempt(self, n: int) -> None:
        """The next n Spot attempts are preempted after they start."""
        with self.lock:
            self.to_preempt += n

    def stockout(self, n: int) -> None:
        """The next n Spot attempts find no capacity and fail before they start."""
        with self.lock:
            self.to_stockout += n

    def add_bucket(self, bucket: str) -> None:
        self.buckets.add(bucket)

    def add_endpoint(self, project: str, region: str, endpoint_id: str, display_name: str) -> str:
        name = f"projects/{project}/locations/{region}/endpoints/{endpoint_id}"
        self.endpoints[name] = {"name": name, "displayName": display_name, "deployedModels": [], "trafficSplit": {},
                                "createTime": rfc3339(time.time())}
        return name

    def created_jobs(self) -> list[dict]:
        return [j for j in self.jobs.values()]

    def calls(self, method: str, fragment: str) -> list[tuple[str, str, dict | None]]:
        return [r for r in self.requests if r[0] == method and fragment in r[1]]

    # ------------------------------------------------------------ the trainer's part
    def _gcs_path(self, mounted: str) -> tuple[str, str]:
        parts = mounted.removeprefix("/gcs/").split("/", 1)
        return parts[0], parts[1] if len(parts) > 1 else ""

    def _env(self, job: dict) -> dict[str, str]:
        pool = job["jobSpec"]["workerPoolSpecs"][0]
        return {e["name"]: e.get("value", "") for e in pool["containerSpec"].get("env", [])}

    def _log(self, job: dict, text: str) -> None:
        job["_logs"].append(text)

    def _start(self, job: dict) -> None:
        env = self._env(job)
        command = job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"].get("command", [])
        bundle = next((w for w in command if w.startswith("/gcs/") and w.endswith(".tar.gz")), None)
        if bundle is None or self._gcs_path(bundle) not in self.objects:
            self._end(job, "JOB_STATE_FAILED", {"code": 9, "message": f"code bundle {bundle} not found"})
            return
        bucket, prefix = self._gcs_path(env["TERRAML_CHECKPOINT_DIR"])
        checkpoint = self.objects.get((bucket, f"{prefix}/checkpoint.json"))
        job["_resumed_from"] = json.loads(checkpoint["data"]) if checkpoint else None
        job["_env_seen"] = env
        job["state"] = "JOB_STATE_RUNNING"
        job["startTime"] = rfc3339(job["_created"] + self.queue_seconds)
        self._log(job, "starting fresh" if checkpoint is None else
                  f"resuming from checkpoint after epoch {job['_resumed_from']['epoch']}")

    def _epochs(self, job: dict) -> int:
        command = job["jobSpec"]["workerPoolSpecs"][0]["containerSpec"].get("command", [])
        if "--epochs" in command:
            return int(command[command.index("--epochs") + 1])
        return 5

    def _finish(self, job: dict, preempted: bool) -> None:
        env = job["_env_seen"]
        bucket, prefix = self._gcs_path(env["TERRAML_CHECKPOINT_DIR"])
        done = (job["_resumed_from"] or {}).get("epoch", 0)
        epoch = min(done + 1, self._epochs(job)) if preempted else self._epochs(job)
        self._put(bucket, f"{prefix}/checkpoint.json", json.dumps({"epoch": epoch, "by": job["displayName"]}).encode())
        for e in range(done + 1, epoch + 1):
            self._log(job, f"epoch {e}/{self._epochs(job)}: val_accuracy=0.9")
        start = job["_created"] + self.queue_seconds
        if preempted:
            self._log(job, "SIGTERM: the Spot VM is being preempted")
            self._end(job, "JOB_STATE_FAILED", {"code": 8, "message": PREEMPTED},
                      start + self.preempt_after_seconds)
            return
        mbucket, mprefix = self._gcs_path(env["TERRAML_MODEL_DIR"])
        self._put(mbucket, f"{mprefix}/MLmodel", b"flavors: {sklearn: {}}\n")
        self._log(job, f"model saved to {env['TERRAML_MODEL_DIR']}")
        self._end(job, "JOB_STATE_SUCCEEDED", None, start + self.run_seconds)

    def _end(self, job: dict, state: str, error: dict | None, at: float | None = None) -> None:
        job["state"] = state
        if error:
            job["error"] = error
        job["endTime"] = rfc3339(at if at is not None else job["_created"] + self.queue_seconds)

    def _advance(self, job: dict) -> None:
        """One poll's worth of progress."""
        state = job["state"]
        if self.hold and state != "JOB_STATE_CANCELLING":
            return
        spot = job["jobSpec"].get("scheduling", {}).get("strategy") in (4, "SPOT")
        if state in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING"):
            if spot and self.to_stockout > 0:
                self.to_stockout -= 1
                self._end(job, "JOB_STATE_FAILED", {"code": 8, "message": STOCKOUT})
                return
            self._start(job)
        elif state == "JOB_STATE_RUNNING":
            preempted = spot and self.to_preempt > 0
            if preempted:
                self.to_preempt -= 1
            self._finish(job, preempted)
        elif state == "JOB_STATE_CANCELLING":
            self._end(job, "JOB_STATE_CANCELLED", {"code": 1, "message": "CANCELED"}, time.time())

    # ------------------------------------------------------------ storage
    def _put(self, bucket: str, name: str, data: bytes, metadata: dict | None = None) -> dict:
        obj = {"bucket": bucket, "name": name, "data": data, "metadata": metadata or {},
               "generation": str(next(self.ids)), "size": str(len(data)), "timeCreated": rfc3339(time.time())}
        self.objects[(bucket, name)] = obj
        return obj

    @staticmethod
    def public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_") and k != "data"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall between them
    fake: FakeGoogle

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code_name: str = "FAILED_PRECONDITION") -> None:
        self._send(status, {"error": {"code": status, "message": message, "status": code_name}})

    def _route(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        path, query = urllib.parse.unquote(url.path), urllib.parse.parse_qs(url.query)
        fake = self.fake
        with fake.lock:
            body = None
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw)
            fake.requests.append((self.command, path, body))
            try:
                self._dispatch(fake, path, query, body, raw)
            except KeyError as exc:
                self._error(404, f"not found: {exc}", "NOT_FOUND")

    do_GET = do_POST = do_PATCH = do_DELETE = _route

    # ------------------------------------------------------------ dispatch
    def _dispatch(self, fake: FakeGoogle, path: str, query: dict, body, raw: bytes) -> None:
        m = self.command
        if path.startswith("/upload/storage/v1/b/"):
            return self._upload(fake, path.split("/")[5], query, raw)
        if path.startswith("/storage/v1/b/"):
            return self._storage(fake, path, query)
        if path == "/v2/entries:list":
            return self._entries(fake, body)
        if path.startswith("/v3/projects/") and path.endswith("/timeSeries"):
            return self._time_series(fake, query)
        match = re.match(r"^/v1/(projects/[^/]+/locations/[^/]+)/(.*)$", path)
        if not match:
            return self._error(404, f"no route {m} {path}", "NOT_FOUND")
        parent, rest = match.groups()
        if rest == "customJobs" and m == "POST":
            return self._create_job(fake, parent, body)
        if rest == "customJobs" and m == "GET":
            return self._list_jobs(fake, parent, query)
        if rest.startswith("customJobs/"):
            name = f"{parent}/{rest.split(':')[0]}"
            job = fake.jobs[name]
            if rest.endswith(":cancel"):
                if job["state"] not in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
                    job["state"] = "JOB_STATE_CANCELLING"
                return self._send(200, {})
            fake._advance(job)
            return self._send(200, FakeGoogle.public(job))
        if rest == "models:upload":
            return self._upload_model(fake, parent, body)
        if rest.startswith("models/"):
            return self._send(200, fake.models[f"{parent}/{rest.split('@')[0]}"])
        if rest == "endpoints" and m == "GET":
            return self._send(200, {"endpoints": [e for e in fake.endpoints.values()
                                                  if e["name"].startswith(parent)]})
        if rest.startswith("endpoints/"):
            return self._endpoint(fake, f"{parent}/{rest.split(':')[0]}", rest, query, body)
        if "/operations/" in rest:
            return self._send(200, {"name": f"{parent}/{rest}", "done": True})
        return self._error(404, f"no route {m} {path}", "NOT_FOUND")

    # ------------------------------------------------------------ jobs
    def _create_job(self, fake: FakeGoogle, parent: str, body: dict) -> None:
        if fake.fail_create > 0:
            fake.fail_create -= 1
            return self._error(500, "internal error", "INTERNAL")
        job_id = str(next(fake.ids))
        now = time.time()
        job = {**body, "name": f"{parent}/customJobs/{job_id}", "state": "JOB_STATE_PENDING",
               "createTime": rfc3339(now), "updateTime": rfc3339(now), "_created": now, "_logs": []}
        fake.jobs[job["name"]] = job
        self._send(200, FakeGoogle.public(job))

    @staticmethod
    def _matches(job: dict, expression: str) -> bool:
        for term in filter(None, (t.strip() for t in re.split(r"\bAND\b", expression or ""))):
            key, _, value = term.partition("=")
            key, value = key.strip(), value.strip().strip('"')
            if key.startswith("labels."):
                if job.get("labels", {}).get(key[len("labels."):]) != value:
                    return False
            elif key == "display_name":
                if job.get("displayName") != value:
                    return False
            else:
                raise ValueError(f"filter term not supported by the fake: {term}")
        return True

    def _list_jobs(self, fake: FakeGoogle, parent: str, query: dict) -> None:
        expression = query.get("filter", [""])[0]
        out = []
        for job in list(fake.jobs.values()):
            if job["name"].startswith(parent) and self._matches(job, expression):
                fake._advance(job)
                out.append(FakeGoogle.public(job))
        self._send(200, {"customJobs": out})

    # ------------------------------------------------------------ storage
    def _upload(self, fake: FakeGoogle, bucket: str, query: dict, raw: bytes) -> None:
        if bucket not in fake.buckets:
            return self._error(404, f"bucket {bucket} not found", "NOT_FOUND")
        boundary = re.search(r"boundary=\"?([^\";]+)", self.headers.get("Content-Type", "")).group(1).encode()
        parts = [p for p in raw.split(b"--" + boundary) if p.strip() not in (b"", b"--")]
        meta_part, data_part = parts[0], parts[1]
        meta = json.loads(meta_part.split(b"\r\n\r\n", 1)[1].strip())
        data = data_part.split(b"\r\n\r\n", 1)[1]
        data = data[:-2] if data.endswith(b"\r\n") else data
        name = meta.get("name") or query["name"][0]
        if not self._precondition(fake, bucket, name, query):
            return self._error(412, "At least one of the pre-conditions you specified did not hold.",
                               "FAILED_PRECONDITION")
        self._send(200, FakeGoogle.public(fake._put(bucket, name, data, meta.get("metadata"))))

    @staticmethod
    def _precondition(fake: FakeGoogle, bucket: str, name: str, query: dict) -> bool:
        """ifGenerationMatch: 0 = the object must not exist; N = it must be at generation N."""
        wanted = query.get("ifGenerationMatch", [None])[0]
        if wanted is None:
            return True
        obj = fake.objects.get((bucket, name))
        return obj is None if wanted == "0" else obj is not None and obj["generation"] == wanted

    def _storage(self, fake: FakeGoogle, path: str, query: dict) -> None:
        parts = path.split("/")  # /storage/v1/b/<bucket>/o[/<name>]
        bucket = parts[4]
        if len(parts) <= 6:
            prefix = query.get("prefix", [""])[0]
            items = [FakeGoogle.public(o) for (b, n), o in sorted(fake.objects.items())
                     if b == bucket and n.startswith(prefix)]
            return self._send(200, {"items": items})
        obj = fake.objects.get((bucket, "/".join(parts[6:])))
        if obj is None:
            return self._error(404, "No such object", "NOT_FOUND")
        if self.command == "DELETE":
            if not self._precondition(fake, bucket, obj["name"], query):
                return self._error(412, "At least one of the pre-conditions you specified did not hold.",
                                   "FAILED_PRECONDITION")
            del fake.objects[(bucket, obj["name"])]
            return self._send(204, b"")
        if query.get("alt") == ["media"]:
            return self._send(200, obj["data"], "application/octet-stream")
        self._send(200, FakeGoogle.public(obj))

    def _entries(self, fake: FakeGoogle, body: dict) -> None:
        job_id = re.search(r'job_id="(\d+)"', body.get("filter", "")).group(1)
        job = next((j for j in fake.jobs.values() if j["name"].endswith(f"/{job_id}")), None)
        lines = job["_logs"] if job else []
        self._send(200, {"entries": [{"textPayload": line, "resource": {"type": "ml_job"}} for line in lines]})

    def _time_series(self, fake: FakeGoogle, query: dict) -> None:
        expression = query.get("filter", [""])[0]
        metric = re.search(r'metric\.type\s*=\s*"([^"]+)"', expression).group(1)
        model = re.search(r'deployed_model_id\s*=\s*"([^"]+)"', expression).group(1)
        by_model = fake.metrics.get(metric, {})
        values = by_model.get(model, by_model.get("*", []))  # "*": whichever model is asked about
        now = rfc3339(time.time())
        points = []
        for v in values:
            if isinstance(v, float):  # an aligned distribution (a latency percentile)
                points.append({"interval": {"endTime": now}, "value": {"doubleValue": v}})
            else:
                points.append({"interval": {"endTime": now}, "value": {"int64Value": str(int(v))}})
        series = [{"metric": {"type": metric}, "points": points}] if points else []
        self._send(200, {"timeSeries": series})

    # ------------------------------------------------------------ models and endpoints
    def _operation(self, parent: str, kind: str, response: dict) -> None:
        self._send(200, {"name": f"{parent}/operations/{next(self.fake.ids)}", "done": True,
                         "response": {"@type": f"type.googleapis.com/google.cloud.aiplatform.v1.{kind}", **response}})

    def _upload_model(self, fake: FakeGoogle, parent: str, body: dict) -> None:
        model_id = str(next(fake.ids))
        name = f"{parent}/models/{model_id}"
        fake.models[name] = {**body["model"], "name": name, "versionId": "1",
                             "supportedDeploymentResourcesTypes": [1]}
        self._operation(parent, "UploadModelResponse", {"model": name, "modelVersionId": "1"})

    def _endpoint(self, fake: FakeGoogle, name: str, rest: str, query: dict, body) -> None:
        ep = fake.endpoints[name]
        parent = name.rsplit("/endpoints/", 1)[0]
        if rest.endswith(":deployModel"):
            deployed = dict(body["deployedModel"])
            if deployed.get("model") not in fake.models and deployed.get("model", "").split("@")[0] not in fake.models:
                return self._error(404, f"model {deployed.get('model')} not found", "NOT_FOUND")
            deployed["id"] = str(next(fake.ids))
            split = {deployed["id"] if k == "0" else k: v for k, v in (body.get("trafficSplit") or {"0": 100}).items()}
            if sum(split.values()) != 100:
                return self._error(400, f"traffic split must sum to 100: {split}", "INVALID_ARGUMENT")
            ep["deployedModels"].append(deployed)
            ep["trafficSplit"] = split
            return self._operation(parent, "DeployModelResponse", {"deployedModel": deployed})
        if rest.endswith(":undeployModel"):
            model_id = body["deployedModelId"]
            if model_id not in {d["id"] for d in ep["deployedModels"]}:
                return self._error(404, f"deployed model {model_id} not found", "NOT_FOUND")
            split = body.get("trafficSplit")
            if split is None:
                if ep["trafficSplit"].get(model_id, 0) > 0 and len(ep["deployedModels"]) > 1:
                    return self._error(400, "the model being undeployed has traffic; give a new traffic split",
                                       "INVALID_ARGUMENT")
                split = {k: v for k, v in ep["trafficSplit"].items() if k != model_id}
            ep["deployedModels"] = [d for d in ep["deployedModels"] if d["id"] != model_id]
            ep["trafficSplit"] = {k: v for k, v in split.items() if k != model_id}
            return self._operation(parent, "UndeployModelResponse", {})
        if rest.endswith(":predict"):
            live = [k for k, v in sorted(ep["trafficSplit"].items()) if v > 0]
            if not live:
                return self._error(400, "the endpoint has no deployed model with traffic", "FAILED_PRECONDITION")
            weights = [(k, ep["trafficSplit"][k]) for k in live]
            ep["_served"] = ep.get("_served", 0) + 1
            slot, chosen = ep["_served"] % 100, weights[-1][0]
            for k, w in weights:
                if slot < w:
                    chosen = k
                    break
                slot -= w
            if chosen in fake.predict_fail:
                return self._error(500, "model server error", "INTERNAL")
            return self._send(200, {"predictions": [sum(map(float, i)) if isinstance(i, list) else i
                                                    for i in body.get("instances", [])], "deployedModelId": chosen})
        if self.command == "PATCH":
            split = body.get("trafficSplit", {})
            known = {d["id"] for d in ep["deployedModels"]}
            if sum(split.values()) != 100 or not set(split) <= known:
                return self._error(400, f"bad traffic split {split} (deployed: {sorted(known)})", "INVALID_ARGUMENT")
            ep["trafficSplit"] = dict(split)
            return self._send(200, ep)
        return self._send(200, {k: v for k, v in ep.items() if not k.startswith("_")})


@contextlib.contextmanager
def serve():
    """(url, fake): the stand-in on a free loopback port for the duration of the block."""
    fake = FakeGoogle()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", fake
    finally:
        server.shutdown()
        server.server_close()
