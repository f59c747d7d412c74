"""Azure prices online: the Retail Prices API (no account needed), for `terraml prices refresh`."""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterable

from terraml.cost.prices import Price, get_json

AZURE_URL = "https://prices.azure.com/api/retail/prices"


def fetch_azure(wanted: Iterable[tuple[str, str]], base_url: str = AZURE_URL, opener=urllib.request.urlopen):
    """Azure Retail Prices API: Items with retailPrice per '1 Hour'; Spot and Low Priority are separate meters."""
    out = []
    for region, sku in wanted:
        query = (f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' and armSkuName eq '{sku}' "
                 "and priceType eq 'Consumption'")
        url = f"{base_url}?{urllib.parse.urlencode({'$filter': query}, quote_via=urllib.parse.quote)}"
        on_demand = spot = None
        while url:
            page = get_json(url, opener)
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


def fetch_default(rows: list[dict]) -> list[Price]:
    return fetch_azure([(r["region"], r["instance_type"]) for r in rows])
