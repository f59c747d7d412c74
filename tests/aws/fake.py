"""The SageMaker backend's side of the job contract (tests/test_clouds.py): moto in server mode on
loopback, with the team bucket the vision-aws stack would create."""

from __future__ import annotations

import contextlib
import shutil

from terraml.catalog import load_catalog
from terraml.providers.aws.names import AwsNames
from terraml.providers.aws.sagemaker import SageMakerBackend

from ..conftest import ROOT, moto_on_loopback


@contextlib.contextmanager
def job_backend(tmp_path, platform):
    import boto3

    with moto_on_loopback():
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket=AwsNames.for_team(platform, platform.team("vision")).artifact_bucket)
        shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
        text = (ROOT / "examples" / "job.yaml").read_text()
        (tmp_path / "job.yaml").write_text(text.replace("name: image-classifier", "name: contract-job"))
        yield SageMakerBackend(platform, load_catalog(), session=session), tmp_path / "job.yaml"
