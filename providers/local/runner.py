"""The supervisor of one local job: `python -m terraml.providers.local.runner HOME NAME`.

Runs the entrypoint in the source folder with the terraml environment contract, appends its output to
the job's log, simulates spot reclaims for real (SIGTERM to the training process once it has written a
new checkpoint; the next attempt resumes from it), applies the spot decision after each interruption,
and on success records params, metrics and the model to MLflow and registers the model.
Only this process writes the job record while the job runs.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from terraml.backend import State
from terraml.policy.spot import decide
from terraml.providers.local.store import JobPaths, JobStore, start_time
from terraml.spec.job import JobSpot

POLL_S = 0.02


class Supervisor:
    def __init__(self, store: JobStore, name: str):
        self.store, self.name = store, name
        self.paths: JobPaths = store.paths(name)
        self.record = store.read(name)
        self.cancelled = False
        self.log_file = self.paths.logs.open("a", buffering=1)

    def log(self, line: str) -> None:
        self.log_file.write(f"[terraml] {line}\n")

    def save(self, **changes) -> None:
        self.record.update(changes)
        self.store.write(self.name, self.record)

    def _on_sigterm(self, *_):
        self.cancelled = True

    def _command(self) -> list[str]:
        words = shlex.split(self.record["entrypoint"])
        if words and words[0] in ("python", "python3"):
            words[0] = sys.executable  # the interpreter terraml runs in, with the job's dependencies
        return words

    def _env(self, capacity: str, attempt: int) -> dict[str, str]:
        for folder in (self.paths.checkpoints, self.paths.model.parent):
            folder.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ, **self.record.get("environment", {}),
            "TERRAML_JOB_NAME": self.name,
            "TERRAML_TEAM": self.record["team"],
            "TERRAML_CHECKPOINT_DIR": str(self.paths.checkpoints),
            "TERRAML_MODEL_DIR": str(self.paths.model),
            "TERRAML_METRICS_FILE": str(self.paths.metrics),
            "TERRAML_HYPERPARAMETERS": json.dumps(self.record.get("hyperparameters", {})),
            "TERRAML_CAPACITY": capacity,
            "TERRAML_ATTEMPT": str(attempt),
            "PYTHONUNBUFFERED": "1",
        }

    def _newest_checkpoint(self) -> float:
        files = list(self.paths.checkpoints.glob("*")) if self.paths.checkpoints.exists() else []
        return max((f.stat().st_mtime_ns for f in files if not f.name.startswith(".")), default=0)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_sigterm)
        spot = JobSpot(**self.record["spot"])
        runtime_s = self.record["max_runtime_hours"] * 3600
        wait_s = (spot.max_wait_hours or self.record["max_runtime_hours"]) * 3600
        capacity = self.record["capacity"]
        to_simulate = self.record.get("simulate_interruptions", 0)
        interruptions, billable, attempt = 0, 0.0, 0
        started = time.time()
        self.save(state=State.RUNNING.value, runner_pid=os.getpid(), runner_started=start_time(os.getpid()),
                  started_at=started)
        while True:
            attempt += 1
            self.log(f"attempt {attempt} on {capacity} capacity")
            attempt_start, checkpoint_at_start = time.time(), self._newest_checkpoint()
            try:
                proc = subprocess.Popen(self._command(), cwd=self.record["source_dir"], stdout=self.log_file,
                                        stderr=subprocess.STDOUT, env=self._env(capacity, attempt))
            except OSError as exc:  # a program that is not there, a folder that vanished: say which
                return self._end(State.FAILED, f"cannot start `{self.record['entrypoint']}`: {exc.strerror} "
                                               f"({exc.filename or self.record['source_dir']})", started, billable,
                                 interruptions)
            self.save(child_pid=proc.pid, child_started=start_time(proc.pid), state=State.RUNNING.value,
                      capacity=capacity)
            interrupted = False
            while proc.poll() is None:
                if self.cancelled:
                    return self._stop(proc, started, billable + time.time() - attempt_start)
                if time.time() - attempt_start + billable > runtime_s:
                    proc.terminate()
                    proc.wait()
                    return self._end(State.FAILED, f"exceeded max_runtime_hours {self.record['max_runtime_hours']:g}",
                                     started, billable + time.time() - attempt_start, interruptions)
                if capacity == "spot" and to_simulate > 0 and self._newest_checkpoint() > checkpoint_at_start:
                    proc.send_signal(signal.SIGTERM)  # what a spot reclaim does to the process
                    proc.wait()
                    interrupted, to_simulate = True, to_simulate - 1
                    break
                time.sleep(POLL_S)
            billable += time.time() - attempt_start
            if not interrupted:
                break
            interruptions += 1
            self.save(state=State.INTERRUPTED.value, interruptions=interruptions, billable_seconds=billable)
            self.log(f"interruption {interruptions}: spot capacity reclaimed (simulated SIGTERM)")
            if time.time() - started > wait_s:
                return self._end(State.FAILED, f"spot wait exceeded max_wait_hours {spot.max_wait_hours:g}",
                                 started, billable, interruptions)
            decision = decide(spot, max_runtime_hours=self.record["max_runtime_hours"], interruptions=interruptions)
            capacity = decision.capacity
            self.save(capacity=capacity, decision={"capacity": decision.capacity, "reason": decision.reason})
            self.log(f"next attempt on {decision.capacity}: {decision.reason}; resuming from the last checkpoint")
        if proc.returncode != 0:
            return self._end(State.FAILED, f"entrypoint exited with code {proc.returncode}", started, billable,
                             interruptions)
        self.log("entrypoint finished; recording to MLflow")
        try:
            from terraml.providers.local.tracking import record_run

            run_id, version = record_run(self.record, self.paths, interruptions=interruptions)
        except Exception as exc:  # the job itself succeeded; say exactly what failed after it
            return self._end(State.FAILED, f"training succeeded but MLflow recording failed: {exc}", started,
                             billable, interruptions)
        self.save(mlflow_run_id=run_id, model_version=version)
        note = f"; registered {self.record['register_model']} version {version}" if version else ""
        return self._end(State.COMPLETED, f"after {interruptions} interruption(s){note}", started, billable,
                         interruptions)

    def _stop(self, proc: subprocess.Popen, started: float, billable: float) -> int:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        return self._end(State.STOPPED, "cancelled", started, billable, self.record.get("interruptions", 0))

    def _end(self, state: State, message: str, started: float, billable: float, interruptions: int) -> int:
        ended = time.time()
        self.log(f"{state.value}: {message}")
        self.save(state=state.value, message=message, ended_at=ended, training_seconds=round(ended - started, 3),
                  billable_seconds=round(billable, 3), interruptions=interruptions, child_pid=None)
        return 0 if state == State.COMPLETED else 1


def main() -> int:
    home, name = Path(sys.argv[1]), sys.argv[2]
    return Supervisor(JobStore(home), name).run()


if __name__ == "__main__":
    sys.exit(main())
