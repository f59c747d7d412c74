"""Checks that need the catalog, the clouds' own name lists, or several fields at once.

Each check appends a Problem (error) or a warning; nothing stops at the first finding.
"""

from __future__ import annotations

import re
from collections import Counter
from ipaddress import IPv4Network, ip_network

from terraml.catalog import Catalog, load_catalog
from terraml.cloud import Cloud, get, with_environments
from terraml.errors import Problem
from terraml.naming import team_tags
from terraml.policy.machines import Unresolvable, resolve_machine
from terraml.spec.models import Platform, Team
from terraml.suggest import close_match, did_you_mean, one_of

RESERVED_TAGS = ("team", "cost-center", "environment")
PRIVATE_RANGES = [ip_network("10.0.0.0/8"), ip_network("172.16.0.0/12"), ip_network("192.168.0.0/16")]


class Findings:
    """Errors and warnings found so far, and the checks a cloud's own check_block() reuses."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, message: str):
        self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str):
        self.warnings.append(Problem(path, message))

    def machine(self, cloud: Cloud, region: str, name: str, path: str) -> bool:
        """A machine type the catalog prices in the region, or the cloud knows (warning: unpriced)."""
        catalog = self.catalog
        if catalog.vm(cloud.NAME, region, name):
            return True
        if name in catalog.instance_types(cloud.NAME) or cloud.knows_machine(name):
            self.warn(path, f"'{name}' has no price for {region} in the catalog; cost reports will list it as "
                            "unpriced.")
            return True
        choices = catalog.instance_types(cloud.NAME) | cloud.machine_names()
        self.error(path, f"'{name}' is not an instance type in {region}{did_you_mean(name, choices)} "
                         f"See: terraml catalog gpus --cloud {cloud.NAME} --region {region}")
        return False

    def accelerator(self, cloud: Cloud, region: str, name: str, path: str) -> bool:
        catalog = self.catalog
        here = catalog.accelerators(cloud.NAME, region)
        if name in here:
            return True
        anywhere = catalog.accelerators(cloud.NAME)
        if name in anywhere:
            where = sorted(r for r in catalog.regions(cloud.NAME) if name in catalog.accelerators(cloud.NAME, r))
            self.error(path, f"'{name}' is not offered by {cloud.NAME} in {region}; offered in: {', '.join(where)}. "
                             f"Pick another accelerator ({one_of(here)}) or region.")
        else:
            self.error(path, f"'{name}' is not offered by {cloud.NAME} in {region}{did_you_mean(name, anywhere)} "
                             f"Allowed: {one_of(here)}. See: terraml catalog gpus --cloud {cloud.NAME} "
                             f"--region {region}")
        return False


def check_platform(platform: Platform, catalog: Catalog | None = None) -> tuple[list[Problem], list[Problem]]:
    f = Findings(catalog or load_catalog())
    _check_defaults(platform, f)
    _duplicates([t.name for t in platform.teams], "teams", "team name", f)
    for i, team in enumerate(platform.teams):
        _check_team(platform, team, f"teams[{i}]", f)
    _check_guardrails(platform, f)
    return f.errors, f.warnings


# Kinds of name (NAME_RULES) that are global across accounts: two teams given the same one cannot both exist.
BUCKET_KINDS = ("artifact_bucket", "storage_account")


def _check_guardrails(platform: Platform, f: Findings):
    """Warnings about the platform as a whole: what validates but will hurt later."""
    networks = [(i, team.name, name, block.network.cidr) for i, team in enumerate(platform.teams)
                for name, block in team.clouds.items()]
    for a, (ia, ta, ca, na) in enumerate(networks):
        for ib, _, cb, nb in networks[a + 1:]:
            if ia != ib and na.overlaps(nb):  # within one team it is an error (_check_team)
                f.warn(f"teams[{ib}].clouds.{cb}.network.cidr",
                       f"{nb} overlaps {na} of team '{ta}' (teams[{ia}].clouds.{ca}); peering or VPN between the two "
                       "networks becomes impossible. Give each team a range of its own (terraml team add picks "
                       "the next free /16 in 10.0.0.0/8).")
    for i, team in enumerate(platform.teams):
        if team.budget is None:
            f.warn(f"teams[{i}].budget", f"team '{team.name}' has no budget, so nothing alerts its owners when "
                                         "spend runs away; add budget: {monthly_usd: 5000} (any amount).")
    for name in (c.NAME for c in clouds_of(platform)):
        if platform.defaults.state.block(name) is None:
            f.warn(f"defaults.state.{name}", f"no remote state backend for {name}: its stacks keep Terraform state "
                                             "in local files, lost with the machine that deployed and never locked "
                                             f"against a second deployer. Add defaults.state.{name} (see "
                                             "examples/platform.yaml).")
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for i, team in enumerate(platform.teams):
        for name, _ in team.clouds.items():
            cloud = get(name)
            for key, value in cloud.resource_names(platform, team).items():
                kind = key.split(":")[0]
                if kind not in BUCKET_KINDS:
                    continue
                normal = value.lower()
                first = seen.setdefault((name, normal), (i, team.name))
                if first[0] != i:
                    f.warn(f"teams[{i}].name",
                           f"team '{team.name}' gets the {name} {kind.replace('_', ' ')} name '{value}', which team "
                           f"'{first[1]}' (teams[{first[0]}]) gets too; bucket names are global, so the second "
                           "deploy fails. Rename one of the teams.")


def clouds_of(platform: Platform) -> list[Cloud]:
    """The clouds the spec's teams use, in the registry's order."""
    names = {name for team in platform.teams for name, _ in team.clouds.items()}
    return [c for c in with_environments() if c.NAME in names]


def _duplicates(names: list[str], path: str, what: str, f: Findings):
    for name, n in Counter(names).items():
        if n > 1:
            idx = [i for i, x in enumerate(names) if x == name]
            f.error(f"{path}[{idx[1]}].name",
                    f"duplicate {what} '{name}' (also at {path}[{idx[0]}]); names must be unique. Rename one.")


def _check_defaults(platform: Platform, f: Findings):
    for key in platform.defaults.tags:
        if key.lower() in RESERVED_TAGS:
            f.error(f"defaults.tags.{key}",
                    f"'{key}' is set by terraml from each team ({', '.join(RESERVED_TAGS)}); remove it from tags.")
    for name in sorted({n for team in platform.teams for n, _ in team.clouds.items()}):
        get(name).check_defaults(platform.defaults, f)
    for name, state in platform.defaults.state.items():
        cloud = get(name)
        region = getattr(state, cloud.REGION_FIELD, None)
        if region is not None:
            _check_region(cloud, region, f"defaults.state.{name}.{cloud.REGION_FIELD}", f)


def _check_region(cloud: Cloud, region: str, path: str, f: Findings) -> bool:
    if region in f.catalog.regions(cloud.NAME):  # priced, so real; the cloud's own list is only read on a miss
        return True
    known = cloud.regions()
    if region in known:
        return True
    if cloud.looks_like_region(region) and not cloud.REGION_LIST_COMPLETE and not close_match(region, known):
        f.warn(path, f"'{region}' is not in terraml's list of {cloud.NAME} regions; check the spelling.")
        return True
    f.error(path, f"'{region}' is not a known {cloud.NAME} {cloud.REGION_FIELD}{did_you_mean(region, known)} "
                  f"Allowed: {one_of(known)}.")
    return False


def _check_team(platform: Platform, team: Team, path: str, f: Findings):
    clouds = team.clouds.items()
    if not clouds:
        f.error(f"{path}.clouds", "the team uses no cloud; add at least one of aws, gcp, azure.")
    if team.budget:
        dup = [p for p, n in Counter(team.budget.alert_at_percent).items() if n > 1]
        if dup:
            f.error(f"{path}.budget.alert_at_percent", f"{dup[0]} is listed twice; list each percentage once.")
    networks: list[tuple[str, IPv4Network]] = []
    for name, block in clouds:
        cloud = get(name)
        cpath = f"{path}.clouds.{name}"
        region = getattr(block, cloud.REGION_FIELD)
        region_ok = _check_region(cloud, region, f"{cpath}.{cloud.REGION_FIELD}", f)
        _check_network(block.network, f"{cpath}.network", f)
        networks.append((name, block.network.cidr))
        gpus = _check_pools(cloud, region if region_ok else None, block.gpu_pools, f"{cpath}.gpu_pools", f)
        _check_endpoints(block.endpoints, f"{cpath}.endpoints", f)
        cloud.check_block(block, cpath, region if region_ok else None, f)
        _check_names(cloud, platform, team, path, f)
        _check_tags(cloud, platform, team, path, f)
        if block.feature_store:
            _check_features(cloud, block.feature_store, f"{cpath}.feature_store", f)
        limit = team.quotas.max_gpus
        if limit is not None and gpus > limit:
            f.error(f"{path}.quotas.max_gpus",
                    f"the {name} pools can scale to {gpus:g} GPUs (max_nodes x GPUs per node), above "
                    f"max_gpus {limit}; lower max_nodes or raise quotas.max_gpus.")
    for a in range(len(networks)):
        for b in range(a + 1, len(networks)):
            (ca, na), (cb, nb) = networks[a], networks[b]
            if na.overlaps(nb):
                f.error(f"{path}.clouds.{cb}.network.cidr",
                        f"{nb} overlaps {na} of clouds.{ca}; a team's clouds need disjoint CIDRs to be "
                        f"peered or connected by VPN. Pick a range outside {na}.")


def _check_names(cloud: Cloud, platform: Platform, team: Team, path: str, f: Findings):
    """Every name the cloud derives for the team obeys the cloud's documented limits (NAME_RULES)."""
    for key, name in cloud.resource_names(platform, team).items():
        kind = key.split(":")[0]
        limit, pattern = cloud.NAME_RULES[kind]
        if len(name) > limit or not re.match(pattern, name):
            f.error(f"{path}.name", f"gives the {cloud.NAME} {kind.replace('_', ' ')} name '{name}', which breaks "
                                    f"{cloud.NAME}'s rule (at most {limit} characters matching {pattern}); "
                                    "shorten or rename the org, team, pool, group or endpoint it comes from.")


def _check_tags(cloud: Cloud, platform: Platform, team: Team, path: str, f: Findings):
    """The team's tags (the org's plus team, cost-center, environment) obey the cloud's tag rules."""
    for key, value in team_tags(platform, team).items():
        problem = cloud.tag_problem(key, value)
        if problem:
            where = f"defaults.tags.{key}" if key in platform.defaults.tags else (
                f"{path}.cost_center" if key == "cost-center" else f"{path}.name")
            f.error(where, f"tag {key}={value!r}: {problem}")


def _check_network(network, path: str, f: Findings):
    cidr = network.cidr
    for i, allowed in enumerate(network.public_api_cidrs):
        if allowed.prefixlen == 0:
            f.warn(f"{path}.public_api_cidrs[{i}]", f"{allowed} opens the Kubernetes API to the whole internet; list "
                                                    "only your deployers' networks (e.g. 203.0.113.0/24), or leave "
                                                    "public_api_cidrs empty for a private endpoint.")
    if not any(cidr.subnet_of(r) for r in PRIVATE_RANGES):
        f.error(f"{path}.cidr", f"{cidr} is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 "
                                "or 192.168.0.0/16.")
    if not 16 <= cidr.prefixlen <= 24:
        f.error(f"{path}.cidr", f"{cidr} has prefix /{cidr.prefixlen}; allowed: /16 to /24 (terraml carves "
                                "private and public subnets in three zones from it).")


def _check_pools(cloud: Cloud, region: str | None, pools, path: str, f: Findings) -> float:
    _duplicates([p.name for p in pools], path, "pool name", f)
    total = 0.0
    field = cloud.MACHINE_FIELD
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
        if machine and not f.machine(cloud, region, machine, f"{ppath}.{field}"):
            continue
        if pool.accelerator and not f.accelerator(cloud, region, pool.accelerator, f"{ppath}.accelerator"):
            continue
        try:
            resolved = resolve_machine(cloud.NAME, region, machine, pool.accelerator, pool.accelerator_count,
                                       f.catalog)
        except Unresolvable as exc:
            f.error(f"{ppath}.accelerator_count", str(exc))
            continue
        if resolved.row is not None and not resolved.accelerator:
            f.error(f"{ppath}.{field}", f"'{machine}' has no GPU; gpu_pools need a GPU instance type. "
                                        f"See: terraml catalog gpus --cloud {cloud.NAME} --region {region}")
            continue
        if pool.spot.mode != "on-demand" and resolved.row is not None and resolved.row.spot_usd_per_hour is None:
            f.warn(f"{ppath}.spot.mode", f"the catalog has no spot price for {resolved.instance_type} in {region}; "
                                         "cost reports will price it on-demand.")
        total += (resolved.gpus or 0) * pool.max_nodes
    return total


def _check_endpoints(endpoints, path: str, f: Findings):
    """What every cloud's endpoints share; their machine types are the cloud's own check_block()."""
    _duplicates([e.name for e in endpoints], path, "endpoint name", f)
    for i, ep in enumerate(endpoints):
        if ep.min_replicas > ep.max_replicas:
            f.error(f"{path}[{i}].min_replicas", f"{ep.min_replicas} is above max_replicas {ep.max_replicas}; "
                                                 "min_replicas must be <= max_replicas.")


def _check_features(cloud: Cloud, store, path: str, f: Findings):
    _duplicates([g.name for g in store.groups], f"{path}.groups", "feature group name", f)
    for i, group in enumerate(store.groups):
        gpath = f"{path}.groups[{i}]"
        if group.record_id == group.event_time:
            f.error(f"{gpath}.event_time", f"'{group.event_time}' is also the record_id; use a separate "
                                           "timestamp feature.")
        allowed = cloud.FEATURE_TYPES
        for name, kind in group.features.items():
            if kind not in allowed:
                f.error(f"{gpath}.features.{name}", f"type '{kind}' is not supported by the {cloud.NAME} feature "
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
