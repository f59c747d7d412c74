"""The Cloud Billing Catalog GPU fetcher against a local HTTP server answering in the API's documented shape."""

from __future__ import annotations

from terraml.providers.gcp.prices import fetch_gcp_gpus

from ..conftest import FakeApis


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


def test_gcp_fetcher_takes_the_list_price_sku_not_a_dws_or_reserved_one(fake_api):
    """A100 80GB x 8 in us-central1: the 'GPU running in' SKU at 3.92808/GPU gives 8 x 3.92808 = 31.42464, the
    gpu-only row of vm_prices.csv; the DWS and reservation SKUs of the same GPU (cheaper) are not list prices."""
    def sku(desc, units, nanos, usage="OnDemand"):
        return {"description": desc, "serviceRegions": ["us-central1"],
                "category": {"resourceFamily": "Compute", "resourceGroup": "GPU", "usageType": usage},
                "pricingInfo": [{"pricingExpression": {"usageUnit": "h", "tieredRates": [
                    {"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": units, "nanos": nanos}}]}}]}
    FakeApis.pages = {"/v1/services/6F81-5844-456A/skus": {"skus": [
        sku("Nvidia Tesla A100 80GB GPU running in Americas", "3", 928080000),
        sku("Nvidia Tesla A100 80GB GPU running in Americas (DWS Defined Duration)", "1", 846200000),
        sku("Nvidia Tesla A100 80GB GPU Reserved in Americas", "1", 0),
        sku("Nvidia Tesla A100 GPU running in Americas", "2", 933910000)]}}
    [price] = fetch_gcp_gpus([("us-central1", "A100-80GB", 8.0)], "k", base_url=fake_api)
    assert (price.instance_type, price.on_demand, price.spot) == ("gpu-only:A100-80GB:8", 31.42464, None)
