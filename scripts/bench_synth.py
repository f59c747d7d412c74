"""Benchmark: cold `terraml synth` of the example vs a bare cdktn app that synthesizes one empty stack.

Each run is a fresh process (cold imports, a fresh jsii/Node kernel). Wall time is the median of
--runs runs; peak RSS is the largest sum of resident memory over the process and its children
(Python plus the jsii Node kernel), sampled from /proc every 10 ms. Prints ratios against the floor
measured in the same run. Target (issue 2): time ratio <= 3 and peak RSS <= 600 MB.

    python scripts/bench_synth.py [--runs 5] [--spec examples/platform.yaml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = """
from cdktn import App, TerraformStack
app = App(outdir={outdir!r})
TerraformStack(app, "empty")
app.synth()
"""


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


def measure(cmd: list[str], env: dict) -> tuple[float, float]:
    """(seconds, peak MiB) of one cold run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return elapsed, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--spec", default=str(ROOT / "examples" / "platform.yaml"))
    args = parser.parse_args()
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    node = ROOT / "node_modules" / "node" / "bin" / "node"
    if node.exists():
        env.setdefault("JSII_NODE", str(node))
    python = sys.executable
    results: dict[str, list[tuple[float, float]]] = {"floor": [], "terraml": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):  # interleaved, so drift in machine load hits both alike
            floor_out = Path(tmp) / f"floor-{i}"
            results["floor"].append(measure([python, "-c", FLOOR.format(outdir=str(floor_out))], env))
            out = Path(tmp) / f"terraml-{i}"
            results["terraml"].append(measure([python, "-m", "terraml.cli", "synth", args.spec, "--outdir",
                                               str(out)], env))
        stacks = sorted(p.name for p in (Path(tmp) / "terraml-0" / "stacks").iterdir())
        resources = sum(len(v) for s in stacks for v in __import__("json").loads(
            (Path(tmp) / "terraml-0" / "stacks" / s / "cdk.tf.json").read_text()).get("resource", {}).values())
    floor_t = statistics.median(t for t, _ in results["floor"])
    ours_t = statistics.median(t for t, _ in results["terraml"])
    floor_m = max(m for _, m in results["floor"])
    ours_m = max(m for _, m in results["terraml"])
    print(f"stacks synthesized: {', '.join(stacks)} ({resources} resources); runs: {args.runs}, cold processes")
    print(f"floor   (bare cdktn app, one empty stack): {floor_t:6.2f} s  peak RSS {floor_m:6.0f} MiB")
    print(f"terraml synth (example spec)             : {ours_t:6.2f} s  peak RSS {ours_m:6.0f} MiB")
    print(f"ratio time {ours_t / floor_t:.2f} (target <= 3)   peak RSS {ours_m:.0f} MiB (target <= 600), "
          f"memory ratio {ours_m / floor_m:.2f}")


if __name__ == "__main__":
    main()
