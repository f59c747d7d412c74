"""AWS prices online: the Price List API (on-demand) and EC2 spot price history, for `terraml prices refresh`.

Clients come from the caller, so tests pass stubbed ones.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Callable, Iterable

from terraml.cost.prices import Price

AWS_LOCATION_FILTER = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                       "capacitystatus": "Used"}

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


def fetch_default(rows: list[dict]) -> list[Price]:
    """Refresh the catalog's AWS rows with the default boto3 clients (needs AWS credentials)."""
    import boto3

    pricing = boto3.client("pricing", region_name="us-east-1")
    return fetch_aws([(r["region"], r["instance_type"]) for r in rows], pricing,
                     lambda region: boto3.client("ec2", region_name=region))
