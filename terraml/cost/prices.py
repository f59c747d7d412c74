"""Rebuild VM prices from the clouds' own price APIs (online) and merge them into vm_prices.csv.

Only rows already in the catalog are refreshed (the catalog decides what terraml offers); each
refreshed row gets the API as its source and today's date. Fetchers take their clients/URLs from the
caller, so tests feed them responses in the documented shapes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import statistics
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from terraml.catalog import VM_COLUMNS
from terraml.errors import UserError
from terraml.fsutil import write_text_atomic

AWS_LOCATION_FILTER = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                       "capacitystatus": "Used"}
AZURE_URL = "https://prices.azure.com/api/retail/prices"
GCP_URL = "https://cloudbilling.googleapis.com"
GCP_COMPUTE_SERVICE = "6F81-5844-456A"  # Compute Engine in the Cloud Billing Catalog


@dataclass(frozen=True)
class Price:
    cloud: str
    region: str
    instance_type: str
    on_demand: float | None
    spot: float | None
    source: str


# ---------------------------------------------------------------- AWS
def aws_on_demand(pricing, instance_type: str, region: str) -> float | None:
    """AWS Price List API: get_products returns PriceList as JSON strings (one per product)."""
    filters = [{"Type": "TERM_MATCH", "Field": "instanceType", "Value": instance_type},
               {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    filters += [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in AWS_LOCATION_FILTER.items()]
    response = pricing.get_products(ServiceCode="AmazonEC2", Filters=filters, MaxResults=10)
    for item in response.get("PriceList", []):
        product = json.loads(item) if isinstance(item, str) else item
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dim in term.get("priceDimensions", {}).values():
                usd = float(dim.get("pricePerUnit", {}).get("USD", "0"))
                if dim.get("unit") == "Hrs" and usd > 0:
                    return usd
    return None


def aws_spot(ec2, instance_type: str) -> float | None:
    """Median over the region's zones of each zone's newest Linux spot price."""
    history = ec2.describe_spot_price_history(InstanceTypes=[instance_type], ProductDescriptions=["Linux/UNIX"],
                                              StartTime=dt.datetime.now(dt.UTC))
    newest: dict[str, tuple[dt.datetime, float]] = {}
    for point in history.get("SpotPriceHistory", []):
        zone, when, price = point["AvailabilityZone"], point["Timestamp"], float(point["SpotPrice"])
        if zone not in newest or when > newest[zone][0]:
            newest[zone] = (when, price)
    return statistics.median(p for _, p in newest.values()) if newest else None


def fetch_aws(wanted: Iterable[tuple[str, str]], pricing, ec2_for: Callable[[str], object]) -> list[Price]:
    out = []
    for region, instance_type in wanted:
        out.append(Price("aws", region, instance_type, aws_on_demand(pricing, instance_type, region),
                         aws_spot(ec2_for(region), instance_type),
                         "AWS Price List API (get_products) + EC2 spot price history (median of zones)"))
    return out


# ---------------------------------------------------------------- Azure
def _get_json(url: str, opener=urllib.request.urlopen) -> dict:
    with opener(url, timeout=60) as resp:
        return json.loads(resp.read())


def fetch_azure(wanted: Iterable[tuple[str, str]], base_url: str = AZURE_URL, opener=urllib.request.urlopen):
    """Azure Retail Prices API: Items with retailPrice per '1 Hour'; Spot and Low Priority are separate meters."""
    out = []
    for region, sku in wanted:
        query = (f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' and armSkuName eq '{sku}' "
                 "and priceType eq 'Consumption'")
        url = f"{base_url}?{urllib.parse.urlencode({'$filter': query}, quote_via=urllib.parse.quote)}"
        on_demand = spot = None
        while url:
            page = _get_json(url, opener)
            for item in page.get("Items", []):
                if "Windows" in item.get("productName", "") or item.get("unitOfMeasure") != "1 Hour":
                    continue
                name = item.get("skuName", "")
                if "Low Priority" in name:
                    continue
                if "Spot" in name:
                    spot = item["retailPrice"]
                else:
                    on_demand = item["retailPrice"]
            url = page.get("NextPageLink")
        out.append(Price("azure", region, sku, on_demand, spot, "Azure Retail Prices API (Linux, Consumption)"))
    return out


# ---------------------------------------------------------------- GCP
GCP_GPU_NAMES = {"T4": "Nvidia Tesla T4", "V100": "Nvidia Tesla V100", "P100": "Nvidia Tesla P100",
                 "P4": "Nvidia Tesla P4", "L4": "Nvidia L4", "A100": "Nvidia Tesla A100 GPU",
                 "A100-80GB": "Nvidia Tesla A100 80GB", "H100": "Nvidia H100 80GB"}


def _unit_price(sku: dict) -> float | None:
    try:
        rate = sku["pricingInfo"][0]["pricingExpression"]["tieredRates"][-1]["unitPrice"]
    except (KeyError, IndexError):
        return None
    return int(rate.get("units", "0")) + rate.get("nanos", 0) / 1e9


def fetch_gcp_gpus(wanted: Iterable[tuple[str, str, float]], api_key: str, base_url: str = GCP_URL,
                   opener=urllib.request.urlopen) -> list[Price]:
    """Cloud Billing Catalog: per-GPU SKUs ('Nvidia L4 GPU running in Americas'; spot SKUs say 'Spot
    Preemptible'), priced x count for the catalog's attached-GPU rows. Host VMs need per-vCPU and per-GB
    SKUs and are not refreshed here."""
    skus: list[dict] = []
    token = ""
    while True:
        query = {"key": api_key, **({"pageToken": token} if token else {})}
        page = _get_json(f"{base_url}/v1/services/{GCP_COMPUTE_SERVICE}/skus?{urllib.parse.urlencode(query)}",
                         opener)
        skus += page.get("skus", [])
        token = page.get("nextPageToken", "")
        if not token:
            break
    out = []
    for region, accelerator, count in wanted:
        name = GCP_GPU_NAMES.get(accelerator)
        if not name:
            continue
        prices: dict[str, float] = {}
        for sku in skus:
            category = sku.get("category", {})
            desc = sku.get("description", "")
            if category.get("resourceGroup") != "GPU" or region not in sku.get("serviceRegions", []) \
                    or not desc.replace("Spot Preemptible ", "").startswith(name + " "):
                continue
            kind = "spot" if category.get("usageType") == "Preemptible" else "on_demand"
            if (price := _unit_price(sku)) is not None and category.get("usageType") in ("OnDemand", "Preemptible"):
                prices[kind] = price
        if prices:
            out.append(Price("gcp", region, gpu_key(accelerator, count),
                             round(prices["on_demand"] * count, 6) if "on_demand" in prices else None,
                             round(prices["spot"] * count, 6) if "spot" in prices else None,
                             f"Cloud Billing Catalog API ({name}, per GPU x {count:g})"))
    return out


def gpu_key(accelerator: str, count: float) -> str:
    """How attached-GPU rows (instance_type 'gpu-only') are told apart when merging."""
    return f"gpu-only:{accelerator}:{count:g}"


# ---------------------------------------------------------------- merge
def merge(rows: list[dict], prices: list[Price], today: str) -> tuple[list[dict], int]:
    """New prices replace old ones on matching rows; rows without a new figure are kept as they were."""
    index = {(p.cloud, p.region, p.instance_type): p for p in prices}
    changed = 0
    out = []
    for row in rows:
        key = (row["cloud"], row["region"], row["instance_type"])
        if row["instance_type"] == "gpu-only":
            key = (row["cloud"], row["region"], gpu_key(row["accelerator"], float(row["accelerator_count"])))
        price = index.get(key)
        if price is None or (price.on_demand is None and price.spot is None):
            out.append(row)
            continue
        new = dict(row)
        if price.on_demand is not None:
            new["on_demand_usd_per_hour"] = f"{price.on_demand:g}"
        if price.spot is not None:
            new["spot_usd_per_hour"] = f"{price.spot:g}"
        new["source"], new["as_of"] = price.source, today
        changed += new != row
        out.append(new)
    return out, changed


def read_rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(VM_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def refresh(cloud: str, data_dir: Path, *, fetch: Callable[[list[dict]], list[Price]] | None = None) -> int:
    """Fetch, merge and write; returns how many rows changed."""
    path = data_dir / "vm_prices.csv"
    rows = read_rows(path)
    mine = [r for r in rows if r["cloud"] == cloud]
    if not mine:
        raise UserError(f"--cloud: no {cloud} rows in {path}; allowed: aws, gcp, azure.")
    prices = (fetch or default_fetcher(cloud))(mine)
    merged, changed = merge(rows, prices, dt.date.today().isoformat())
    staged = path.with_name(f".{path.name}.new")
    write_rows(staged, merged)
    try:
        from terraml.catalog import _load_vms

        _load_vms(staged)  # a bad figure fails here, and the catalog in use stays as it was
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    os.replace(staged, path)
    from terraml.catalog import load_catalog

    load_catalog.cache_clear()
    return changed


def default_fetcher(cloud: str) -> Callable[[list[dict]], list[Price]]:
    if cloud == "aws":
        def run(rows):
            import boto3

            pricing = boto3.client("pricing", region_name="us-east-1")
            return fetch_aws([(r["region"], r["instance_type"]) for r in rows], pricing,
                             lambda region: boto3.client("ec2", region_name=region))
        return run
    if cloud == "azure":
        return lambda rows: fetch_azure([(r["region"], r["instance_type"]) for r in rows])
    if cloud == "gcp":
        def run_gcp(rows):
            key = os.environ.get("GOOGLE_API_KEY")
            if not key:
                raise UserError("GCP prices need an API key for the Cloud Billing Catalog: set GOOGLE_API_KEY.")
            return fetch_gcp_gpus([(r["region"], r["accelerator"], float(r["accelerator_count"])) for r in rows
                                   if r["instance_type"] == "gpu-only"], key)
        return run_gcp
    raise UserError(f"--cloud: '{cloud}' is not a cloud; allowed: aws, gcp, azure.")
