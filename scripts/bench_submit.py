"""Benchmark: terraml's SageMaker submit vs the same boto3 calls made by hand, both against moto.

terraml's submit = plan (spot decision, instance and image lookup, request body) + DescribeTrainingJob
(the duplicate-name check) + one PutObject per source file + CreateTrainingJob. The baseline makes
exactly those AWS calls with a prebuilt request, so the ratio is terraml's own overhead. Both run warm
in one process against one moto server; medians of --runs submits each, interleaved.
Target (issue 3): ratio <= 1.2.

    python scripts/bench_submit.py [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    from terraml.localhost import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import boto3
    from botocore.exceptions import ClientError

    from terraml.catalog import load_catalog
    from terraml.providers.aws.sagemaker import SageMakerBackend
    from terraml.spec import load_platform
    from terraml.spec.job_loader import load_job

    session = boto3.Session(region_name="us-east-1")
    platform = load_platform(ROOT / "examples" / "platform.yaml").platform
    backend = SageMakerBackend(platform, load_catalog(), session=session)
    job = load_job(ROOT / "examples" / "job.yaml", platform, "aws")
    env = backend.environment("vision")
    session.client("s3").create_bucket(Bucket=env.bucket)
    sm, s3 = session.client("sagemaker"), session.client("s3")
    template = backend.plan(job).request
    sources = [p for p in job.source_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts]

    def terraml_submit(i: int) -> None:
        named = type(job)(job.job.model_copy(update={"name": f"terraml-{i}"}), job.path, job.source_dir, job.spot)
        assert not backend.submit(backend.plan(named)).existing

    def bare_submit(i: int) -> None:
        name = f"bare-{i}"
        try:
            sm.describe_training_job(TrainingJobName=name)
        except ClientError:
            pass
        for path in sources:
            s3.put_object(Bucket=env.bucket, Key=f"jobs/{name}/code/{path.name}", Body=path.read_bytes(),
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=env.kms_alias)
        sm.create_training_job(**{**template, "TrainingJobName": name})

    terraml_submit(-1)  # warm: SDK image tables, clients, connections
    bare_submit(-1)
    timings: dict[str, list[float]] = {"terraml": [], "bare": []}
    for i in range(args.runs):
        for label, fn in (("bare", bare_submit), ("terraml", terraml_submit)):
            start = time.perf_counter()
            fn(i)
            timings[label].append(time.perf_counter() - start)
    server.stop()
    bare, ours = statistics.median(timings["bare"]), statistics.median(timings["terraml"])
    calls = 2 + len(sources) + 0
    print(f"runs: {args.runs} each, warm, one moto server; AWS calls per submit: {calls + 0} "
          f"(DescribeTrainingJob, {len(sources)} PutObject, CreateTrainingJob)")
    print(f"bare boto3 calls : {bare * 1000:7.2f} ms median")
    print(f"terraml submit   : {ours * 1000:7.2f} ms median")
    print(f"ratio {ours / bare:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
