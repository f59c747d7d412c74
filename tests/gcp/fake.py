"""The Vertex AI backend's side of the job contract (tests/test_clouds.py): the real SDK over REST against the
local stand-in (tests/gcp/vertex_server.py), with the team bucket the nlp-gcp stack would create. The job is
the reference one, for the GCP team (nlp) on an accelerator GCP offers (L4)."""

from __future__ import annotations

import contextlib
import shutil

from terraml.catalog import load_catalog
from terraml.providers.gcp.names import GcpNames
from terraml.providers.gcp.vertex import VertexBackend

from ..conftest import ROOT
from .vertex_server import serve


def gcp_job_text(name: str = "contract-job") -> str:
    """examples/job.yaml for team nlp on one L4 (the example's A10G is an AWS GPU)."""
    text = (ROOT / "examples" / "job.yaml").read_text()
    return (text.replace("name: image-classifier", f"name: {name}").replace("team: vision", "team: nlp")
            .replace("accelerator: A10G", "accelerator: L4"))


@contextlib.contextmanager
def job_backend(tmp_path, platform, **kwargs):
    with serve() as (url, fake):
        team = platform.team("nlp")
        fake.add_bucket(GcpNames.for_team(platform, team).artifact_bucket)
        shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
        (tmp_path / "job.yaml").write_text(gcp_job_text())
        backend = VertexBackend(platform, load_catalog(), api_endpoint=url, **kwargs)
        backend.fake = fake  # for tests that steer the stand-in through the contract's backend
        yield backend, tmp_path / "job.yaml"
