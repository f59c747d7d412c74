"""Deploy, canary and rollback on a Vertex AI endpoint through the real SDK against the local stand-in: the
endpoint is the one the nlp-gcp stack creates (id from GcpNames); the canary's metrics come from the stand-in's
Cloud Monitoring API, read by the real monitoring client; the rollout watcher runs on an injected clock."""

from __future__ import annotations

import pytest

from terraml.backend import Deployment
from terraml.catalog import load_catalog
from terraml.errors import UserError
from terraml.model_registry import register_version
from terraml.providers.gcp.names import GcpNames
from terraml.providers.gcp.vertex import VertexBackend
from terraml.rollout import ROLLBACK_DEADLINE_S, watch

from .vertex_server import serve

IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/pytorch-gpu.2-5:latest"


def two_trained_versions(tracking: str, names: GcpNames) -> None:
    """summarizer-model v1 and v2 in the registry, as Vertex AI training registers them."""
    for v in (1, 2):
        register_version(tracking, "summarizer-model", f"gs://{names.artifact_bucket}/jobs/j{v}/model",
                         tags={"terraml.image": IMAGE, "terraml.training_job": f"j{v}"})


def stack_endpoint(fake, names: GcpNames) -> str:
    """The summarizer endpoint as the nlp-gcp stack creates it; its resource name in the stand-in."""
    return fake.add_endpoint("acme-nlp-prod", "us-central1", names.endpoint_id("summarizer"),
                             names.endpoint("summarizer"))


@pytest.fixture
def endpoint(tmp_path, example_spec):
    platform = example_spec.platform
    names = GcpNames.for_team(platform, platform.team("nlp"))
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    two_trained_versions(tracking, names)
    with serve() as (url, fake):
        name = stack_endpoint(fake, names)
        backend = VertexBackend(platform, load_catalog(), api_endpoint=url, tracking_uri=tracking)
        yield backend, fake, fake.endpoints[name]


def test_deploy_uploads_the_model_and_deploys_it_on_the_spec_machine(endpoint):
    backend, fake, ep = endpoint
    result = backend.deploy("summarizer-model", "1", "summarizer")
    upload = fake.calls("POST", "models:upload")[0][2]
    assert upload["model"]["artifactUri"].endswith("/jobs/j1/model")
    assert upload["model"]["containerSpec"]["imageUri"] == IMAGE
    deploy = fake.calls("POST", ":deployModel")[0][2]
    resources = deploy["deployedModel"]["dedicatedResources"]
    # the spec's endpoint: g2-standard-8 with one L4, 1-2 replicas
    assert resources["machineSpec"] == {"machineType": "g2-standard-8", "acceleratorType": 11, "acceleratorCount": 1}
    assert (resources["minReplicaCount"], resources["maxReplicaCount"]) == (1, 2)
    assert list(ep["trafficSplit"].values()) == [100] and "100% of traffic" in result.message
    assert backend.invoke("summarizer", {"instances": [[1, 2], [3, 4]]})["predictions"] == [3.0, 7.0]
    [status] = backend.list_endpoints()
    assert (status.endpoint, status.state, status.model, status.version) == ("summarizer", "serving",
                                                                             "summarizer-model", "1")


def _canary(backend, fake, ep):
    backend.deploy("summarizer-model", "1", "summarizer")
    v1 = ep["deployedModels"][0]["id"]
    deployment = backend.deploy("summarizer-model", "2", "summarizer", canary_percent=10)
    v2 = next(d["id"] for d in ep["deployedModels"] if d["id"] != v1)
    assert ep["trafficSplit"] == {v2: 10, v1: 90}
    return deployment, v1, v2


def test_a_canary_that_breaches_is_rolled_back_within_two_minutes(endpoint):
    backend, fake, ep = endpoint
    deployment, v1, v2 = _canary(backend, fake, ep)
    fake.predict_fail.add(v2)
    # What the stand-in's Cloud Monitoring reports for the canary: healthy for two windows, then 5 errors in
    # 100 responses (5% > the spec's default max_error_percent 1%).
    base = "aiplatform.googleapis.com/prediction/online/"
    windows = iter([(0, 40), (0, 40), (5, 100)])
    clock = [1000.0]

    class Source:  # the real Cloud Monitoring source, fed one window at a time
        def __init__(self, real):
            self.real = real

        def sample(self):
            errors, responses = next(windows)
            fake.metrics[base + "error_count"] = {v2: [errors]}
            fake.metrics[base + "response_count"] = {v2: [responses]}
            fake.metrics[base + "prediction_latencies"] = {v2: [120.0]}
            return self.real.sample()

    metrics, traffic, thresholds = backend.canary_controls(deployment)
    assert (thresholds.max_error_percent, thresholds.max_p99_latency_ms, thresholds.bake_minutes) == (1.0, 2000, 10)

    def sleep(s):
        clock[0] += s

    result = watch(Source(metrics), traffic, thresholds, interval_s=30, clock=lambda: clock[0], sleep=sleep)
    assert result.outcome == "rolled back" and "5.00%" in result.reason
    assert result.acted_at - result.breach_at <= ROLLBACK_DEADLINE_S
    assert ep["trafficSplit"] == {v1: 100} and [d["id"] for d in ep["deployedModels"]] == [v1]
    assert fake.calls("GET", "/timeSeries")  # read through the monitoring API
    assert backend.canary_controls(deployment) is None  # nothing left to watch


def test_a_healthy_canary_is_promoted_after_the_bake(endpoint):
    backend, fake, ep = endpoint
    deployment, v1, v2 = _canary(backend, fake, ep)
    base = "aiplatform.googleapis.com/prediction/online/"
    fake.metrics = {base + "error_count": {v2: [0]}, base + "response_count": {v2: [50]},
                    base + "prediction_latencies": {v2: [80.0]}}
    metrics, traffic, thresholds = backend.canary_controls(deployment)
    clock = [0.0]
    result = watch(metrics, traffic, thresholds, interval_s=60, clock=lambda: clock[0],
                   sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    assert result.outcome == "promoted" and clock[0] >= 600
    assert ep["trafficSplit"] == {v2: 100} and [d["id"] for d in ep["deployedModels"]] == [v2]


def test_undeploy_removes_every_model_and_deploy_refuses_foreign_models(endpoint, tmp_path):
    backend, fake, ep = endpoint
    _canary(backend, fake, ep)
    assert backend.undeploy("summarizer") and ep["deployedModels"] == []
    assert not backend.undeploy("summarizer")
    register_version(backend.tracking_uri, "local-model", (tmp_path / "m").as_uri())
    with pytest.raises(UserError, match="not trained on Vertex AI"):
        backend.deploy("local-model", "1", "summarizer")
    with pytest.raises(UserError, match="not a GCP endpoint"):
        backend.deploy("summarizer-model", "1", "summariser")
    assert backend.canary_controls(Deployment("summarizer", "summarizer-model", "1")) is None
