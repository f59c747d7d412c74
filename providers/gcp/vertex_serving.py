"""Model rollouts on the team's Vertex AI endpoints: upload, deploy, canary traffic splits, and what terraml's
rollout watcher (terraml.rollout) needs to roll a canary back: Cloud Monitoring metrics and the traffic split.

The endpoints are the stack's (GcpNames.endpoint_id: the id the nlp-gcp stack gives each spec endpoint);
deploy never creates one. A canary is the new deployed model taking N% of the endpoint's traffic next to
the model that served before; canary_controls() finds both again from the endpoint, so a rollout can be
watched (or rolled back) by another process than the one that deployed it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import google.cloud.aiplatform_v1 as aiplatform_v1

from terraml.backend import Deployment, EndpointStatus
from terraml.errors import ProviderError, UserError
from terraml.naming import team_tags
from terraml.providers.gcp.labels import label_value, labels_from_tags
from terraml.providers.gcp.machines import gpus_for
from terraml.providers.gcp.names import GcpNames
from terraml.providers.gcp.vertex_request import accelerator_enum
from terraml.rollout import CanarySample
from terraml.suggest import did_you_mean

WINDOW_S = 60
"""Each metrics sample covers the last minute (Cloud Monitoring samples Vertex AI's prediction metrics every
60 s)."""
METRICS = "aiplatform.googleapis.com/prediction/online/"


def endpoint_spec(backend, endpoint: str):
    """(team, endpoint spec) for a spec endpoint name on GCP (of --team, when given)."""
    found = [(t, ep) for t in backend.platform.teams if t.clouds.gcp is not None for ep in t.clouds.gcp.endpoints
             if ep.name == endpoint and (backend.team_name is None or t.name == backend.team_name)]
    if len(found) == 1:
        return found[0]
    names = [ep.name for t in backend.platform.teams if t.clouds.gcp for ep in t.clouds.gcp.endpoints]
    if not found:
        raise UserError(f"--endpoint: '{endpoint}' is not a GCP endpoint in the platform spec"
                        f"{did_you_mean(endpoint, names)} Endpoints: {', '.join(names) or 'none'}.")
    raise UserError(f"--endpoint: '{endpoint}' belongs to several teams; pass --team.")


@dataclass(frozen=True)
class Where:
    team: object
    spec: object
    project: str
    region: str
    name: str
    """projects/<p>/locations/<r>/endpoints/<id>"""
    display_name: str
    serving_account: str


def where(backend, endpoint: str) -> Where:
    team, ep = endpoint_spec(backend, endpoint)
    return _where_for(backend, team, ep)


def get_endpoint(backend, w: Where, *, missing_ok: bool = False):
    from google.api_core import exceptions as gexc

    try:
        return backend.client("endpoint", w.region).get_endpoint(name=w.name)
    except gexc.NotFound:
        if missing_ok:
            return None
        raise UserError(f"Vertex AI endpoint {w.display_name} ({w.name}) does not exist yet; deploy the team stack "
                        f"first: npx cdktn deploy {w.team.name}-gcp") from None
    except gexc.GoogleAPICallError as exc:
        raise ProviderError(f"GetEndpoint {w.name}: {exc}") from None


def _display(model: str, version: str) -> str:
    return f"{model}-v{version}"[:128]


def deploy(backend, model: str, version: str, endpoint: str, canary_percent: int | None) -> Deployment:
    from terraml.model_registry import version_to_deploy

    mv = version_to_deploy(backend.tracking_uri, model, version, cloud=backend.NAME, service="Vertex AI",
                           source_scheme="gs://")
    image = mv.tags["terraml.image"]
    w = where(backend, endpoint)
    current = get_endpoint(backend, w)
    serving = {k: v for k, v in current.traffic_split.items() if v > 0}
    if canary_percent and len(serving) > 1:
        raise UserError(f"endpoint {endpoint} already splits traffic between {len(serving)} models (a canary not "
                        "yet promoted or rolled back); finish that rollout first.")
    labels = {**labels_from_tags(team_tags(backend.platform, w.team)), "terraml-model": label_value(model),
              "terraml-version": label_value(version)}
    uploaded = backend._call("UploadModel", lambda: backend.client("model", w.region).upload_model(request=dict(
        parent=f"projects/{w.project}/locations/{w.region}", service_account=w.serving_account,
        model=aiplatform_v1.Model(display_name=_display(model, version), artifact_uri=mv.source, labels=labels,
                                  container_spec=aiplatform_v1.ModelContainerSpec(image_uri=image)))).result())
    ep = w.spec
    machine = aiplatform_v1.MachineSpec(machine_type=ep.machine_type)
    gpus, _ = gpus_for(ep.machine_type, ep.accelerator, ep.accelerator_count)
    if gpus is not None:
        machine = aiplatform_v1.MachineSpec(machine_type=ep.machine_type, accelerator_type=accelerator_enum(
            gpus.gce_type), accelerator_count=gpus.count)
    deployed = aiplatform_v1.DeployedModel(
        model=uploaded.model, display_name=_display(model, version), service_account=w.serving_account,
        dedicated_resources=aiplatform_v1.DedicatedResources(machine_spec=machine, min_replica_count=ep.min_replicas,
                                                             max_replica_count=ep.max_replicas))
    previous = max(serving, key=serving.get) if serving else None
    split = {"0": canary_percent, previous: 100 - canary_percent} if canary_percent and previous else {"0": 100}
    result = backend._call("DeployModel", lambda: backend.client("endpoint", w.region).deploy_model(
        endpoint=w.name, deployed_model=deployed, traffic_split=split).result())
    url = f"{backend.api_endpoint or f'https://{w.region}-aiplatform.googleapis.com'}/v1/{w.name}:predict"
    if canary_percent and previous:
        return Deployment(endpoint, model, version, url,
                          f"canary: {model} v{version} (deployed model {result.deployed_model.id}) takes "
                          f"{canary_percent}% of {w.display_name}, the previous model {previous} "
                          f"{100 - canary_percent}%; terraml's rollout watcher rolls it back on the spec's "
                          f"thresholds (error rate, p99 latency) or promotes it after "
                          f"{ep.rollout.bake_minutes:g} min")
    for old in [d.id for d in current.deployed_models]:  # all at once: the old models stop costing money
        backend._call("UndeployModel", backend.client("endpoint", w.region).undeploy_model, endpoint=w.name,
                      deployed_model_id=old)
    first = " (no model served before, so no canary)" if canary_percent else ""
    return Deployment(endpoint, model, version, url, f"serving {model} v{version} on {w.display_name} (deployed "
                                                     f"model {result.deployed_model.id}, 100% of traffic){first}")


class VertexTraffic:
    """The endpoint's traffic split between the canary and the model it may replace (TrafficControl)."""

    def __init__(self, backend, w: Where, canary: str, previous: str):
        self.backend, self.w, self.canary, self.previous = backend, w, canary, previous

    def _switch(self, to: str, drop: str) -> None:
        client = self.backend.client("endpoint", self.w.region)
        endpoint = aiplatform_v1.Endpoint(name=self.w.name, traffic_split={to: 100})
        self.backend._call("UpdateEndpoint trafficSplit", client.update_endpoint, endpoint=endpoint,
                           update_mask={"paths": ["traffic_split"]})
        # Traffic has moved (what the rollout deadline measures); the undeploy goes on as its own operation.
        self.backend._call("UndeployModel", client.undeploy_model, endpoint=self.w.name, deployed_model_id=drop,
                           traffic_split={to: 100})

    def rollback(self) -> None:
        self._switch(self.previous, self.canary)

    def promote(self) -> None:
        self._switch(self.canary, self.previous)


METRICS_TIMEOUT_S = 20.0
"""The longest wait for one metrics read: the rollout watcher must act within 120 s of a breach."""


class MonitoringCanaryMetrics:
    """The canary's error rate and p99 latency over the last minute, from Cloud Monitoring (MetricsSource).

    Read through the Monitoring API's REST surface (projects.timeSeries.list) with the backend's credentials:
    google-cloud-monitoring's client speaks gRPC only, which a regional or loopback REST endpoint cannot serve.
    """

    def __init__(self, backend, w: Where, canary: str, *, clock=time.time):
        self.backend, self.w, self.canary, self.clock = backend, w, canary, clock

    def _points(self, metric: str, aligner: str) -> list[float]:
        now = self.clock()
        endpoint_id = self.w.name.rsplit("/", 1)[1]
        params = {
            "filter": (f'metric.type="{METRICS}{metric}" AND resource.labels.endpoint_id="{endpoint_id}" '
                       f'AND metric.labels.deployed_model_id="{self.canary}"'),
            "interval.startTime": _rfc3339(now - WINDOW_S), "interval.endTime": _rfc3339(now),
            "aggregation.alignmentPeriod": f"{WINDOW_S}s", "aggregation.perSeriesAligner": aligner,
        }
        url = f"{self.backend.google_api('monitoring')}/v3/projects/{self.w.project}/timeSeries"
        response = self.backend.http(f"Cloud Monitoring timeSeries.list {metric}", "GET", url, params=params,
                                     timeout_s=min(METRICS_TIMEOUT_S, self.backend.http_timeout_s))
        if not response.ok:
            raise ProviderError(f"Cloud Monitoring timeSeries.list {metric}: {response.status_code} "
                                f"{response.text[:300]}")
        out = []
        for series in response.json().get("timeSeries", []):
            for point in series.get("points", []):
                value = point.get("value", {})
                out.append(float(value.get("doubleValue", value.get("int64Value", 0))))
        return out

    def sample(self) -> CanarySample:
        responses = sum(self._points("response_count", "ALIGN_SUM"))
        errors = sum(self._points("error_count", "ALIGN_SUM"))
        latencies = self._points("prediction_latencies", "ALIGN_PERCENTILE_99")
        return CanarySample(requests=int(responses),
                            error_percent=errors / responses * 100 if responses else None,
                            p99_latency_ms=max(latencies) if latencies else None)


def _rfc3339(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canary_controls(backend, deployment: Deployment):
    """(metrics, traffic, thresholds) for a canary that is splitting traffic now; None otherwise."""
    w = where(backend, deployment.endpoint)
    current = get_endpoint(backend, w)
    by_name = {d.display_name: d.id for d in current.deployed_models}
    canary = by_name.get(_display(deployment.model, deployment.version))
    others = [k for k, v in current.traffic_split.items() if v > 0 and k != canary]
    if canary is None or current.traffic_split.get(canary, 0) in (0, 100) or len(others) != 1:
        return None
    metrics = (backend.metrics_source_factory(backend, deployment, canary) if backend.metrics_source_factory
               else MonitoringCanaryMetrics(backend, w, canary))
    return metrics, VertexTraffic(backend, w, canary, others[0]), w.spec.rollout.thresholds()


def invoke(backend, endpoint: str, payload: dict) -> dict:
    from google.protobuf import json_format, struct_pb2

    w = where(backend, endpoint)
    instances = payload.get("instances", payload.get("inputs"))
    if not isinstance(instances, list):
        raise UserError('--data: a Vertex AI endpoint takes {"instances": [...]} (or {"inputs": [...]}).')
    values = [json_format.ParseDict(i, struct_pb2.Value()) for i in instances]
    params = json_format.ParseDict(payload["parameters"], struct_pb2.Value()) if "parameters" in payload else None
    response = backend._call(f"Predict {w.display_name}", backend.client("prediction", w.region).predict,
                             endpoint=w.name, instances=values, parameters=params)
    return {"predictions": [json_format.MessageToDict(v._pb if hasattr(v, "_pb") else v) if not
                            isinstance(v, (int, float, str, bool, list, dict)) else v for v in response.predictions],
            "deployed_model_id": response.deployed_model_id}


def list_endpoints(backend) -> list[EndpointStatus]:
    out = []
    for team in backend.platform.teams:
        if team.clouds.gcp is None or (backend.team_name and team.name != backend.team_name):
            continue
        for ep in team.clouds.gcp.endpoints:
            w = _where_for(backend, team, ep)
            current = get_endpoint(backend, w, missing_ok=True)
            if current is None:
                out.append(EndpointStatus(ep.name, team.name, "not deployed (deploy the team stack)"))
                continue
            split = {k: v for k, v in current.traffic_split.items() if v > 0}
            names = {d.id: d.display_name for d in current.deployed_models}
            top = max(split, key=split.get) if split else None
            model, _, version = (names.get(top, "").rpartition("-v") if top else ("", "", ""))
            state = ("serving" if len(split) == 1 else f"canary {split}") if split else "no model deployed"
            out.append(EndpointStatus(ep.name, team.name, state, model or None, version or None,
                                      f"{backend.api_endpoint or 'https://' + w.region + '-aiplatform.googleapis.com'}"
                                      f"/v1/{w.name}:predict"))
    return out


def _where_for(backend, team, ep) -> Where:
    gcp, names = team.clouds.gcp, GcpNames.for_team(backend.platform, team)
    return Where(team, ep, gcp.project, gcp.region,
                 f"projects/{gcp.project}/locations/{gcp.region}/endpoints/{names.endpoint_id(ep.name)}",
                 names.endpoint(ep.name), f"{names.serving_service_account}@{gcp.project}.iam.gserviceaccount.com")


def undeploy(backend, endpoint: str) -> bool:
    """Undeploy every model from the endpoint (the endpoint itself belongs to the stack); False when none was."""
    w = where(backend, endpoint)
    current = get_endpoint(backend, w)
    deployed = [d.id for d in current.deployed_models]
    if not deployed:
        return False
    client = backend.client("endpoint", w.region)
    keep = deployed[-1]
    if len(deployed) > 1:
        backend._call("UpdateEndpoint trafficSplit", client.update_endpoint,
                      endpoint=aiplatform_v1.Endpoint(name=w.name, traffic_split={keep: 100}),
                      update_mask={"paths": ["traffic_split"]})
    for model_id in [*deployed[:-1], keep]:
        backend._call("UndeployModel", lambda m=model_id: client.undeploy_model(
            endpoint=w.name, deployed_model_id=m).result())
    return True
