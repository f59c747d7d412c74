"""Checks that need the catalog, the clouds' own name lists, or several fields at once.

Each check appends a Problem (error) or a warning; nothing stops at the first finding.
"""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Network, ip_network

from terraml.catalog import Catalog, load_catalog
from terraml.errors import Problem
from terraml.policy.machines import Unresolvable, resolve_machine
from terraml.regions import botocore_enum, cloud_instance_names, cloud_knows_instance, known_regions, looks_like_region
from terraml.spec.models import Platform, Team
from terraml.suggest import close_match, did_you_mean, one_of

RESERVED_TAGS = ("team", "cost-center", "environment")
PRIVATE_RANGES = [ip_network("10.0.0.0/8"), ip_network("172.16.0.0/12"), ip_network("192.168.0.0/16")]
REGION_FIELD = {"aws": "region", "gcp": "region", "azure": "location"}
MACHINE_FIELD = {"aws": "instance_type", "gcp": "machine_type", "azure": "instance_type"}
# SageMaker Feature Store's standard online store has no vector type; GCP's (Bigtable) does.
FEATURE_TYPES = {"aws": {"integral", "fractional", "string"},
                 "gcp": {"integral", "fractional", "string", "vector"},
                 "azure": {"integral", "fractional", "string"}}


class _Findings:
    def __init__(self):
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, message: str):
        self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str):
        self.warnings.append(Problem(path, message))


def check_platform(platform: Platform, catalog: Catalog | None = None) -> tuple[list[Problem], list[Problem]]:
    catalog = catalog or load_catalog()
    f = _Findings()
    _check_defaults(platform, catalog, f)
    _duplicates([t.name for t in platform.teams], "teams", "team name", f)
    for i, team in enumerate(platform.teams):
        _check_team(team, f"teams[{i}]", catalog, f)
    return f.errors, f.warnings


def _duplicates(names: list[str], path: str, what: str, f: _Findings):
    for name, n in Counter(names).items():
        if n > 1:
            idx = [i for i, x in enumerate(names) if x == name]
            f.error(f"{path}[{idx[1]}].name",
                    f"duplicate {what} '{name}' (also at {path}[{idx[0]}]); names must be unique. Rename one.")


def _check_defaults(platform: Platform, catalog: Catalog, f: _Findings):
    for key in platform.defaults.tags:
        if key.lower() in RESERVED_TAGS:
            f.error(f"defaults.tags.{key}",
                    f"'{key}' is set by terraml from each team ({', '.join(RESERVED_TAGS)}); remove it from tags.")
    state = platform.defaults.state.aws
    if state:
        _check_region("aws", state.region, "defaults.state.aws.region", catalog, f)


def _check_region(cloud: str, region: str, path: str, catalog: Catalog, f: _Findings) -> bool:
    if region in catalog.regions(cloud):  # priced, so real; the cloud's own list is only read on a miss
        return True
    known = known_regions(cloud)
    if region in known:
        return True
    if looks_like_region(cloud, region) and cloud != "aws" and not close_match(region, known):
        f.warn(path, f"'{region}' is not in terraml's list of {cloud} regions; check the spelling.")
        return True
    f.error(path, f"'{region}' is not a known {cloud} {REGION_FIELD[cloud]}{did_you_mean(region, known)} "
                  f"Allowed: {one_of(known)}.")
    return False


def _check_team(team: Team, path: str, catalog: Catalog, f: _Findings):
    clouds = team.clouds.items()
    if not clouds:
        f.error(f"{path}.clouds", "the team uses no cloud; add at least one of aws, gcp, azure.")
    if team.budget:
        dup = [p for p, n in Counter(team.budget.alert_at_percent).items() if n > 1]
        if dup:
            f.error(f"{path}.budget.alert_at_percent", f"{dup[0]} is listed twice; list each percentage once.")
    networks: list[tuple[str, IPv4Network]] = []
    for cloud, block in clouds:
        cpath = f"{path}.clouds.{cloud}"
        region = getattr(block, REGION_FIELD[cloud])
        region_ok = _check_region(cloud, region, f"{cpath}.{REGION_FIELD[cloud]}", catalog, f)
        _check_network(block.network, f"{cpath}.network", f)
        networks.append((cloud, block.network.cidr))
        gpus = _check_pools(cloud, region if region_ok else None, block.gpu_pools, f"{cpath}.gpu_pools", catalog, f)
        _check_endpoints(cloud, region if region_ok else None, block.endpoints, f"{cpath}.endpoints", catalog, f)
        if block.feature_store:
            _check_features(cloud, block.feature_store, f"{cpath}.feature_store", f)
        limit = team.quotas.max_gpus
        if limit is not None and gpus > limit:
            f.error(f"{path}.quotas.max_gpus",
                    f"the {cloud} pools can scale to {gpus:g} GPUs (max_nodes x GPUs per node), above "
                    f"max_gpus {limit}; lower max_nodes or raise quotas.max_gpus.")
    for a in range(len(networks)):
        for b in range(a + 1, len(networks)):
            (ca, na), (cb, nb) = networks[a], networks[b]
            if na.overlaps(nb):
                f.error(f"{path}.clouds.{cb}.network.cidr",
                        f"{nb} overlaps {na} of clouds.{ca}; a team's clouds need disjoint CIDRs to be "
                        f"peered or connected by VPN. Pick a range outside {na}.")


def _check_network(network, path: str, f: _Findings):
    cidr = network.cidr
    if not any(cidr.subnet_of(r) for r in PRIVATE_RANGES):
        f.error(f"{path}.cidr", f"{cidr} is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 "
                                "or 192.168.0.0/16.")
    if not 16 <= cidr.prefixlen <= 24:
        f.error(f"{path}.cidr", f"{cidr} has prefix /{cidr.prefixlen}; allowed: /16 to /24 (terraml carves "
                                "private and public subnets in three zones from it).")


def _check_machine(cloud: str, region: str, name: str, path: str, catalog: Catalog, f: _Findings) -> bool:
    if catalog.vm(cloud, region, name):
        return True
    in_catalog = name in catalog.instance_types(cloud)
    if in_catalog or cloud_knows_instance(cloud, name):
        f.warn(path, f"'{name}' has no price for {region} in the catalog; cost reports will list it as unpriced.")
        return True
    choices = catalog.instance_types(cloud) | cloud_instance_names(cloud)
    f.error(path, f"'{name}' is not an instance type in {region}{did_you_mean(name, choices)} "
                  f"See: terraml catalog gpus --cloud {cloud} --region {region}")
    return False


def _check_accelerator(cloud: str, region: str, name: str, path: str, catalog: Catalog, f: _Findings) -> bool:
    here = catalog.accelerators(cloud, region)
    if name in here:
        return True
    anywhere = catalog.accelerators(cloud)
    if name in anywhere:
        where = sorted(r for r in catalog.regions(cloud) if name in catalog.accelerators(cloud, r))
        f.error(path, f"'{name}' is not offered by {cloud} in {region}; offered in: {', '.join(where)}. "
                      f"Pick another accelerator ({one_of(here)}) or region.")
    else:
        f.error(path, f"'{name}' is not offered by {cloud} in {region}{did_you_mean(name, anywhere)} "
                      f"Allowed: {one_of(here)}. See: terraml catalog gpus --cloud {cloud} --region {region}")
    return False


def _check_pools(cloud: str, region: str | None, pools, path: str, catalog: Catalog, f: _Findings) -> float:
    _duplicates([p.name for p in pools], path, "pool name", f)
    total = 0.0
    field = MACHINE_FIELD[cloud]
    for i, pool in enumerate(pools):
        ppath = f"{path}[{i}]"
        machine = getattr(pool, field)
        if pool.min_nodes > pool.max_nodes:
            f.error(f"{ppath}.min_nodes", f"{pool.min_nodes} is above max_nodes {pool.max_nodes}; "
                                          "min_nodes must be <= max_nodes.")
        if pool.spot.mode == "on-demand" and pool.spot.max_price_ratio is not None:
            f.error(f"{ppath}.spot.max_price_ratio",
                    f"{pool.spot.max_price_ratio} caps a spot price, but mode is 'on-demand'; "
                    "remove max_price_ratio or use mode 'spot' or 'auto'.")
        if (machine is None) == (pool.accelerator is None):
            both = "both" if machine else "neither"
            f.error(ppath, f"{both} '{field}' and 'accelerator' given; give exactly one of them.")
            continue
        if pool.accelerator_count is not None and pool.accelerator is None:
            f.error(f"{ppath}.accelerator_count", f"{pool.accelerator_count} given without 'accelerator'; "
                                                  f"the count comes from '{field}' itself. Remove it.")
        if region is None:
            continue
        if machine and not _check_machine(cloud, region, machine, f"{ppath}.{field}", catalog, f):
            continue
        if pool.accelerator and not _check_accelerator(cloud, region, pool.accelerator,
                                                       f"{ppath}.accelerator", catalog, f):
            continue
        try:
            resolved = resolve_machine(cloud, region, machine, pool.accelerator, pool.accelerator_count, catalog)
        except Unresolvable as exc:
            f.error(f"{ppath}.accelerator_count", str(exc))
            continue
        if resolved.row is not None and not resolved.accelerator:
            f.error(f"{ppath}.{field}", f"'{machine}' has no GPU; gpu_pools need a GPU instance type. "
                                        f"See: terraml catalog gpus --cloud {cloud} --region {region}")
            continue
        if pool.spot.mode != "on-demand" and resolved.row is not None and resolved.row.spot_usd_per_hour is None:
            f.warn(f"{ppath}.spot.mode", f"the catalog has no spot price for {resolved.instance_type} in {region}; "
                                         "cost reports will price it on-demand.")
        total += (resolved.gpus or 0) * pool.max_nodes
    return total


def _check_endpoints(cloud: str, region: str | None, endpoints, path: str, catalog: Catalog, f: _Findings):
    _duplicates([e.name for e in endpoints], path, "endpoint name", f)
    for i, ep in enumerate(endpoints):
        epath = f"{path}[{i}]"
        if ep.min_replicas > ep.max_replicas:
            f.error(f"{epath}.min_replicas", f"{ep.min_replicas} is above max_replicas {ep.max_replicas}; "
                                             "min_replicas must be <= max_replicas.")
        if region is None:
            continue
        if cloud == "aws":
            _check_sagemaker_type(region, ep.instance_type, f"{epath}.instance_type", catalog, f)
        elif cloud == "gcp":
            if _check_machine(cloud, region, ep.machine_type, f"{epath}.machine_type", catalog, f) and ep.accelerator:
                _check_accelerator(cloud, region, ep.accelerator, f"{epath}.accelerator", catalog, f)
        else:
            _check_machine(cloud, region, ep.instance_type, f"{epath}.instance_type", catalog, f)


def _check_sagemaker_type(region: str, name: str, path: str, catalog: Catalog, f: _Findings):
    if catalog.managed_row("aws", region, name, "real-time inference"):
        return
    known = botocore_enum("sagemaker", "ProductionVariantInstanceType")
    if name not in known:
        f.error(path, f"'{name}' is not a SageMaker hosting instance type{did_you_mean(name, known)} "
                      "SageMaker types start with 'ml.', e.g. 'ml.g5.xlarge'.")
    else:
        f.warn(path, f"'{name}' has no SageMaker hosting price for {region} in the catalog; "
                     "cost reports will list it as unpriced.")


def _check_features(cloud: str, store, path: str, f: _Findings):
    _duplicates([g.name for g in store.groups], f"{path}.groups", "feature group name", f)
    for i, group in enumerate(store.groups):
        gpath = f"{path}.groups[{i}]"
        if group.record_id == group.event_time:
            f.error(f"{gpath}.event_time", f"'{group.event_time}' is also the record_id; use a separate "
                                           "timestamp feature.")
        allowed = FEATURE_TYPES[cloud]
        for name, kind in group.features.items():
            if kind not in allowed:
                f.error(f"{gpath}.features.{name}", f"type '{kind}' is not supported by the {cloud} feature "
                                                    f"store; allowed: {one_of(allowed)}.")
        event_kind = group.features.get(group.event_time)
        if event_kind not in (None, "string", "fractional"):
            f.error(f"{gpath}.features.{group.event_time}",
                    f"the event_time feature is '{event_kind}'; it must be 'string' (ISO-8601) or "
                    "'fractional' (Unix seconds).")
        record_kind = group.features.get(group.record_id)
        if record_kind not in (None, "string", "integral"):
            f.error(f"{gpath}.features.{group.record_id}",
                    f"the record_id feature is '{record_kind}'; it must be 'string' or 'integral'.")
