"""Region names each cloud publishes, for validating specs offline.

AWS regions come from botocore's own endpoint data at run time. GCP and Azure ship no offline list
without their SDKs, so their public region names are kept here (from the providers' region pages,
2026); a name missing here but shaped like a region is accepted with a warning, not rejected.
"""

from __future__ import annotations

import re
from functools import cache

GCP_REGIONS = frozenset("""
us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4
northamerica-northeast1 northamerica-northeast2 northamerica-south1 southamerica-east1 southamerica-west1
europe-central2 europe-north1 europe-north2 europe-southwest1 europe-west1 europe-west2 europe-west3
europe-west4 europe-west6 europe-west8 europe-west9 europe-west10 europe-west12 me-central1 me-central2
me-west1 africa-south1 asia-east1 asia-east2 asia-northeast1 asia-northeast2 asia-northeast3 asia-south1
asia-south2 asia-southeast1 asia-southeast2 australia-southeast1 australia-southeast2
""".split())

AZURE_LOCATIONS = frozenset("""
eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus canadacentral
canadaeast brazilsouth mexicocentral northeurope westeurope uksouth ukwest francecentral germanywestcentral
norwayeast swedencentral switzerlandnorth polandcentral italynorth spaincentral uaenorth qatarcentral
israelcentral southafricanorth centralindia southindia westindia eastasia southeastasia japaneast japanwest
koreacentral koreasouth australiaeast australiasoutheast australiacentral newzealandnorth
""".split())

_SHAPES = {
    "aws": re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
    "gcp": re.compile(r"^[a-z]+-[a-z]+\d+$"),
    "azure": re.compile(r"^[a-z]+\d?$"),
}


@cache
def aws_regions() -> frozenset[str]:
    import botocore.session  # lazy: only validation needs it

    session = botocore.session.get_session()
    names: set[str] = set()
    for partition in ("aws", "aws-us-gov", "aws-cn"):
        names.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(names)


def known_regions(cloud: str) -> frozenset[str]:
    return {"aws": aws_regions, "gcp": lambda: GCP_REGIONS, "azure": lambda: AZURE_LOCATIONS}[cloud]()


def looks_like_region(cloud: str, name: str) -> bool:
    return bool(_SHAPES[cloud].match(name))


@cache
def botocore_enum(service: str, shape: str) -> frozenset[str]:
    """An enum from botocore's service model, e.g. ('ec2', 'InstanceType')."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return frozenset(model.shape_for(shape).enum)


_MACHINE_SHAPES = {
    "gcp": re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-\d+[a-z]*)?$"),
    "azure": re.compile(r"^Standard_[A-Za-z0-9_]+$"),
}


def cloud_knows_instance(cloud: str, name: str) -> bool:
    """Whether the cloud's own list (botocore for AWS; the naming scheme for GCP/Azure) has this type."""
    if cloud == "aws":
        return name in botocore_enum("ec2", "InstanceType")
    return bool(_MACHINE_SHAPES[cloud].match(name))


def cloud_instance_names(cloud: str) -> frozenset[str]:
    return botocore_enum("ec2", "InstanceType") if cloud == "aws" else frozenset()
