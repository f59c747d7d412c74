"""Edit platform.yaml the way a person would: a ruamel.yaml round trip that keeps every comment, the key
order and the indentation, checked by the same loader every command uses before it is written atomically.

    SpecDocument.read(path)       the document, its text and the indentation it was written with
    .add_team(block)              append a team (a blank line before it, like the skeleton's teams)
    .remove_team(name)            drop a team; the comments that introduce the next team are kept
    .text()                       the edited text
    check_text(text, path)        load_platform on text that is not written yet (errors name the real file)
    free_cidr(used)               the next /16 in 10.0.0.0/8 that overlaps no team's network
    parse_gpu(text)               --gpu ACCEL:MIN-MAX:MODE, with one clear error per bad part
    team_block(...)               a new team as YAML nodes (flow style for the short mappings)
"""

from __future__ import annotations

import io
import re
import typing
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from terraml.errors import Problem, SpecError, UserError
from terraml.spec.base import SpotMode
from terraml.spec.loader import LoadedSpec, locate_path, parse_platform, read_yaml
from terraml.suggest import did_you_mean

TEN = ip_network("10.0.0.0/8")
SPOT_MODES: tuple[str, ...] = typing.get_args(SpotMode)


# ---------------------------------------------------------------- the document
def _yaml(text: str) -> YAML:
    """A round-trip YAML configured with the indentation the file already uses."""
    yaml = YAML(typ="rt")
    yaml.width = 4096  # never fold a long line the user wrote on one
    yaml.preserve_quotes = True
    mapping = 2
    match = re.search(r"^[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]+)[^\s#-]", text, re.M)
    if match:
        mapping = len(match.group(1))
    seq = re.search(r"^([ \t]*)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]*)- ", text, re.M)
    offset = max(len(seq.group(2)) - len(seq.group(1)), 0) if seq else mapping
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


@dataclass
class SpecDocument:
    path: Path
    original: str
    doc: CommentedMap
    yaml: YAML

    @classmethod
    def read(cls, path: Path) -> SpecDocument:
        doc = read_yaml(path)  # the loader's errors: not UTF-8, control characters, YAML syntax with line:col
        if not isinstance(doc, CommentedMap) or not isinstance(doc.get("teams"), CommentedSeq):
            raise UserError(f"{path}: expected a mapping with a 'teams' list; run `terraml validate {path}`.")
        text = path.read_text(encoding="utf-8")
        return cls(path, text, doc, _yaml(text))

    @property
    def teams(self) -> CommentedSeq:
        return self.doc["teams"]

    def team_names(self) -> list[str]:
        return [str(t.get("name")) for t in self.teams if isinstance(t, dict)]

    def team_index(self, name: str) -> int | None:
        return next((i for i, t in enumerate(self.teams) if isinstance(t, dict) and t.get("name") == name), None)

    def text(self) -> str:
        buffer = io.StringIO()
        self.yaml.dump(self.doc, buffer)
        return buffer.getvalue()

    def add_team(self, block: CommentedMap) -> None:
        teams = self.teams
        teams.append(block)
        teams.yaml_set_comment_before_after_key(len(teams) - 1, before="\n")

    def remove_team(self, name: str) -> CommentedMap:
        """Remove a team. Comments are kept with what they stand next to: the lines that introduce the
        next team (stored by ruamel at the end of the removed one) move to the end of the previous one."""
        index = self.team_index(name)
        if index is None:
            raise UserError(f"team '{name}' is not in {self.path}{did_you_mean(name, self.team_names())} "
                            f"Teams: {', '.join(self.team_names())}.")
        teams = self.teams
        removed = teams[index]
        _, introduces_next = _split(_token(_last_holder(removed)))
        del teams[index]  # ruamel shifts the comments attached to the later items
        if index > 0:
            holder = _last_holder(teams[index - 1])
            token = _token(holder)
            own, _ = _split(token)  # what followed it introduced the removed team: dropped with it
            if token is not None:
                token.value = own + introduces_next
            elif introduces_next and holder is not None:
                node, key, pos = holder
                entry = node.ca.items.setdefault(key, [None, None, None, None])
                entry[pos] = CommentToken("\n" + introduces_next, CommentMark(0), None)
        elif introduces_next and len(teams):
            entry = teams.ca.items.setdefault(0, [None, [], None, None])
            entry[1] = [CommentToken(introduces_next, CommentMark(0), None), *(entry[1] or [])]
        return removed


def _flow(node: Any) -> bool:
    return bool(getattr(node, "fa", None) and node.fa.flow_style())


def _last_holder(node: Any) -> tuple[Any, Any, int] | None:
    """(collection, key, slot) whose comment slot holds what follows ``node`` in the file."""
    if isinstance(node, dict) and node:
        key, slot = list(node)[-1], 2
    elif isinstance(node, list) and node:
        key, slot = len(node) - 1, 0
    else:
        return None
    value = node[key]
    if isinstance(value, dict | list) and value and not _flow(value):
        return _last_holder(value)
    return node, key, slot


def _token(holder: tuple[Any, Any, int] | None) -> CommentToken | None:
    if holder is None:
        return None
    node, key, slot = holder
    entry = node.ca.items.get(key)
    return entry[slot] if entry and len(entry) > slot and isinstance(entry[slot], CommentToken) else None


def _split(token: CommentToken | None) -> tuple[str, str]:
    """A trailing comment token: (the rest of its own line, the lines after it)."""
    if token is None:
        return "", ""
    own, _, after = token.value.partition("\n")
    return own + "\n", after


def check_text(text: str, path: Path, *, catalog=None) -> LoadedSpec:
    """What load_platform(path) would say if ``text`` were the file: parse, model, checks, warnings."""
    from terraml.spec.checks import check_platform

    yaml = YAML(typ="rt")
    doc = yaml.load(text)
    platform = parse_platform(doc, str(path))
    errors, warnings = check_platform(platform, catalog=catalog)
    if errors:
        raise SpecError([Problem(p.path, p.message, p.location or locate_path(doc, p.path, str(path)))
                         for p in errors], str(path))
    return LoadedSpec(platform=platform, path=path,
                      warnings=[Problem(p.path, p.message, locate_path(doc, p.path, str(path))) for p in warnings])


# ---------------------------------------------------------------- networks
def free_cidr(used: list[IPv4Network]) -> IPv4Network:
    """The next /16 in 10.0.0.0/8 above every network already used there, else the lowest free one:
    new teams line up after the existing ones, and no two teams overlap (peering and VPN stay possible)."""
    candidates = list(TEN.subnets(new_prefix=16))
    taken = [n for n in used if n.version == 4]
    free = [c for c in candidates if not any(c.overlaps(n) for n in taken)]
    if not free:
        raise UserError("every /16 of 10.0.0.0/8 overlaps a team's network; give the team a range by hand in "
                        "platform.yaml (172.16.0.0/12 or 192.168.0.0/16).")
    in_ten = [n for n in taken if n.subnet_of(TEN) or n.overlaps(TEN)]
    top = max((n.broadcast_address for n in in_ten), default=None)
    above = [c for c in free if top is None or c.network_address > top]
    return (above or free)[0]


def used_networks(doc: CommentedMap) -> list[IPv4Network]:
    found = []
    for team in doc.get("teams") or []:
        for block in ((team or {}).get("clouds") or {}).values() if isinstance(team, dict) else []:
            try:
                found.append(ip_network(str(((block or {}).get("network") or {}).get("cidr")), strict=False))
            except (ValueError, AttributeError):
                continue
    return found


# ---------------------------------------------------------------- --gpu
@dataclass(frozen=True)
class GpuAsk:
    accelerator: str
    min_nodes: int
    max_nodes: int
    mode: str


def parse_gpu(text: str, accelerators: set[str] | frozenset[str], where: str) -> GpuAsk:
    """ACCEL:MIN-MAX:MODE, e.g. L4:0-4:spot. ``accelerators`` are those offered where the team runs."""
    form = "use ACCELERATOR:MIN-MAX:MODE, e.g. --gpu L4:0-4:spot"
    parts = text.split(":")
    if len(parts) != 3:
        raise UserError(f"--gpu: '{text}' has {len(parts)} part(s); {form}.")
    accel, sizes, mode = (p.strip() for p in parts)
    if accel not in accelerators:
        raise UserError(f"--gpu: accelerator '{accel}' is not offered in {where}{did_you_mean(accel, accelerators)} "
                        f"Allowed: {', '.join(sorted(accelerators))}.")
    match = re.fullmatch(r"(\d+)-(\d+)", sizes)
    if not match:
        raise UserError(f"--gpu: node range '{sizes}' is not MIN-MAX; use two whole numbers such as 0-4 (0 lets the "
                        "pool scale to zero).")
    low, high = int(match.group(1)), int(match.group(2))
    if high < 1 or high > 1000:
        raise UserError(f"--gpu: max nodes {high} is out of range; use 1 to 1000.")
    if low > high:
        raise UserError(f"--gpu: min nodes {low} is above max nodes {high}; use MIN <= MAX, e.g. 0-{high}.")
    if mode not in SPOT_MODES:
        raise UserError(f"--gpu: mode '{mode}' is not allowed{did_you_mean(mode, SPOT_MODES)} Allowed: "
                        f"{', '.join(SPOT_MODES)}.")
    return GpuAsk(accel, low, high, mode)


def flow(**values: Any) -> CommentedMap:
    node = CommentedMap(values)
    node.fa.set_flow_style()
    return node


def flow_list(values: list) -> CommentedSeq:
    node = CommentedSeq(values)
    node.fa.set_flow_style()
    return node


def pool_block(ask: GpuAsk) -> CommentedMap:
    return CommentedMap([("name", "train"), ("accelerator", ask.accelerator), ("min_nodes", ask.min_nodes),
                         ("max_nodes", ask.max_nodes), ("spot", flow(mode=ask.mode))])


def team_block(name: str, *, cost_center: str, owners: list[str], cloud: str, cloud_fields: dict[str, Any],
               cidr: IPv4Network, pools: list[CommentedMap], budget_usd: float | None,
               max_gpus: int | None) -> CommentedMap:
    """A new team with one cloud: ``cloud_fields`` are the cloud's own leading fields (region, project...)."""
    block = CommentedMap(cloud_fields)
    block["network"] = flow(cidr=str(cidr))
    block["gpu_pools"] = CommentedSeq(pools)
    block["registry"] = flow()
    team = CommentedMap([("name", name), ("cost_center", cost_center), ("owners", flow_list(owners))])
    if budget_usd is not None:
        team["budget"] = flow(monthly_usd=_number(budget_usd))
    if max_gpus is not None:
        team["quotas"] = flow(max_gpus=max_gpus)
    team["clouds"] = CommentedMap([(cloud, block)])
    return team


def copy_team(source: CommentedMap, name: str) -> CommentedMap:
    """A deep copy of another team's block under a new name, without the comments that introduce the
    team after the source (ruamel keeps them at the end of the source's last value)."""
    import copy

    team = copy.deepcopy(source)
    team["name"] = name
    token = _token(_last_holder(team))
    if token is not None:
        token.value, _ = _split(token)
    return team


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
