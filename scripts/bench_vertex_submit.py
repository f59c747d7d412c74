"""Benchmark: terraml's Vertex AI submit against the bare SDK call, in the same run, against the same local
stand-in (tests/gcp/vertex_server.py).

    bare      JobServiceClient.create_custom_job(parent, CustomJob) with the same request body
    terraml   VertexBackend.submit(plan): the create-only code upload (the idempotency claim) + the same create

Both reuse one client, as a submit in the CLI does; plans are made beforehand (plan() is offline and shown
by --dry-run before the submit). Prints the medians and the ratio; the target is <= 1.2.

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
        for i in range(2 * rounds + 4):
            path = tmp / f"job{i}.yaml"
            path.write_text(gcp_job_text(f"bench-{i}"))
            plans.append(backend.plan(load_job(path, platform, "gcp")))
        client = aiplatform_v1.JobServiceClient(credentials=AnonymousCredentials(), transport="rest",
                                                client_options=ClientOptions(api_endpoint=url))
        parent = plans[0].environment.parent

        def bare(plan):
            client.create_custom_job(parent=parent, custom_job=aiplatform_v1.CustomJob.from_json(
                json.dumps(plan.request)))

        def ours(plan):
            handle = backend.submit(plan)
            assert not handle.existing

        bare(plans[-1])
        ours(plans[-2])  # warm both clients and connections
        bare_s, ours_s = [], []
        for i in range(rounds):  # interleaved, so drift on a shared machine hits both alike
            t = time.perf_counter()
            bare(plans[2 * i])
            bare_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            ours(plans[2 * i + 1])
            ours_s.append(time.perf_counter() - t)
    b, o = statistics.median(bare_s), statistics.median(ours_s)
    ratio = o / b
    print(f"bare create_custom_job  median {b * 1000:.2f} ms over {rounds}")
    print(f"terraml submit          median {o * 1000:.2f} ms over {rounds}")
    print(f"ratio {ratio:.2f} (target <= 1.2)")
    return ratio


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
