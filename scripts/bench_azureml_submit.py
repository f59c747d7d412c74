"""Benchmark: terraml's Azure ML submit against the bare SDK call, on the same fake service in the same run.

    .venv/bin/python scripts/bench_azureml_submit.py [--rounds 20]

Baseline: ``ml_client.jobs.create_or_update(command(...))`` with the same command, environment, cluster, code
input, checkpoint/model outputs, variables, tags and timeout that terraml sends. terraml's submit adds its
idempotency check (one GET of the job name) and the source upload (once per content, then cached). Both run
against tests/azure/azure_fake.py through an injected azure-core transport; warm-up rounds are not timed.
Prints the median of each and the ratio (the target is <= 1.2).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from azure.ai.ml import Input, Output, command

    from terraml.catalog import load_catalog
    from terraml.providers.azure.azureml import AzureMLBackend
    from terraml.spec import load_platform
    from terraml.spec.job_loader import load_job
    from tests.azure.azure_fake import FakeAzureML, FakeCredential
    from tests.azure.fake import nlp_job

    platform = load_platform(str(ROOT / "examples" / "platform.yaml")).platform
    fake = FakeAzureML()
    fake.seed_team(platform, "nlp")
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(ROOT / "examples" / "train", tmp / "train")
    (tmp / "job.yaml").write_text(nlp_job((ROOT / "examples" / "job.yaml").read_text(), "bench"))
    backend = AzureMLBackend(platform, load_catalog(), transport=fake.transport(), credential=FakeCredential())
    job = load_job(tmp / "job.yaml", platform, "azure")
    plan = backend.plan(job)
    ml = backend.client("nlp")  # the same MLClient (same transport) for the bare call
    r = plan.job_request

    def bare(name: str) -> None:
        ml.jobs.create_or_update(command(
            name=name, display_name=name, experiment_name=r.experiment, command=r.command, environment=r.environment,
            compute=r.compute, instance_count=r.instance_count, timeout=r.timeout_s,
            environment_variables=r.environment_variables, tags=r.tags,
            inputs={"code": Input(type="uri_folder", path=r.code_uri, mode="download")},
            outputs={"checkpoints": Output(type="uri_folder", path=r.checkpoints_uri, mode="rw_mount"),
                     "model": Output(type="uri_folder", path=r.model_uri, mode="rw_mount")}))

    def ours(name: str) -> None:
        handle = backend.submit(replace(plan, job_request=replace(r, name=name)))
        assert not handle.existing

    def timed(fn, prefix: str, n: int) -> list[float]:
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(f"{prefix}-{i}")
            out.append(time.perf_counter() - t0)
        return out

    timed(bare, "warm-bare", 3)
    timed(ours, "warm-ours", 3)
    base, mine = [], []
    for i in range(args.rounds):  # interleaved, so drift on a shared machine hits both alike
        base += timed(bare, f"bare{i}", 1)
        mine += timed(ours, f"ours{i}", 1)
    b, m = statistics.median(base), statistics.median(mine)
    print(f"bare SDK create_or_update(command(...)): median {b * 1000:.1f} ms over {len(base)}")
    print(f"terraml AzureMLBackend.submit:          median {m * 1000:.1f} ms over {len(mine)}")
    print(f"ratio {m / b:.3f} (target <= 1.2)")


if __name__ == "__main__":
    main()
