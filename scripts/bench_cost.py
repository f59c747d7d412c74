"""Benchmark: estimating a generated set of stacks with 10,000 resources vs only parsing the same JSON.

The stacks are built from the example's synthesized stacks (their real resource mix: node groups, NAT
gateways, endpoints with autoscaling targets, buckets, free and unpriced types), copied with fresh names
until the count is reached, plus GKE and AKS spot pools. Medians of --runs runs each, interleaved, in one
process. Target (issue 13): ratio <= 2; price lookups are dictionary hits, never scans of the catalog.

    python scripts/bench_cost.py [--resources 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(folder: Path, total: int) -> int:
    subprocess.run([sys.executable, "-m", "terraml.cli", "synth", str(ROOT / "examples" / "platform.yaml"),
                    "--outdir", str(folder / "seed")], check=True, capture_output=True)
    seeds = [json.loads(p.read_text()) for p in sorted((folder / "seed" / "stacks").glob("*/cdk.tf.json"))]
    extra = {"google_container_node_pool": {"gpu": {"location": "us-central1", "node_locations": ["us-central1-a"],
                                                    "autoscaling": [{"min_node_count": 0, "max_node_count": 4}],
                                                    "node_config": [{"machine_type": "a2-highgpu-1g",
                                                                     "spot": True}]}},
             "azurerm_kubernetes_cluster_node_pool": {"gpu": {"location": "eastus", "priority": "Spot",
                                                              "vm_size": "Standard_NC24ads_A100_v4",
                                                              "node_count": 2}}}
    count, i = 0, 0
    while count < total:
        doc = copy.deepcopy(seeds[i % len(seeds)])
        doc["resource"] = {**doc["resource"], **copy.deepcopy(extra)}
        name = f"team{i:04d}-aws"
        path = folder / "cdktf.out" / "stacks" / name / "cdk.tf.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(doc))
        count += sum(len(v) for v in doc["resource"].values())
        i += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from terraml.catalog import load_catalog
    from terraml.cost.estimate import estimate
    from terraml.cost.tfjson import read_stacks

    load_catalog()  # loaded once per process in real use too; not part of either side
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        count = generate(folder, args.resources)
        files = sorted((folder / "cdktf.out" / "stacks").glob("*/cdk.tf.json"))

        def parse_only():
            return [json.loads(p.read_text()) for p in files]

        def full():
            return estimate(read_stacks(folder / "cdktf.out"), load_catalog())

        # Both sides start from the same heap: the previous run's output is freed and collected before the clock
        # starts. (This loop once kept it until the next run's result replaced it, so each estimate ran with the
        # previous parse's 10,000 resources alive, which its garbage collections walked, and freed them inside
        # its timing; each parse only ever had the smaller estimate to carry.)
        times: dict[str, list[float]] = {"parse": [], "estimate": []}
        for _ in range(args.runs):
            for label, fn in (("parse", parse_only), ("estimate", full)):
                out = None
                gc.collect()
                start = time.perf_counter()
                out = fn()
                times[label].append(time.perf_counter() - start)
        del out
        result = full()
    parse, est = statistics.median(times["parse"]), statistics.median(times["estimate"])
    statuses = {s: sum(1 for x in result.lines if x.status == s) for s in ("priced", "free", "unpriced")}
    print(f"{count} resources in {len(files)} stacks -> {len(result.lines)} lines {statuses}; runs: {args.runs}")
    print(f"parse only : {parse * 1000:8.1f} ms median")
    print(f"estimate   : {est * 1000:8.1f} ms median")
    print(f"ratio {est / parse:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
