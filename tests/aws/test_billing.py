"""Actual AWS spend from Cost Explorer: the request shape (Stubber) and `terraml cost actual` against moto."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import boto3
from botocore.stub import Stubber

from terraml.catalog import load_catalog
from terraml.cost.estimate import estimate
from terraml.cost.tfjson import read_stacks
from terraml.providers.aws.billing import CostExplorerSpend

from ..conftest import EXAMPLE, tool_env


def test_cost_explorer_request_shape():
    client = boto3.client("ce", region_name="us-east-1")
    source = CostExplorerSpend(client_factory=lambda: client)
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": [{"Groups": [
            {"Keys": ["team$vision"], "Metrics": {"UnblendedCost": {"Amount": "10.5", "Unit": "USD"}}}]}]},
            source.request("vision", "2026-02"))
        amount, note = source.spend("vision", "2026-02")
    assert float(amount) == 10.5 and "tag team$vision" in note
    assert source.request("vision", "2026-12")["TimePeriod"] == {"Start": "2026-12-01", "End": "2027-01-01"}


def test_actual_next_to_estimate_from_moto(moto_reset, synth_dir):
    cost = {"UnblendedCost": {"Amount": "123.45", "Unit": "USD"}}
    period = {"TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}, "Total": {}, "Estimated": True,
              "Groups": [{"Keys": ["team$vision"], "Metrics": cost}]}
    seed = {"results": [{"ResultsByTime": [period]}]}
    urllib.request.urlopen(urllib.request.Request(f"{moto_reset}/moto-api/static/ce/cost-and-usage-results",
                                                  data=json.dumps(seed).encode(), method="POST"), timeout=10)
    run = subprocess.run([sys.executable, "-m", "terraml.cli", "cost", "actual", "--team", "vision", "--month",
                          "2026-11", "--spec", str(EXAMPLE), "--dir", str(synth_dir)], capture_output=True, text=True,
                         env=tool_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    row = next(line for line in run.stdout.splitlines() if "aws" in line)
    # The estimate beside it is the one `cost report` gives (checked line by line in test_pricing.py); it
    # depends on today's date through the EKS support tier, so it is read here, not written down.
    low, high = estimate(read_stacks(synth_dir), load_catalog()).total("vision", "aws")
    assert "$123.45" in row and f"${low:,.2f}" in row and f"${high:,.2f}" in row and "Cost Explorer" in row
