"""A small, seeded image classifier (8x8 digits shipped with scikit-learn) that trains in seconds on a CPU.

The terraml job contract, the same on every backend:
  TERRAML_CHECKPOINT_DIR   write checkpoints here; on start, resume from the newest one
  TERRAML_MODEL_DIR        write the final model here (an MLflow model, so it can be served)
  TERRAML_METRICS_FILE     append one JSON object per line: {"step": ..., "<metric>": ...}
  TERRAML_HYPERPARAMETERS  JSON object of the job's hyperparameters

Every epoch is a pure function of (checkpoint, epoch number), so a run that is interrupted and resumed
from its checkpoints ends with exactly the same model as one that never was.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

SEED = 7


def env_dir(name: str, default: str) -> Path:
    path = Path(os.environ.get(name, default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_checkpoint(directory: Path, state: dict) -> None:
    tmp = directory / "checkpoint.pkl.tmp"
    tmp.write_bytes(pickle.dumps(state))
    os.replace(tmp, directory / "checkpoint.pkl")  # atomic: a kill never leaves half a checkpoint


def load_checkpoint(directory: Path) -> dict | None:
    path = directory / "checkpoint.pkl"
    return pickle.loads(path.read_bytes()) if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    hp = json.loads(os.environ.get("TERRAML_HYPERPARAMETERS", "{}"))
    lr, batch_size = float(hp.get("lr", 0.001)), int(hp.get("batch_size", 64))
    checkpoints = env_dir("TERRAML_CHECKPOINT_DIR", "checkpoints")
    model_dir = Path(os.environ.get("TERRAML_MODEL_DIR", "model"))
    metrics_file = Path(os.environ.get("TERRAML_METRICS_FILE", "metrics.jsonl"))

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)

    state = load_checkpoint(checkpoints)
    if state is None:
        model = MLPClassifier(hidden_layer_sizes=(128,), learning_rate_init=lr, random_state=SEED)
        state = {"epoch": 0, "model": model}
        print(f"starting fresh: {args.epochs} epochs, lr={lr}, batch_size={batch_size}", flush=True)
    else:
        print(f"resuming from checkpoint after epoch {state['epoch']}", flush=True)
    model = state["model"]
    classes = np.unique(y)
    for epoch in range(state["epoch"] + 1, args.epochs + 1):
        started = time.perf_counter()
        order = np.random.default_rng(SEED + epoch).permutation(len(x_train))
        for _ in range(20):  # passes over the data per epoch, enough to make an epoch take a moment
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                model.partial_fit(x_train[batch], y_train[batch], classes=classes)
        train_acc, val_acc = model.score(x_train, y_train), model.score(x_val, y_val)
        # Metrics before the checkpoint: a kill in between repeats the epoch (its metric is logged
        # twice and kept once), never loses it.
        with metrics_file.open("a") as f:
            f.write(json.dumps({"step": epoch, "train_accuracy": train_acc, "val_accuracy": val_acc}) + "\n")
        save_checkpoint(checkpoints, {"epoch": epoch, "model": model})
        print(f"epoch {epoch}/{args.epochs}: train_accuracy={train_acc:.4f} val_accuracy={val_acc:.4f} "
              f"({time.perf_counter() - started:.2f}s)", flush=True)

    import mlflow.sklearn  # only at the end: the import takes a moment

    if model_dir.exists():
        import shutil

        shutil.rmtree(model_dir)
    # skops instead of pickle: loading the model cannot run arbitrary code; the optimizer is the one
    # non-standard type inside, named here as trusted.
    # The requirements are named, not inferred: MLflow's inference starts a second Python that imports the
    # model again (about 11 s of a demo's train).
    from importlib.metadata import version

    requirements = [f"{dist}=={version(dist)}" for dist in ("mlflow", "scikit-learn", "skops", "numpy")]
    mlflow.sklearn.save_model(model, str(model_dir), serialization_format="skops", input_example=x_val[:2],
                              skops_trusted_types=["sklearn.neural_network._stochastic_optimizers.AdamOptimizer"],
                              pip_requirements=requirements)
    print(f"model saved to {model_dir}", flush=True)


if __name__ == "__main__":
    main()
