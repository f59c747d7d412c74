"""Serve a registered model version on localhost with MLflow's scoring server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from terraml.errors import ProviderError, UserError
from terraml.fsutil import write_json_atomic
from terraml.localhost import free_port
from terraml.providers.local.store import ours, start_time


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def endpoint_file(folder: Path, endpoint: str) -> Path:
    return folder / f"{endpoint}.json"


def stop(folder: Path, endpoint: str) -> bool:
    path = endpoint_file(folder, endpoint)
    if not path.exists():
        return False
    info = json.loads(path.read_text())
    if ours(info.get("pid"), info.get("started")):  # never signal a pid reused by someone else
        try:
            os.killpg(info["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in range(100):
            if not ours(info["pid"], info.get("started")):
                break
            time.sleep(0.1)
    path.unlink()
    return True


def serve(folder: Path, endpoint: str, model: str, version: str, tracking_uri: str, timeout_s: float = 180) -> dict:
    """Start (or replace) the endpoint's server; returns its record once /ping answers."""
    stop(folder, endpoint)
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / f"{endpoint}.log").open("a")
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{model}/{version}", "-h", "127.0.0.1",
           "-p", str(port), "--env-manager", "local", "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri,
                                 # mlflow starts `uvicorn` by name: find the one beside this interpreter
                                 "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    info = {"endpoint": endpoint, "model": model, "version": version, "url": url, "pid": proc.pid,
            "started": start_time(proc.pid), "started_at": time.time()}
    write_json_atomic(endpoint_file(folder, endpoint), info, mode=0o600)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            endpoint_file(folder, endpoint).unlink(missing_ok=True)
            raise ProviderError(f"the scoring server for {model} v{version} exited with code {proc.returncode}; "
                                f"see {folder / (endpoint + '.log')}")
        if healthy(url):
            return info
        time.sleep(0.25)
    stop(folder, endpoint)
    raise ProviderError(f"the scoring server for {model} v{version} did not answer /ping within {timeout_s:g} s")


def running(folder: Path) -> list[dict]:
    """The records of the endpoints started here, each with 'serving' or 'stopped' as its state."""
    if not folder.exists():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        info = json.loads(path.read_text())
        out.append({**info, "state": "serving" if ours(info.get("pid"), info.get("started")) else "stopped"})
    return out


def invoke(folder: Path, endpoint: str, payload: dict) -> dict:
    path = endpoint_file(folder, endpoint)
    if not path.exists():
        raise UserError(f"no local endpoint '{endpoint}'; deploy one with: terraml deploy MODEL --version N "
                        f"--endpoint {endpoint} --cloud local")
    info = json.loads(path.read_text())
    request = urllib.request.Request(f"{info['url']}/invocations", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise UserError(f"endpoint '{endpoint}' rejected the request ({exc.code}): {exc.read().decode()[:500]}") \
            from None
    except (urllib.error.URLError, OSError) as exc:
        raise ProviderError(f"endpoint '{endpoint}' at {info['url']} is not answering ({exc}); deploy it again") \
            from None
