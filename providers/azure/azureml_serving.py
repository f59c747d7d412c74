"""Azure ML online endpoints: managed online deployments, the traffic split of a canary, and what terraml's
rollout watcher (terraml.rollout) needs to roll a canary back: Azure Monitor metrics of the canary
deployment and the endpoint's traffic.

Mixed into AzureMLBackend (azureml.py), which supplies the clients, the spec and the tracking URI.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass

from terraml.backend import Deployment, EndpointStatus
from terraml.errors import UserError
from terraml.naming import fit
from terraml.rollout import CanarySample
from terraml.suggest import did_you_mean

METRICS_API = "2023-10-01"
METRICS_WINDOW = "PT5M"


def deployment_name(model: str, version: str) -> str:
    """An online deployment's name for a model version: 3-32 letters, digits and '-', starting with a letter."""
    base = re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-") or "model"
    if not base[0].isalpha():
        base = f"m-{base}"
    tail = f"-v{version}"
    return fit(base, 32 - len(tail)).rstrip("-") + tail


@dataclass
class AzureMonitorMetrics:
    """The canary deployment's last minute of RequestsPerMinute (split by status code class) and
    RequestLatency_P99, from Azure Monitor (Microsoft.Insights/metrics on the online endpoint) through an ARM
    pipeline GET. Azure Monitor publishes endpoint metrics with a delay of about a minute."""

    backend: object
    endpoint_id: str
    deployment: str

    def _get(self, metric: str, aggregation: str, flt: str) -> list[dict]:
        body = self.backend._arm_call("GET", f"{self.endpoint_id}/providers/Microsoft.Insights/metrics", {
            "api-version": METRICS_API, "metricnames": metric, "timespan": METRICS_WINDOW, "interval": "PT1M",
            "aggregation": aggregation, "$filter": flt})
        return body.get("value", [])

    def sample(self) -> CanarySample:
        dep = f"deployment eq '{self.deployment}'"
        total = errors = 0.0
        for metric in self._get("RequestsPerMinute", "Total", f"{dep} and statusCodeClass eq '*'"):
            for series in metric.get("timeseries", []):
                points = [p for p in series.get("data", []) if p.get("total") is not None]
                value = points[-1]["total"] if points else 0.0
                klass = {m["name"]["value"].lower(): m["value"] for m in series.get("metadatavalues", [])}
                total += value
                if klass.get("statuscodeclass") == "5xx":
                    errors += value
        p99 = None
        for metric in self._get("RequestLatency_P99", "Average", dep):
            for series in metric.get("timeseries", []):
                points = [p for p in series.get("data", []) if p.get("average") is not None]
                if points:
                    p99 = points[-1]["average"]
        return CanarySample(requests=int(total), error_percent=(errors / total * 100) if total else None,
                            p99_latency_ms=p99)


@dataclass
class AzureTrafficControl:
    """The endpoint's traffic split between the previous deployment and the canary."""

    backend: object
    team: str
    endpoint: str
    canary: str
    previous: str

    def _switch(self, keep: str, drop: str) -> None:
        ml = self.backend.client(self.team)
        ep = self.backend._sdk(f"get endpoint {self.endpoint}", lambda: ml.online_endpoints.get(self.endpoint))
        ep.traffic = {keep: 100}
        self.backend._sdk(f"traffic of {self.endpoint}",
                          lambda: ml.online_endpoints.begin_create_or_update(ep).result())
        self.backend._sdk(f"delete deployment {drop}", lambda: ml.online_deployments.begin_delete(
            name=drop, endpoint_name=self.endpoint).result())

    def rollback(self) -> None:
        self._switch(self.previous, self.canary)

    def promote(self) -> None:
        self._switch(self.canary, self.previous)


class AzureMLServing:
    """deploy, invoke, list_endpoints, undeploy and canary_controls of the Azure ML backend."""

    def _endpoint_spec(self, endpoint: str):
        found = [(t, ep) for t in self._teams() for ep in t.clouds.azure.endpoints if ep.name == endpoint]
        if len(found) != 1:
            names = [ep.name for t in self._teams() for ep in t.clouds.azure.endpoints]
            if not found:
                raise UserError(f"--endpoint: '{endpoint}' is not an Azure endpoint in the platform spec"
                                f"{did_you_mean(endpoint, names)} Endpoints: {', '.join(names) or 'none'}.")
            raise UserError(f"--endpoint: '{endpoint}' belongs to several teams; pass --team.")
        return found[0]

    def _online_endpoint(self, team, endpoint_name: str):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._sdk(f"get endpoint {endpoint_name}",
                             lambda: self.client(team.name).online_endpoints.get(endpoint_name),
                             passthrough=(ResourceNotFoundError,))
        except ResourceNotFoundError:
            raise UserError(f"online endpoint {endpoint_name} does not exist yet; deploy the team stack first: "
                            f"npx cdktn deploy {team.name}-azure") from None

    def deploy(self, model: str, version: str, endpoint: str, canary_percent: int | None = None) -> Deployment:
        from azure.ai.ml.entities import ManagedOnlineDeployment, Model

        from terraml.model_registry import version_to_deploy

        team, ep = self._endpoint_spec(endpoint)
        # Azure ML serves the registered model itself (its environment, not an image tag).
        mv = version_to_deploy(self.tracking_uri or self.workspace_tracking_uri(team), model, version,
                               cloud=self.NAME, service="Azure ML", source_scheme="azureml://", needs_image=False)
        ml = self.client(team.name)
        endpoint_name = self.names(team).ml_endpoint(ep.name)
        online = self._online_endpoint(team, endpoint_name)
        tags = {"terraml:model": model, "terraml:version": str(version),
                "terraml:training-job": (mv.tags or {}).get("terraml.training_job", "")}
        registered = self._sdk(f"register model {model} v{version}", lambda: ml.models.create_or_update(Model(
            name=model, version=str(version), path=mv.source, type="mlflow_model", tags=tags)))
        name = deployment_name(model, str(version))
        self._sdk(f"create deployment {name}", lambda: ml.online_deployments.begin_create_or_update(
            ManagedOnlineDeployment(name=name, endpoint_name=endpoint_name, model=registered.id,
                                    instance_type=ep.instance_type, instance_count=ep.min_replicas,
                                    tags=tags)).result())
        previous = sorted(((share, d) for d, share in (online.traffic or {}).items() if share and d != name),
                          reverse=True)
        if canary_percent and previous:
            old = previous[0][1]
            traffic = {name: canary_percent, old: 100 - canary_percent}
            how = (f"canary: {canary_percent}% to {name}, {100 - canary_percent}% stays on {old}; terraml's rollout "
                   f"watcher rolls back on the endpoint's rollout thresholds")
        else:
            traffic = {name: 100}
            how = ("first deployment on the endpoint: it takes all traffic" if not previous
                   else f"all traffic to {name}")
        online.traffic = traffic
        self._sdk(f"traffic of {endpoint_name}", lambda: ml.online_endpoints.begin_create_or_update(online).result())
        if not (canary_percent and previous):
            for _, old in previous:  # replaced outright: the old deployments stop billing
                self._sdk(f"delete deployment {old}", lambda o=old: ml.online_deployments.begin_delete(
                    name=o, endpoint_name=endpoint_name).result())
        return Deployment(endpoint, model, str(version), getattr(online, "scoring_uri", None),
                          f"deployed {model} v{version} to {endpoint_name} as {name} ({ep.instance_type} x "
                          f"{ep.min_replicas}); {how}")

    def canary_controls(self, deployment: Deployment):
        team, ep = self._endpoint_spec(deployment.endpoint)
        endpoint_name = self.names(team).ml_endpoint(ep.name)
        online = self._online_endpoint(team, endpoint_name)
        canary = deployment_name(deployment.model, deployment.version)
        traffic = online.traffic or {}
        others = sorted(((share, d) for d, share in traffic.items() if share and d != canary), reverse=True)
        if not traffic.get(canary) or not others:
            return None  # not a canary: the version took all traffic
        previous = others[0][1]
        if self.metrics_factory is not None:
            metrics = self.metrics_factory(self, endpoint_name, canary)
        else:
            metrics = AzureMonitorMetrics(self, f"{self._workspace_path(team)}/onlineEndpoints/{endpoint_name}", canary)
        return (metrics, AzureTrafficControl(self, team.name, endpoint_name, canary, previous),
                ep.rollout.thresholds())

    def invoke(self, endpoint: str, payload: dict) -> dict:
        team, ep = self._endpoint_spec(endpoint)
        endpoint_name = self.names(team).ml_endpoint(ep.name)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(payload, f)
            f.flush()
            text = self._sdk(f"invoke {endpoint_name}", lambda: self.client(team.name).online_endpoints.invoke(
                endpoint_name=endpoint_name, request_file=f.name))
        try:
            return json.loads(text)
        except ValueError:
            return {"raw": text}

    def list_endpoints(self) -> list[EndpointStatus]:
        from azure.core.exceptions import ResourceNotFoundError

        out = []
        for team in self._teams():
            ml = self.client(team.name)
            for ep in team.clouds.azure.endpoints:
                name = self.names(team).ml_endpoint(ep.name)
                try:
                    online = self._sdk(f"get endpoint {name}", lambda n=name, c=ml: c.online_endpoints.get(n),
                                       passthrough=(ResourceNotFoundError,))
                except ResourceNotFoundError:
                    out.append(EndpointStatus(ep.name, team.name, "not deployed (deploy the team stack)"))
                    continue
                traffic = {d: s for d, s in (online.traffic or {}).items() if s}
                if not traffic:
                    out.append(EndpointStatus(ep.name, team.name, "no deployment", url=online.scoring_uri))
                    continue
                top = max(traffic, key=traffic.get)
                dep = self._sdk(f"get deployment {top}", lambda t=top, n=name, c=ml:
                                c.online_deployments.get(t, n))
                tags = dep.tags or {}
                split = ", ".join(f"{d} {s}%" for d, s in sorted(traffic.items()))
                state = getattr(online.provisioning_state, "value", online.provisioning_state)
                out.append(EndpointStatus(ep.name, team.name, f"{state} ({split})",
                                          model=tags.get("terraml:model"), version=tags.get("terraml:version"),
                                          url=online.scoring_uri))
        return out

    def undeploy(self, endpoint: str) -> bool:
        team, ep = self._endpoint_spec(endpoint)
        name = self.names(team).ml_endpoint(ep.name)
        ml = self.client(team.name)
        online = self._online_endpoint(team, name)
        deployments = self._sdk(f"list deployments of {name}", lambda: list(ml.online_deployments.list(name)))
        if not deployments:
            return False
        if any(online.traffic.values() if online.traffic else []):
            online.traffic = {}
            self._sdk(f"traffic of {name}", lambda: ml.online_endpoints.begin_create_or_update(online).result())
        for d in deployments:
            self._sdk(f"delete deployment {d.name}", lambda d=d: ml.online_deployments.begin_delete(
                name=d.name, endpoint_name=name).result())
        return True
