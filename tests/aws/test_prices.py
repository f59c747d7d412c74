"""The AWS price fetcher against botocore's Stubber, and its result merged into the price catalog."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import boto3
from botocore.stub import ANY, Stubber

from terraml.catalog import DATA_DIR, load_catalog
from terraml.cost.prices import refresh
from terraml.providers.aws.prices import fetch_aws


def aws_product(usd: str) -> str:
    """One PriceList entry: a JSON string, as get_products returns it."""
    return json.dumps({"product": {"attributes": {"instanceType": "g5.2xlarge", "regionCode": "us-east-1"}},
                       "terms": {"OnDemand": {"ABC.JRTCKXETXF": {"priceDimensions": {"ABC.JRTCKXETXF.6YS6EN2CT7": {
                           "unit": "Hrs", "pricePerUnit": {"USD": usd}, "description": "$1.3 per On Demand Linux"}}}}}})


def test_aws_fetcher(tmp_path):
    pricing = boto3.client("pricing", region_name="us-east-1")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    now = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    with Stubber(pricing) as p, Stubber(ec2) as e:
        p.add_response("get_products", {"PriceList": [aws_product("1.3000000000")], "FormatVersion": "aws_v1"},
                       {"ServiceCode": "AmazonEC2", "Filters": ANY, "MaxResults": 10})
        e.add_response("describe_spot_price_history", {"SpotPriceHistory": [
            {"AvailabilityZone": "us-east-1a", "InstanceType": "g5.2xlarge", "SpotPrice": "0.50", "Timestamp": now},
            {"AvailabilityZone": "us-east-1a", "InstanceType": "g5.2xlarge", "SpotPrice": "0.90",
             "Timestamp": now - dt.timedelta(days=1)},  # older: ignored
            {"AvailabilityZone": "us-east-1b", "InstanceType": "g5.2xlarge", "SpotPrice": "0.40", "Timestamp": now},
            {"AvailabilityZone": "us-east-1c", "InstanceType": "g5.2xlarge", "SpotPrice": "0.70", "Timestamp": now}]},
            {"InstanceTypes": ["g5.2xlarge"], "ProductDescriptions": ["Linux/UNIX"], "StartTime": ANY})
        [price] = fetch_aws([("us-east-1", "g5.2xlarge")], pricing, lambda region: ec2)
    assert (price.on_demand, price.spot) == (1.3, 0.5)  # spot: median of the zones' newest 0.5, 0.4, 0.7

    data = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, data)
    changed = refresh("aws", data, fetch=lambda rows: [price])
    assert changed == 1
    row = load_catalog.__wrapped__(data).vm("aws", "us-east-1", "g5.2xlarge")
    assert (row.on_demand_usd_per_hour, row.spot_usd_per_hour) == (1.3, 0.5)
    assert row.source.startswith("AWS Price List API") and row.as_of == dt.date.today().isoformat()
    untouched = load_catalog.__wrapped__(data).vm("aws", "us-west-2", "g5.2xlarge")
    assert untouched.on_demand_usd_per_hour == 1.212 and untouched.source.startswith("skypilot")
    load_catalog.cache_clear()
