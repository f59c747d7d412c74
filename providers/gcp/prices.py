"""GCP prices online: the Cloud Billing Catalog API (needs an API key), for `terraml prices refresh`."""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from collections.abc import Iterable

from terraml.cost.prices import Price, get_json, gpu_key
from terraml.errors import UserError

GCP_URL = "https://cloudbilling.googleapis.com"
GCP_COMPUTE_SERVICE = "6F81-5844-456A"  # Compute Engine in the Cloud Billing Catalog
GCP_GPU_NAMES = {"T4": "Nvidia Tesla T4", "V100": "Nvidia Tesla V100", "P100": "Nvidia Tesla P100",
                 "P4": "Nvidia Tesla P4", "L4": "Nvidia L4", "A100": "Nvidia Tesla A100 GPU",
                 "A100-80GB": "Nvidia Tesla A100 80GB", "H100": "Nvidia H100 80GB"}

NOT_LIST_PRICE = ("DWS", "Flex", "Reserved", "Commit")
"""Words of GPU SKUs that are not the on-demand (or spot) list price: Dynamic Workload Scheduler, reservations,
commitments."""


def _unit_price(sku: dict) -> float | None:
    try:
        rate = sku["pricingInfo"][0]["pricingExpression"]["tieredRates"][-1]["unitPrice"]
    except (KeyError, IndexError):
        return None
    return int(rate.get("units", "0")) + rate.get("nanos", 0) / 1e9


def _standard_sku(description: str, gpu_name: str) -> bool:
    """The list-price SKU of a GPU ('Nvidia Tesla A100 80GB GPU running in Americas', its 'Spot Preemptible ...'
    twin), not a reservation, DWS or commitment SKU of the same GPU: catalog figures taken from those were not list
    prices (shared/pricing/SOURCES.md section 14)."""
    text = description.removeprefix("Spot Preemptible ")
    return text.startswith((f"{gpu_name} GPU running", f"{gpu_name} running")) \
        and not any(word in text for word in NOT_LIST_PRICE)


def fetch_gcp_gpus(wanted: Iterable[tuple[str, str, float]], api_key: str, base_url: str = GCP_URL,
                   opener=urllib.request.urlopen) -> list[Price]:
    """Cloud Billing Catalog: per-GPU SKUs ('Nvidia L4 GPU running in Americas'; spot SKUs say 'Spot
    Preemptible'), priced x count for the catalog's attached-GPU rows. Host VMs need per-vCPU and per-GB
    SKUs and are not refreshed here."""
    skus: list[dict] = []
    token = ""
    while True:
        query = {"key": api_key, **({"pageToken": token} if token else {})}
        page = get_json(f"{base_url}/v1/services/{GCP_COMPUTE_SERVICE}/skus?{urllib.parse.urlencode(query)}",
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
                    or not _standard_sku(desc, name):
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


def fetch_default(rows: list[dict]) -> list[Price]:
    key = os.environ.get("GOOGLE_API_KEY")
    if not key:
        raise UserError("GCP prices need an API key for the Cloud Billing Catalog: set GOOGLE_API_KEY.")
    return fetch_gcp_gpus([(r["region"], r["accelerator"], float(r["accelerator_count"])) for r in rows
                           if r["instance_type"] == "gpu-only"], key)
