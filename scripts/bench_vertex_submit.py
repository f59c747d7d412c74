"""Benchmark: terraml's Vertex AI submit against the bare SDK call, in the same run, against the same local
stand-in (tests/gcp/vertex_server.py).

    bare      the same cloud calls made by hand with Google's own clients: the code bundle uploaded
              create-only with google-cloud-storage (Blob.upload_from_string, if_generation_match=0), then
              JobServiceClient.create_custom_job(parent, CustomJob) with the same request body
    terraml   VertexBackend.submit(plan): the create-only code upload (the idempotency claim) + the same create

As in bench_submit.py (SageMaker), the baseline makes exactly the calls a submit needs, so the ratio is
terraml's own overhead. Both reuse one client, as a submit in the CLI does; plans are made beforehand
(plan() is offline and shown by --dry-run before the submit). Prints the medians and the ratios; the target
is <= 1.2. For reference it also times create_custom_job alone (no code upload), which is not a submit.

    .venv/bin/python scripts/bench_vertex_submit.py [rounds]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(rounds: int = 60) -> float:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform_v1

    from terraml.catalog import load_catalog
    from terraml.providers.gcp.names import GcpNames
    from terraml.providers.gcp.vertex import VertexBackend
    from terraml.spec import load_platform
    from terraml.spec.job_loader import load_job
    from tests.gcp.fake import gcp_job_text
    from tests.gcp.vertex_server import serve

    platform = load_platform(ROOT / "examples" / "platform.yaml").platform
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(ROOT / "examples" / "train", tmp / "train")
    with serve() as (url, fake):
        fake.hold = True  # jobs stay pending: the bench measures submission only
        fake.add_bucket(GcpNames.for_team(platform, platform.team("nlp")).artifact_bucket)
        backend = VertexBackend(platform, load_catalog(), api_endpoint=url)
        plans = []
        for i in range(3 * rounds + 4):
            path = tmp / f"job{i}.yaml"
            path.write_text(gcp_job_text(f"bench-{i}"))
            plans.append(backend.plan(load_job(path, platform, "gcp")))
        client = aiplatform_v1.JobServiceClient(credentials=AnonymousCredentials(), transport="rest",
                                                client_options=ClientOptions(api_endpoint=url))
        parent = plans[0].environment.parent

        from google.cloud import storage

        gcs = storage.Client(project=plans[0].environment.project, credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": url})
        bucket = gcs.bucket(plans[0].environment.bucket)

        def create_only(plan):
            client.create_custom_job(parent=parent, custom_job=aiplatform_v1.CustomJob.from_json(
                json.dumps(plan.request)))

        def bare(plan):
            env, name = plan.environment, plan.job.job.name
            bucket.blob(env.bundle_object(name)).upload_from_string(
                plan.bundle, content_type="application/octet-stream", if_generation_match=0)
            create_only(plan)

        def ours(plan):
            handle = backend.submit(plan)
            assert not handle.existing

        bare(plans[-1])
        ours(plans[-2])  # warm both clients and connections
        create_only(plans[-3])
        bare_s, ours_s, create_s = [], [], []
        for i in range(rounds):  # interleaved, so drift on a shared machine hits all alike
            for fn, plan, times in ((bare, plans[3 * i], bare_s), (ours, plans[3 * i + 1], ours_s),
                                    (create_only, plans[3 * i + 2], create_s)):
                t = time.perf_counter()
                fn(plan)
                times.append(time.perf_counter() - t)
    b, o, c = statistics.median(bare_s), statistics.median(ours_s), statistics.median(create_s)
    ratio = o / b
    print(f"bare upload + create    median {b * 1000:.2f} ms over {rounds}")
    print(f"terraml submit          median {o * 1000:.2f} ms over {rounds}")
    print(f"create_custom_job alone median {c * 1000:.2f} ms (reference: no code upload)")
    print(f"ratio {ratio:.2f} (target <= 1.2); vs the create alone {o / c:.2f}")
    return ratio


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
