"""`terraml train --dry-run` on aws: the job's cost compares SageMaker's spot rate with SageMaker's on-demand
rate, never EC2's ratio applied to SageMaker's price.

Price rows used: ml.g5.xlarge us-east-1 SageMaker training $1.408/h (managed_ml_prices.csv); managed spot
training saves "up to 90%" (fixed_fees.csv aws.sagemaker.spot_training.max_saving_percent). The example job
runs 4 h on 1 instance with spot mode auto.
"""

from __future__ import annotations

import shutil

import boto3
import pytest

from terraml.catalog import Catalog, ManagedRow, load_catalog
from terraml.providers.aws.sagemaker import SageMakerBackend
from terraml.spec.job_loader import load_job

from ..conftest import ROOT


@pytest.fixture
def job(example_spec, tmp_path):
    shutil.copytree(ROOT / "examples" / "train", tmp_path / "train")
    shutil.copy(ROOT / "examples" / "job.yaml", tmp_path / "job.yaml")
    return load_job(tmp_path / "job.yaml", example_spec.platform, "aws")


def plan_with(catalog, platform, job):
    # plan() makes no network call; the session is never used by it.
    return SageMakerBackend(platform, catalog, session=boto3.Session(region_name="us-east-1")).plan(job)


def test_spot_hours_at_sagemakers_on_demand_rate_when_no_managed_spot_price(example_spec, job):
    catalog = load_catalog()
    assert catalog.managed_row("aws", "us-east-1", "ml.g5.xlarge", "training job instance-hour").usd_per_hour == 1.408
    plan = plan_with(catalog, example_spec.platform, job)
    assert plan.decision.capacity == "spot"
    est = plan.estimate
    assert (est.expected_usd, est.worst_usd) == (round(4 * 1 * 1.408, 2), round(2 * 4 * 1 * 1.408, 2)) == (5.63, 11.26)
    assert "spot hours priced at the SageMaker on-demand rate $1.408/h, an upper bound" in est.explain
    assert "up to 90%, i.e. as low as $0.1408/h" in est.explain  # 1.408 x (1 - 0.90)
    assert "EC2 spot/on-demand ratio" not in est.explain


def test_a_managed_spot_row_is_used_when_the_catalog_has_one(example_spec, job):
    base = load_catalog()
    row = ManagedRow("aws", "SageMaker", "us-east-1", "ml.g5.xlarge", "training job instance-hour (managed spot)",
                     0.5, "test fixture, not a price", "test")
    catalog = Catalog(base.vms, [*base.managed, row], list(base.fees.values()), list(base.eks_versions.values()))
    est = plan_with(catalog, example_spec.platform, job).estimate
    # expected: 4 h x $0.5 spot; worst (auto): 4 h x $0.5 spot, then 4 h x $1.408 on-demand again
    assert (est.expected_usd, est.worst_usd) == (4 * 0.5, round(4 * 0.5 + 4 * 1.408, 2)) == (2.0, 7.63)
    assert "SageMaker managed-spot price $0.5/h" in est.explain
