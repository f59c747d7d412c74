"""Price every resource of a set of synthesized stacks per month, at minimum and maximum scale.

Pure: stacks, the catalog and usage assumptions in; explained lines out. Each resource is priced,
free (with the reason), or unpriced (with the reason); nothing is silently $0. Each cloud prices its
own resource types (``Cloud.pricers``) and says where a resource runs (``Cloud.resource_region``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from functools import cache

from terraml import cloud as clouds
from terraml.catalog import Catalog
from terraml.cost.model import UNPRICED, Estimate, Line, Usage
from terraml.cost.pricing import OneLine, Pricer, ResourceToPrice, free_because
from terraml.cost.tfjson import StackDoc
from terraml.errors import UserError
from terraml.suggest import did_you_mean

ON_CLUSTER = {"helm_release", "kubernetes_manifest", "kubernetes_config_map_v1", "kubernetes_namespace_v1"}


@cache
def pricers() -> dict[str, Pricer]:
    """Terraform resource type -> pricer, from every cloud."""
    return {rtype: pricer for c in clouds.with_environments() for rtype, pricer in c.pricers().items()}


def team_of(stack: StackDoc, block: dict) -> str:
    tags = block.get("tags") or block.get("labels") or {}
    if isinstance(tags, dict) and tags.get("team"):
        return str(tags["team"])
    return _stack_team(stack)


def _stack_team(stack: StackDoc) -> str:
    """The team of a resource without a team tag: the stack's name less its cloud suffix."""
    head, _, tail = stack.name.rpartition("-")
    return head if head and tail in clouds.environment_names() else stack.name


@cache
def _plan(rtype: str) -> tuple[clouds.Cloud | None, Pricer]:
    """The cloud and the pricer of a resource type, the same for every resource of that type."""
    pricer = pricers().get(rtype)
    if pricer is None:
        pricer = (free_because("runs on the cluster's nodes, which are priced with their node groups")
                  if rtype in ON_CLUSTER else no_pricer(rtype))
    return clouds.of_resource_type(rtype), pricer


def no_pricer(rtype: str) -> Pricer:
    return OneLine(UNPRICED, f"terraml has no pricer for {rtype}")


def check_regions(stack: StackDoc, catalog: Catalog) -> None:
    """A provider region no cloud has is an input error, named with its file and field."""
    for cloud in clouds.with_environments():
        provider = cloud.REGION_PROVIDER
        region = stack.provider_region(provider) if provider else None
        if region is None or region in catalog.regions(cloud.NAME) or region.startswith("${"):
            continue
        known = cloud.regions()
        if region not in known and (cloud.REGION_LIST_COMPLETE or not cloud.looks_like_region(region)):
            raise UserError(f"{stack.path}: provider.{provider}[0].region: '{region}' is not a {cloud.NAME} region"
                            f"{did_you_mean(region, known)}")


@contextmanager
def _collector_paused():
    """An estimate allocates tens of thousands of acyclic objects (lines, resources to price); each batch of them
    would set off the cyclic garbage collector, which walks the whole parsed Terraform JSON every time and finds
    nothing to free. Pausing it for the estimate only saves about a tenth of the time; it is restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def estimate(stacks: list[StackDoc], catalog: Catalog, usage: Usage | None = None,
             today: date | None = None) -> Estimate:
    """``today`` (default: the current date) decides date-dependent prices, e.g. an EKS version's support tier."""
    with _collector_paused():
        return _estimate(stacks, catalog, usage, today)


def _estimate(stacks: list[StackDoc], catalog: Catalog, usage: Usage | None, today: date | None) -> Estimate:
    usage = usage or Usage()
    today = today or date.today()
    result = Estimate(stacks=[s.name for s in stacks])
    add, append = result.lines.extend, result.lines.append
    # price_resource for every resource, with what is the same for a whole stack (its name, its default team) or a
    # whole resource type (cloud, pricer) looked up once, and the line of a free or unpriced type (most of a stack)
    # made here, as its OneLine pricer would make it: 10,000 resources cost little more than reading them.
    for stack in stacks:
        check_regions(stack, catalog)
        stack_name, stack_team = stack.name, None
        resolvers: dict[str, Callable[[dict], str]] = {}  # cloud -> its region resolver for this stack
        for rtype, named in (stack.doc.get("resource") or {}).items():
            cloud, pricer = _plan(rtype)
            if cloud is None:
                cloud_name, region_of = "other", None
            else:
                cloud_name = cloud.NAME
                region_of = resolvers.get(cloud_name) or resolvers.setdefault(cloud_name, cloud.region_resolver(stack))
            one_line = type(pricer) is OneLine
            for name, block in named.items():
                tags = block.get("tags") or block.get("labels") or {}
                if isinstance(tags, dict) and tags.get("team"):
                    team = str(tags["team"])
                else:
                    team = stack_team = stack_team or _stack_team(stack)
                region = region_of(block) if region_of else ""
                if one_line:
                    append(Line(stack_name, team, cloud_name, region, f"{rtype}.{name}", rtype, "resource",
                                pricer.status, reason=pricer.reason))
                else:
                    add(pricer(ResourceToPrice(stack, rtype, name, block, team, cloud_name, region, catalog, usage,
                                               today)))
    return result


def check_overrides(usage: Usage, *estimates: Estimate) -> None:
    """Every usage override must name a resource of the estimates (an override that matches nothing
    would be silently ignored)."""
    addresses = {f"{line.stack}:{line.address}" for est in estimates for line in est.lines}
    unmatched = sorted(set(usage.overrides) - addresses)
    if unmatched:
        first = unmatched[0]
        near = sorted(a for a in addresses if a.startswith(first.split(".", 1)[0] + "."))
        raise UserError(f"usage overrides.{first}: matches no resource{did_you_mean(first, addresses)} "
                        f"Addresses of that type: {', '.join(near[:8]) or 'none'} (`terraml cost report --format "
                        "csv` lists every address).")


def price_resource(stack: StackDoc, rtype: str, name: str, block: dict, catalog: Catalog,
                   usage: Usage, today: date | None = None) -> list[Line]:
    cloud, pricer = _plan(rtype)
    return pricer(ResourceToPrice(stack=stack, rtype=rtype, name=name, block=block, team=team_of(stack, block),
                                  cloud=cloud.NAME if cloud else "other",
                                  region=cloud.resource_region(stack, block) if cloud else "", catalog=catalog,
                                  usage=usage, today=today or date.today()))
