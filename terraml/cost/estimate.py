"""Price every resource of a set of synthesized stacks per month, at minimum and maximum scale.

Pure: stacks, the catalog and usage assumptions in; explained lines out. Each resource is priced,
free (with the reason), or unpriced (with the reason); nothing is silently $0.
"""

from __future__ import annotations

from terraml.providers.gcp.pricing import region_of

from terraml.catalog import Catalog
from terraml.cost.model import Estimate, Line, Usage
from terraml.cost.pricers import CLOUD_OF_PREFIX, PRICERS, Resource
from terraml.cost.tfjson import StackDoc
from terraml.errors import UserError

ON_CLUSTER = {"helm_release", "kubernetes_manifest", "kubernetes_config_map_v1", "kubernetes_namespace_v1"}
CLOUD_SUFFIXES = ("aws", "gcp", "azure")


def team_of(stack: StackDoc, block: dict) -> str:
    tags = block.get("tags") or block.get("labels") or {}
    if isinstance(tags, dict) and tags.get("team"):
        return str(tags["team"])
    head, _, tail = stack.name.rpartition("-")
    return head if head and tail in CLOUD_SUFFIXES else stack.name


def region_for(stack: StackDoc, cloud: str, block: dict) -> str:
    if cloud == "aws":
        return block.get("region") or stack.provider_region("aws") or "unknown"
    if cloud == "gcp":
        return region_of(block.get("location") or block.get("region"), stack.provider_region("google") or "unknown")
    location = block.get("location")
    if not location:  # AKS node pools take the cluster's location
        found = stack.resolve(block.get("kubernetes_cluster_id"))
        location = found[2].get("location") if found else None
    return location or "unknown"


PROVIDER_CLOUD = {"aws": "aws", "google": "gcp"}


def check_regions(stack: StackDoc, catalog: Catalog) -> None:
    """A provider region no cloud has is an input error, named with its file and field."""
    from terraml.regions import known_regions, looks_like_region
    from terraml.suggest import did_you_mean

    for provider, cloud in PROVIDER_CLOUD.items():
        region = stack.provider_region(provider)
        if region is None or region in catalog.regions(cloud) or region.startswith("${"):
            continue
        known = known_regions(cloud)
        if region not in known and not (cloud == "gcp" and looks_like_region(cloud, region)):
            raise UserError(f"{stack.path}: provider.{provider}[0].region: '{region}' is not a {cloud} region"
                            f"{did_you_mean(region, known)}")


def estimate(stacks: list[StackDoc], catalog: Catalog, usage: Usage | None = None) -> Estimate:
    usage = usage or Usage()
    result = Estimate(stacks=[s.name for s in stacks])
    for stack in stacks:
        check_regions(stack, catalog)
        for rtype, name, block in stack.resources():
            result.lines.extend(price_resource(stack, rtype, name, block, catalog, usage))
    return result


def price_resource(stack: StackDoc, rtype: str, name: str, block: dict, catalog: Catalog,
                   usage: Usage) -> list[Line]:
    cloud = CLOUD_OF_PREFIX.get(rtype.split("_", 1)[0], "other")
    resource = Resource(stack=stack, rtype=rtype, name=name, block=block, team=team_of(stack, block), cloud=cloud,
                        region=region_for(stack, cloud, block) if cloud != "other" else "", catalog=catalog,
                        usage=usage)
    pricer = PRICERS.get(rtype)
    if pricer is not None:
        return pricer(resource)
    if rtype in ON_CLUSTER:
        return resource.free("runs on the cluster's nodes, which are priced with their node groups")
    return resource.unpriced(f"terraml has no pricer for {rtype}")
