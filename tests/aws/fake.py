"""The SageMaker backend's side of the job contract (tests/test_clouds.py): moto in server mode on
loopback, with the team bucket the vision-aws stack would create."""

from __future__ import annotations

import contextlib
import os
import shutil

from terraml.catalog import load_catalog
from terraml.localhost import free_port
from terraml.providers.aws.names import AwsNames
from terraml.providers.aws.sagemaker import SageMakerBackend

from ..conftest import ROOT


@contextlib.contextmanager
def job_backend(tmp_path, platform):
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    keys = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing")
    try:
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket=AwsNames.for_team(platform, platform.team("vision")).artifact_bucket)
        shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
        text = (ROOT / "examples" / "job.yaml").read_text()
        (tmp_path / "job.yaml").write_text(text.replace("name: image-classifier", "name: contract-job"))
        yield SageMakerBackend(platform, load_catalog(), session=session), tmp_path / "job.yaml"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
