"""Azure prices online: the Retail Prices API (no account needed), for `terraml prices refresh --cloud azure`.

One query per catalog row (its region and ARM SKU name), following NextPageLink. Of the items, only Linux
pay-as-you-go meters count: Windows products, Dev/Test prices and non-hourly units are dropped; a skuName ending
in ' Spot' is the spot price and one ending in ' Low Priority' (Azure ML / Batch low-priority VMs) is dropped,
because vm_prices.csv has no column for it. Two different prices for one meter kind are not guessed between.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

from terraml.cost.prices import Price, get_json
from terraml.errors import ProviderError

AZURE_URL = "https://prices.azure.com/api/retail/prices"
SOURCE = "Azure Retail Prices API (Linux, Consumption; skuName '... Spot' meter for spot)"


def retail_filter(region: str, sku: str) -> str:
    """The OData $filter sent for one catalog row."""
    return (f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' and armSkuName eq '{sku}' "
            "and priceType eq 'Consumption'")


def _kind(item: dict, region: str, sku: str) -> str | None:
    """'on_demand', 'spot' or None (an item that is not a Linux pay-as-you-go hourly price of this SKU)."""
    if (item.get("armRegionName"), item.get("armSkuName")) != (region, sku) or item.get("type") != "Consumption":
        return None
    if item.get("unitOfMeasure") != "1 Hour" or "Windows" in item.get("productName", ""):
        return None
    if item.get("isPrimaryMeterRegion") is False:  # the same meter repeated for another region
        return None
    name = item.get("skuName", "")
    if name.endswith("Low Priority") or item.get("meterName", "").endswith("Low Priority"):
        return None
    return "spot" if name.endswith(" Spot") or item.get("meterName", "").endswith(" Spot") else "on_demand"


def _one(found: set[float]) -> float | None:
    return next(iter(found)) if len(found) == 1 else None


def fetch_azure(wanted: Iterable[tuple[str, str]], base_url: str = AZURE_URL,
                opener=urllib.request.urlopen) -> list[Price]:
    """One Price per (region, ARM SKU name); a kind with no meter, or with two different prices, is None."""
    out = []
    for region, sku in wanted:
        query = retail_filter(region, sku)
        url = f"{base_url}?{urllib.parse.urlencode({'$filter': query}, quote_via=urllib.parse.quote)}"
        found: dict[str, set[float]] = {"on_demand": set(), "spot": set()}
        while url:
            try:
                page = get_json(url, opener)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ProviderError(f"Azure Retail Prices API at {base_url} ($filter {query}): {reason}; no price "
                                    "file was changed. Check the network, or refresh another time.") from None
            for item in page.get("Items", []):
                kind = _kind(item, region, sku)
                if kind is not None and isinstance(item.get("retailPrice"), int | float):
                    found[kind].add(float(item["retailPrice"]))
            url = page.get("NextPageLink")
        out.append(Price("azure", region, sku, _one(found["on_demand"]), _one(found["spot"]), SOURCE))
    return out


def fetch_default(rows: list[dict], base_url: str = AZURE_URL, opener=urllib.request.urlopen) -> list[Price]:
    """Prices for the catalog's Azure rows. A row that has a spot price the API no longer returns is left out
    (kept as it is): the merge would otherwise stamp its old spot price with today's date."""
    prices = fetch_azure([(r["region"], r["instance_type"]) for r in rows], base_url, opener)
    had_spot = {(r["region"], r["instance_type"]) for r in rows if (r.get("spot_usd_per_hour") or "").strip()}
    return [p for p in prices if p.spot is not None or (p.region, p.instance_type) not in had_spot]
