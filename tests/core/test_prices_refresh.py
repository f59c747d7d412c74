"""Price fetchers fed responses in the shapes the official APIs document: AWS through botocore's Stubber
(which checks our requests against the real API models), Azure and GCP through a local HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import ANY, Stubber

from terraml.catalog import DATA_DIR, load_catalog
from terraml.cost.prices import read_rows, refresh
from terraml.errors import CatalogError
from terraml.providers.aws.prices import fetch_aws
from terraml.providers.azure.prices import fetch_azure
from terraml.providers.gcp.prices import fetch_gcp_gpus


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


class FakeApis(BaseHTTPRequestHandler):
    """Answers like the Azure Retail Prices API and the Cloud Billing Catalog, from canned pages."""

    pages: dict[str, dict] = {}
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        FakeApis.seen.append(self.path)
        key = url.path + ("?page=2" if query.get("page") or query.get("pageToken") else "")
        body = json.dumps(FakeApis.pages.get(key, {"Items": []})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApis)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeApis.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_azure_fetcher_follows_pages_and_splits_spot(fake_api):
    item = {"currencyCode": "USD", "armRegionName": "eastus", "armSkuName": "Standard_NC24ads_A100_v4",
            "unitOfMeasure": "1 Hour", "type": "Consumption", "serviceName": "Virtual Machines"}
    FakeApis.pages = {
        "/api/retail/prices": {"Items": [
            {**item, "retailPrice": 3.673, "skuName": "NC24ads A100 v4", "productName": "NC A100 v4 Series"},
            {**item, "retailPrice": 5.1, "skuName": "NC24ads A100 v4", "productName": "NC A100 v4 Series Windows"}],
            "NextPageLink": f"{fake_api}/api/retail/prices?page=2"},
        "/api/retail/prices?page=2": {"Items": [
            {**item, "retailPrice": 0.4444, "skuName": "NC24ads A100 v4 Spot", "productName": "NC A100 v4 Series"},
            {**item, "retailPrice": 0.7, "skuName": "NC24ads A100 v4 Low Priority",
             "productName": "NC A100 v4 Series"}], "NextPageLink": None}}
    [price] = fetch_azure([("eastus", "Standard_NC24ads_A100_v4")], base_url=f"{fake_api}/api/retail/prices")
    assert (price.on_demand, price.spot) == (3.673, 0.4444)
    first = urllib.parse.unquote(FakeApis.seen[0])
    assert "armSkuName eq 'Standard_NC24ads_A100_v4'" in first and "armRegionName eq 'eastus'" in first


def test_gcp_fetcher_prices_attached_gpus(fake_api):
    def sku(desc, usage, units, nanos, regions=("us-central1",)):
        return {"description": desc, "serviceRegions": list(regions),
                "category": {"resourceFamily": "Compute", "resourceGroup": "GPU", "usageType": usage},
                "pricingInfo": [{"pricingExpression": {"usageUnit": "h", "tieredRates": [
                    {"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": units, "nanos": nanos}}]}}]}
    path = "/v1/services/6F81-5844-456A/skus"
    FakeApis.pages = {
        path: {"skus": [sku("Nvidia Tesla T4 GPU running in Americas", "OnDemand", "0", 350000000)],
               "nextPageToken": "p2"},
        f"{path}?page=2": {"skus": [sku("Spot Preemptible Nvidia Tesla T4 GPU running in Americas", "Preemptible",
                                        "0", 191500000),
                                    sku("Nvidia Tesla T4 GPU running in EMEA", "OnDemand", "1", 0,
                                        regions=("europe-west4",))]}}
    prices = fetch_gcp_gpus([("us-central1", "T4", 4.0)], "k", base_url=fake_api)
    assert [(p.instance_type, p.on_demand, p.spot) for p in prices] == [("gpu-only:T4:4", 1.4, 0.766)]
    assert "key=k" in FakeApis.seen[0] and "pageToken=p2" in FakeApis.seen[1]


def test_refresh_refuses_a_result_the_catalog_cannot_load(tmp_path):
    from terraml.cost.prices import Price

    data = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, data)
    before = (data / "vm_prices.csv").read_bytes()
    with pytest.raises(CatalogError, match="negative"):
        refresh("aws", data, fetch=lambda rows: [Price("aws", "us-east-1", "g5.2xlarge", -1.0, None, "bad")])
    assert (data / "vm_prices.csv").read_bytes() == before  # nothing half-written
    assert sorted(p.name for p in data.iterdir()) == sorted(p.name for p in DATA_DIR.iterdir())
    assert len(read_rows(data / "vm_prices.csv")) == len(read_rows(DATA_DIR / "vm_prices.csv"))
