"""The Azure ML backend's side of the job contract (tests/test_clouds.py): the real azure-ai-ml SDK against
the fake Azure ML service (azure_fake.py) through an injected azure-core transport, with the nlp team's
workspace and compute clusters as the nlp-azure stack creates them. The fake runs no containers."""

from __future__ import annotations

import contextlib
import shutil

from terraml.catalog import load_catalog
from terraml.providers.azure.azureml import AzureMLBackend

from ..conftest import ROOT
from .azure_fake import FakeAzureML, FakeCredential


def nlp_job(text: str, name: str) -> str:
    """examples/job.yaml for team nlp on a resource the nlp-azure clusters have (1 x A100-80GB)."""
    return (text.replace("name: image-classifier", f"name: {name}").replace("team: vision", "team: nlp")
            .replace("accelerator: A10G", "accelerator: A100-80GB"))


@contextlib.contextmanager
def job_backend(tmp_path, platform, *, fake: FakeAzureML | None = None, **backend_args):
    fake = fake or FakeAzureML(preemptions=1)
    fake.seed_team(platform, "nlp")
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    (tmp_path / "job.yaml").write_text(nlp_job((ROOT / "examples" / "job.yaml").read_text(), "contract-job"))
    backend = AzureMLBackend(platform, load_catalog(), transport=fake.transport(), credential=FakeCredential(),
                             tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", **backend_args)
    backend.fake = fake
    yield backend, tmp_path / "job.yaml"
