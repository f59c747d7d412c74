"""GCP region names, for validating specs offline.

GCP ships no offline list without its SDK, so the public region names are kept here (from the region
page, 2026); a name missing here but shaped like a region is accepted with a warning, not rejected.
"""

from __future__ import annotations

import re

GCP_REGIONS = frozenset("""
us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4
northamerica-northeast1 northamerica-northeast2 northamerica-south1 southamerica-east1 southamerica-west1
europe-central2 europe-north1 europe-north2 europe-southwest1 europe-west1 europe-west2 europe-west3
europe-west4 europe-west6 europe-west8 europe-west9 europe-west10 europe-west12 me-central1 me-central2
me-west1 africa-south1 asia-east1 asia-east2 asia-northeast1 asia-northeast2 asia-northeast3 asia-south1
asia-south2 asia-southeast1 asia-southeast2 australia-southeast1 australia-southeast2
""".split())

REGION_SHAPE = re.compile(r"^[a-z]+-[a-z]+\d+$")
MACHINE_SHAPE = re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-\d+[a-z]*)?$")
ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


def region_of(location: str | None, fallback: str) -> str:
    """The region of a GCP location, which may be a zone ('us-central1-a' -> 'us-central1')."""
    if not location:
        return fallback
    match = ZONE.match(location)
    return match.group(1) if match else location
