"""MLflow for local jobs: params, metrics and the model of a finished run, and registry versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from terraml.model_registry import register_version
from terraml.providers.local.store import JobPaths


def _metrics(path: Path) -> dict[tuple[int, str], float]:
    """Last value per (step, metric): an epoch repeated after an interruption is counted once."""
    values: dict[tuple[int, str], float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            step = int(row.pop("step", 0))
            for key, value in row.items():
                values[(step, key)] = float(value)
    return values


def experiment_id(mlflow, team: str, artifact_root: str) -> str:
    found = mlflow.get_experiment_by_name(team)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(team, artifact_location=artifact_root)


def record_run(record: dict[str, Any], paths: JobPaths, *, interruptions: int) -> tuple[str, str | None]:
    import mlflow

    mlflow.set_tracking_uri(record["tracking_uri"])
    exp = experiment_id(mlflow, record["team"], record["artifact_root"])
    params = {f"hp.{k}": v for k, v in record.get("hyperparameters", {}).items()}
    params.update({"spot.mode": record["spot"]["mode"], "capacity.final": record["capacity"],
                   "interruptions": interruptions})
    with mlflow.start_run(experiment_id=exp, run_name=record["name"]) as run:
        mlflow.set_tags({"terraml.job": record["name"], "terraml.team": record["team"], "terraml.backend": "local"})
        mlflow.log_params(params)
        for (step, key), value in sorted(_metrics(paths.metrics).items()):
            mlflow.log_metric(key, value, step=step)
        if (paths.model / "MLmodel").exists():
            mlflow.log_artifacts(str(paths.model), artifact_path="model")
        mlflow.log_artifact(str(paths.logs))
        run_id = run.info.run_id
        model_source = f"{run.info.artifact_uri}/model"
    version = None
    if record.get("register_model"):
        if not (paths.model / "MLmodel").exists():
            raise RuntimeError(f"register_model is set but the job wrote no MLflow model to {paths.model}")
        version = register_version(record["tracking_uri"], record["register_model"], model_source, run_id=run_id,
                                   tags={"terraml.job": record["name"], "terraml.team": record["team"]})
    return run_id, version
