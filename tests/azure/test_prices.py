"""The Azure Retail Prices fetcher against a local HTTP server answering in the API's documented shape."""

from __future__ import annotations

import urllib.parse

from terraml.providers.azure.prices import fetch_azure

from ..conftest import FakeApis


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
