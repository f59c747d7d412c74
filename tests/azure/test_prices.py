"""The Azure Retail Prices fetcher and `terraml prices refresh --cloud azure` against a local fake of the API.

The fake answers like https://prices.azure.com/api/retail/prices: it reads the OData $filter, serves the items
of that region and ARM SKU name two per page, and links the pages with NextPageLink (a $skip URL, as the real
API does). Items follow the API's documented shape (armRegionName, armSkuName, skuName, meterName, productName,
type, unitOfMeasure, retailPrice, isPrimaryMeterRegion).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from terraml.catalog import DATA_DIR, load_catalog
from terraml.cost.prices import read_rows, refresh
from terraml.errors import ProviderError
from terraml.providers.azure.prices import SOURCE, fetch_azure, fetch_default, retail_filter
from terraml.providers.azure.pricing import spot_as_of

PAGE = 2
A100 = "Standard_NC24ads_A100_v4"


def item(region: str, sku: str, price: float, sku_name: str, product: str = "NC A100 v4 Series", **extra) -> dict:
    return {"currencyCode": "USD", "armRegionName": region, "armSkuName": sku, "skuName": sku_name,
            "meterName": sku_name, "productName": product, "serviceName": "Virtual Machines",
            "type": "Consumption", "unitOfMeasure": "1 Hour", "retailPrice": price, "unitPrice": price,
            "isPrimaryMeterRegion": True, **extra}


class RetailPrices(BaseHTTPRequestHandler):
    items: dict[tuple[str, str], list[dict]] = {}
    filters: list[str] = []
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        RetailPrices.requests.append(self.path)
        text = query["$filter"][0]
        RetailPrices.filters.append(text)
        region = re.search(r"armRegionName eq '([^']+)'", text)[1]
        sku = re.search(r"armSkuName eq '([^']+)'", text)[1]
        skip = int(query.get("$skip", ["0"])[0])
        found = RetailPrices.items.get((region, sku), [])
        page = found[skip:skip + PAGE]
        more = skip + PAGE < len(found)
        base = f"http://{self.headers['Host']}{url.path}"
        link = f"{base}?{urllib.parse.urlencode({'$filter': text, '$skip': skip + PAGE})}" if more else None
        body = json.dumps({"BillingCurrency": "USD", "CustomerEntityType": "Retail", "Items": page,
                           "NextPageLink": link, "Count": len(page)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def retail_api():
    RetailPrices.items, RetailPrices.filters, RetailPrices.requests = {}, [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RetailPrices)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/retail/prices"
    server.shutdown()


def a100_meters(region: str = "eastus", on_demand: float = 3.673, spot: float = 0.5012) -> list[dict]:
    """Every meter the API lists for one size: Linux, Windows, Spot, Low Priority, Dev/Test and a monthly unit."""
    return [
        item(region, A100, 5.1, "NC24ads A100 v4", "NC A100 v4 Series Windows"),
        item(region, A100, 0.7346, "NC24ads A100 v4 Low Priority"),
        item(region, A100, on_demand, "NC24ads A100 v4"),
        item(region, A100, 2.0, "NC24ads A100 v4", type="DevTestConsumption"),
        item(region, A100, 9.9, "NC24ads A100 v4", isPrimaryMeterRegion=False),
        item(region, A100, 1200.0, "NC24ads A100 v4", unitOfMeasure="1/Month"),
        item(region, A100, 1.1, "NC24ads A100 v4 Spot", "NC A100 v4 Series Windows"),
        item(region, A100, spot, "NC24ads A100 v4 Spot"),
    ]


def test_fetcher_sends_the_filter_follows_pages_and_keeps_linux_consumption_meters(retail_api):
    RetailPrices.items = {("eastus", A100): a100_meters()}
    [price] = fetch_azure([("eastus", A100)], base_url=retail_api)
    assert (price.on_demand, price.spot) == (3.673, 0.5012)  # not Windows, Low Priority, Dev/Test or monthly
    assert RetailPrices.filters[0] == ("serviceName eq 'Virtual Machines' and armRegionName eq 'eastus' and "
                                       f"armSkuName eq '{A100}' and priceType eq 'Consumption'") == \
        retail_filter("eastus", A100)
    assert len(RetailPrices.requests) == 4  # 8 items, 2 per page: every NextPageLink followed, the last is null
    assert [int(urllib.parse.parse_qs(urllib.parse.urlparse(p).query).get("$skip", ["0"])[0])
            for p in RetailPrices.requests] == [0, 2, 4, 6]
    assert price.source == SOURCE


def test_two_different_prices_for_one_meter_kind_are_not_guessed_between(retail_api):
    RetailPrices.items = {("eastus", "Standard_D2as_v5"): [
        item("eastus", "Standard_D2as_v5", 0.178, "D2as v5"), item("eastus", "Standard_D2as_v5", 0.086, "D2as v5"),
        item("eastus", "Standard_D2as_v5", 0.0172, "D2as v5 Spot")]}
    [price] = fetch_azure([("eastus", "Standard_D2as_v5")], base_url=retail_api)
    assert (price.on_demand, price.spot) == (None, 0.0172)


def test_an_unreachable_api_is_a_provider_error_naming_the_url():
    with pytest.raises(ProviderError, match=r"Azure Retail Prices API at http://127\.0\.0\.1:9/x \(\$filter "
                                            r"serviceName eq 'Virtual Machines' and .*\): .*no price file was changed"):
        fetch_azure([("eastus", A100)], base_url="http://127.0.0.1:9/x")


def csv_row(path, region: str, size: str) -> dict:
    with path.open(newline="") as handle:
        [row] = [r for r in csv.DictReader(handle) if (r["cloud"], r["region"], r["instance_type"]) ==
                 ("azure", region, size)]
    return row


def test_refresh_replaces_the_2024_spot_rows_in_the_users_price_files(retail_api, tmp_path):
    """`terraml prices refresh --cloud azure --data-dir DIR` on a copy of the shipped files: rows the API answers
    get its prices, its name as source and today's date, so the 2024-08 spot date is gone from them."""
    data = tmp_path / "pricing"
    shutil.copytree(DATA_DIR, data)
    before = csv_row(data / "vm_prices.csv", "eastus", A100)
    assert (before["spot_usd_per_hour"], before["as_of"]) == ("0.444433", "2026-06-18 (on-demand); ~2024-08-18 (spot)")
    RetailPrices.items = {
        ("eastus", A100): a100_meters(spot=0.5012),
        ("eastus", "Standard_D4s_v5"): [item("eastus", "Standard_D4s_v5", 0.192, "D4s v5"),
                                        item("eastus", "Standard_D4s_v5", 0.0199, "D4s v5 Spot")],
        # The API lists no Spot meter for this size any more: its old spot price must not get today's date.
        ("eastus", "Standard_NC6s_v3"): [item("eastus", "Standard_NC6s_v3", 3.06, "NC6s v3")],
        # H100 rows have no spot price; a new on-demand figure is taken.
        ("eastus", "Standard_NC40ads_H100_v5"): [item("eastus", "Standard_NC40ads_H100_v5", 6.98, "NC40ads H100 v5"),
                                                 item("eastus", "Standard_NC40ads_H100_v5", 7.2, "NC40ads H100 v5")],
    }
    azure_rows = [r for r in read_rows(data / "vm_prices.csv") if r["cloud"] == "azure"]
    changed = refresh("azure", data, fetch=lambda rows: fetch_default(rows, base_url=retail_api))
    today = dt.date.today().isoformat()
    assert len(set(RetailPrices.filters)) == len(azure_rows)  # one query per Azure row, nothing else
    a100 = csv_row(data / "vm_prices.csv", "eastus", A100)
    assert (a100["on_demand_usd_per_hour"], a100["spot_usd_per_hour"], a100["source"], a100["as_of"]) == \
        ("3.673", "0.5012", SOURCE, today)
    d4 = csv_row(data / "vm_prices.csv", "eastus", "Standard_D4s_v5")
    assert (d4["spot_usd_per_hour"], d4["as_of"]) == ("0.0199", today)
    assert csv_row(data / "vm_prices.csv", "eastus", "Standard_NC6s_v3") == \
        csv_row(DATA_DIR / "vm_prices.csv", "eastus", "Standard_NC6s_v3")  # kept, with its true dates
    # Two different on-demand meters: not guessed between, and no spot row to refresh: nothing to write.
    assert csv_row(data / "vm_prices.csv", "eastus", "Standard_NC40ads_H100_v5") == \
        csv_row(DATA_DIR / "vm_prices.csv", "eastus", "Standard_NC40ads_H100_v5")
    untouched = csv_row(data / "vm_prices.csv", "westus2", A100)  # the fake has nothing for it
    assert untouched == csv_row(DATA_DIR / "vm_prices.csv", "westus2", A100)
    assert changed == 2
    # The catalog read from the refreshed files dates the spot price today, and estimates say so.
    assert spot_as_of(load_catalog(data).vm("azure", "eastus", A100)) == today
    assert spot_as_of(load_catalog(data).vm("azure", "westus2", A100)) == "~2024-08-18"
    load_catalog.cache_clear()
