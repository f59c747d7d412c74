"""Shared fixtures and helpers: the example spec, a synthesized cdktf.out and its estimate, the project's tool
paths, hand-written stacks, and a fake HTTP server for the price APIs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from terraml.localhost import free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "platform.yaml"
SHARED_EXAMPLES = ROOT.parent / "shared" / "examples"
NODE_BIN = ROOT / "node_modules" / "node" / "bin"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
H = 730  # hours in a month, as the estimates count them


def tool_env() -> dict[str, str]:
    """Environment for subprocesses: the project's Node 22 first on PATH, no CLI telemetry."""
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CHECKPOINT_DISABLE"] = "1"
    env.setdefault("JSII_NODE", str(NODE_BIN / "node"))
    return env


@pytest.fixture(scope="session", autouse=True)
def _project_node():
    os.environ.setdefault("JSII_NODE", str(NODE_BIN / "node"))


@pytest.fixture(scope="session")
def example_spec():
    from terraml.spec import load_platform

    return load_platform(EXAMPLE)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory, example_spec) -> Path:
    from terraml.synth import synth

    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synth(example_spec.platform, out)
    return out


@pytest.fixture(scope="session")
def stacks(synth_dir) -> dict[str, dict]:
    return {p.name: json.loads((p / "cdk.tf.json").read_text()) for p in (synth_dir / "stacks").iterdir()}


def need(tool: Path | str) -> str:
    """Path of a tool the Makefile installs; a missing one fails the test (never skips it)."""
    found = shutil.which(str(tool)) if not Path(tool).is_absolute() else (str(tool) if Path(tool).exists() else None)
    if not found:
        pytest.fail(f"{tool} is not installed; run 'make test', which installs it")
    return found


def wait_http(url: str, timeout_s: float = 120) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {timeout_s} s")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real MLflow tracking + registry server on loopback (sqlite store, local artifacts)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--default-artifact-root",
         (root / "artifacts").as_uri(), "--workers", "1"],
        stdout=(root / "server.log").open("w"), stderr=subprocess.STDOUT, env=tool_env())
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on loopback: the AWS endpoint for every boto3 client the tests make."""
    with moto_on_loopback() as url:
        yield url


@contextlib.contextmanager
def moto_on_loopback():
    """Start moto in server mode and point boto3 at it (environment restored afterwards)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def moto_reset(moto_server):
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10)
    return moto_server


@pytest.fixture(scope="module")
def example(synth_dir):
    """The estimate of the synthesized example stacks, priced from the shipped catalog."""
    from terraml.catalog import load_catalog
    from terraml.cost.estimate import estimate
    from terraml.cost.tfjson import read_stacks

    return estimate(read_stacks(synth_dir), load_catalog())


def lines(est, stack, rtype, component=None, contains=""):
    found = [x for x in est.lines if x.stack == stack and x.resource_type == rtype and contains in x.address
             and (component is None or x.component == component)]
    assert found, f"no {rtype} {component} in {stack}"
    return found


def money(line):
    return round(float(line.monthly_min), 4), round(float(line.monthly_max), 4)


def write_stack(tmp_path, name, resources, provider=None):
    """A one-stack Terraform JSON file written under tmp_path, read back as the estimator reads it."""
    from terraml.cost.tfjson import read_stack_file

    doc = {"resource": resources, "provider": provider or {}}
    path = tmp_path / f"{name}.tf.json"
    path.write_text(json.dumps(doc))
    return read_stack_file(path, name)


class FakeApis(BaseHTTPRequestHandler):
    """Answers like the Azure Retail Prices API and the Cloud Billing Catalog, from canned pages."""

    pages: dict[str, dict] = {}
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        FakeApis.seen.append(self.path)
        key = url.path + ("?page=2" if query.get("page") or query.get("pageToken") else "")
        body = json.dumps(FakeApis.pages.get(key, {"Items": []})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApis)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeApis.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def assert_matches_snapshot(stack_json: dict, path: Path) -> None:
    """A synthesized stack against its reviewed snapshot (each cloud keeps its own in tests/<cloud>/snapshots).

    After an intended change, regenerate with `UPDATE_SNAPSHOTS=1 make test`, read the diff, commit it.
    """
    current = json.dumps(stack_json, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(current)
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert current == path.read_text(), f"{path.stem} changed; review the diff, then UPDATE_SNAPSHOTS=1"
