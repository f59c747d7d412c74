"""The local backend's side of the job contract (tests/test_clouds.py): local needs no fake, it is the
real thing on this machine; the job is the reference one, renamed and cut to one epoch."""

from __future__ import annotations

import contextlib
import shutil

from terraml.providers.local.backend import LocalBackend

from ..conftest import ROOT


@contextlib.contextmanager
def job_backend(tmp_path, platform):
    """(backend, job file) for the contract; sqlite MLflow store in the terraml home."""
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    text = (ROOT / "examples" / "job.yaml").read_text().replace("--epochs 5", "--epochs 1")
    (tmp_path / "job.yaml").write_text(text.replace("name: image-classifier", "name: contract-job"))
    yield LocalBackend(tmp_path / "home"), tmp_path / "job.yaml"
