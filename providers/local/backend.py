"""The local backend: jobs run on this machine, tracked in MLflow, served by MLflow's scoring server.

No cloud account needed. State lives under the terraml home (``.terraml`` by default): job records,
logs, checkpoints, the MLflow store (sqlite) and its artifacts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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
from terraml.cloud import Feature
from terraml.errors import UserError
from terraml.policy.spot import decide
from terraml.providers.local import serving
from terraml.providers.local.store import CorruptRecord, JobStore, ours
from terraml.spec.job import LoadedJob
from terraml.suggest import did_you_mean


def _seconds(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class LocalBackend(Backend):
    NAME = "local"
    MAX_POLL_S = 1.0  # a local job's state is a file read: poll often, so `train` shows progress promptly

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBackend:
        return cls(settings.home, settings.tracking_uri)

    def __init__(self, home: Path, tracking_uri: str | None = None):
        self.home = Path(home).resolve()
        self.store = JobStore(self.home)
        if self.home.exists() and not self.home.is_dir():
            self.store.ensure_home()  # says what is wrong with --home
        self.tracking_uri = tracking_uri or f"sqlite:///{self.home / 'mlflow.db'}"
        self.artifact_root = (self.home / "mlartifacts").as_uri()

    def plan(self, job: LoadedJob) -> JobPlan:
        from terraml.cloud import get

        decision = decide(job.spot, max_runtime_hours=job.job.max_runtime_hours)
        notes = [f"runs `{job.job.entrypoint}` in {job.source_dir}"]
        if job.job.resources.accelerator or job.job.resources.instance_type or job.job.resources.machine_type:
            notes.append(get(self.NAME).unsupported_reason(Feature.ACCELERATORS) or "")
        return JobPlan(job=job, decision=decision, notes=tuple(notes))

    def submit(self, plan: JobPlan, *, simulate_interruptions: int = 0) -> JobHandle:
        job, decision = plan.job, plan.decision
        spec = job.job
        if simulate_interruptions and decision.capacity != "spot":
            raise UserError(f"--simulate-interruptions {simulate_interruptions}: the job runs on on-demand "
                            f"capacity ({decision.reason}), which is never interrupted; use spot.mode spot or auto.")
        self.store.ensure_home()
        record = {
            "backend": self.NAME, "name": spec.name, "team": spec.team, "entrypoint": spec.entrypoint,
            "source_dir": str(job.source_dir), "hyperparameters": spec.hyperparameters,
            "environment": spec.environment, "max_runtime_hours": spec.max_runtime_hours,
            "spot": job.spot.model_dump(), "capacity": decision.capacity,
            "decision": {"capacity": decision.capacity, "reason": decision.reason},
            "register_model": spec.register_model, "simulate_interruptions": simulate_interruptions,
            "tracking_uri": self.tracking_uri, "artifact_root": self.artifact_root,
            "state": State.PENDING.value, "interruptions": 0, "submitted_at": time.time(),
            # What the job asks for (this machine reserves nothing), counted by the team's GPU quota.
            "gpus": spec.resources.accelerator_count * spec.resources.instance_count if spec.resources.accelerator
            else 0,
        }
        if plan.override is not None:  # train --over-budget: who submitted past the budget, and why
            record["override"] = {"by": plan.override.by, "reason": plan.override.reason, "at": plan.override.at}
        if not self.store.create(spec.name, record):
            return JobHandle(self.NAME, spec.name, spec.name, spec.team, existing=True)
        # The runner records its own pid and start time (the only writer of the record from here on);
        # what it prints itself goes to runner.log, so a runner that dies says why.
        with self.store.paths(spec.name).runner_log.open("ab") as runner_log:
            subprocess.Popen([sys.executable, "-m", "terraml.providers.local.runner", str(self.home), spec.name],
                             stdin=subprocess.DEVNULL, stdout=runner_log, stderr=runner_log,
                             start_new_session=True, cwd=self.home)
        return JobHandle(self.NAME, spec.name, spec.name, spec.team)

    def handle(self, name: str) -> JobHandle:
        if not self.store.exists(name):
            names = self.store.names()
            raise UserError(f"no local job named '{name}'{did_you_mean(name, names)} "
                            f"Jobs: {', '.join(names) or 'none'} (in {self.store.jobs}).")
        return JobHandle(self.NAME, name, name, self.store.read(name)["team"])

    def status(self, handle: JobHandle) -> JobStatus:
        r = self.store.read(handle.name)
        state = State(r["state"])
        message = r.get("message", "")
        if not state.terminal and not ours(r.get("runner_pid"), r.get("runner_started")):
            # The record is written before the runner starts; give a just-submitted job a moment.
            if time.time() - r.get("submitted_at", 0) > 10:
                state, message = State.FAILED, self._runner_gone(handle.name)
        details = {"mlflow_run_id": r.get("mlflow_run_id"), "tracking_uri": r["tracking_uri"]}
        if isinstance(r.get("override"), dict):
            details["override"] = r["override"]
        return JobStatus(state=state, message=message or r.get("decision", {}).get("reason", ""),
                         capacity=r.get("capacity"), interruptions=r.get("interruptions", 0),
                         training_seconds=r.get("training_seconds"), billable_seconds=r.get("billable_seconds"),
                         cost_usd=0.0,  # this machine has no bill: a local job costs nothing, so far or ever
                         model_version=r.get("model_version"), submitted_at=_seconds(r.get("submitted_at")),
                         ended_at=_seconds(r.get("ended_at")) if state.terminal else None,
                         gpus=int(r.get("gpus") or 0), details=details)

    def _runner_gone(self, name: str) -> str:
        """Why a job's supervisor is gone: the last thing it printed, when it printed anything."""
        path = self.store.paths(name).runner_log
        lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        cause = f": {lines[-1]} (see {path})" if lines else " (machine restarted or process killed)"
        return f"the job's runner process is gone{cause}"

    def logs(self, handle: JobHandle) -> Iterator[str]:
        path = self.store.paths(handle.name).logs
        if path.exists():
            yield from path.read_text().splitlines()

    def cancel(self, handle: JobHandle) -> None:
        r = self.store.read(handle.name)
        if State(r["state"]).terminal:
            raise UserError(f"job '{handle.name}' has already ended ({r['state']}); nothing to cancel.")
        if not ours(r.get("runner_pid"), r.get("runner_started")):
            raise UserError(f"job '{handle.name}' is not running: {self._runner_gone(handle.name)}; nothing to "
                            "cancel (no process was signalled).")
        os.kill(r["runner_pid"], signal.SIGTERM)  # the runner stops its child and records 'stopped'

    def list_jobs(self) -> JobListing:
        jobs, skipped = [], []
        for name in self.store.names():
            try:
                handle = self.handle(name)
                jobs.append((handle, self.status(handle)))
            except (CorruptRecord, ValueError, KeyError) as exc:  # one bad record never hides the others
                skipped.append(str(exc) if isinstance(exc, CorruptRecord) else
                               str(CorruptRecord(self.store.paths(name).record, f"not a job record ({exc})")))
        return JobListing(jobs, skipped)

    def deploy(self, model: str, version: str, endpoint: str, canary_percent: int | None = None) -> Deployment:
        from terraml.model_registry import model_version

        if canary_percent:
            self.require(Feature.CANARY)
        model_version(self.tracking_uri, model, version)
        self.store.ensure_home()
        info = serving.serve(self.store.endpoints, endpoint, model, version, self.tracking_uri)
        return Deployment(endpoint, model, version, info["url"], f"serving {model} v{version} at {info['url']}")

    def invoke(self, endpoint: str, payload: dict) -> dict:
        return serving.invoke(self.store.endpoints, endpoint, payload)

    def undeploy(self, endpoint: str) -> bool:
        return serving.stop(self.store.endpoints, endpoint)

    def list_endpoints(self) -> list[EndpointStatus]:
        return [EndpointStatus(e["endpoint"], None, e["state"], e.get("model"), e.get("version"), e.get("url"))
                for e in serving.running(self.store.endpoints)]
