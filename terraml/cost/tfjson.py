"""Read synthesized stacks (plain Terraform JSON) and what a pricer needs to know about each resource."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from terraml.errors import UserError

TOP_LEVEL = {"resource", "data", "provider", "terraform", "variable", "output", "locals", "module", "//",
             "check", "import", "moved", "removed", "ephemeral"}
_REGIONS = "tfjson.provider_region"  # the memo key of provider -> region
REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_\-]+)\.([a-z0-9_]+)\}$")


@dataclass(frozen=True)
class StackDoc:
    name: str
    path: Path
    doc: dict
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: str, build: Callable[[], object]):
        """An index over this stack, built once (pricers look things up; they never rescan the stack)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def of_type(self, rtype: str) -> dict:
        return (self.doc.get("resource") or {}).get(rtype, {})

    def resources(self):
        for rtype, named in (self.doc.get("resource") or {}).items():
            for name, block in named.items():
                yield rtype, name, block

    def block(self, rtype: str, name: str) -> dict | None:
        return (self.doc.get("resource") or {}).get(rtype, {}).get(name)

    def resolve(self, value) -> tuple[str, str, dict] | None:
        """The resource a '${type.name.attr}' reference points at, with that block."""
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if not match:
            return None
        rtype, name, _ = match.groups()
        block = self.block(rtype, name)
        return (rtype, name, block) if block is not None else None

    def provider_region(self, provider: str) -> str | None:
        # Asked for every resource of an estimate: one dict lookup once known (no key or closure built per call).
        regions = self._memo.get(_REGIONS)
        if regions is None:
            regions = self._memo[_REGIONS] = {}
        if provider not in regions:
            regions[provider] = self._provider_region(provider)
        return regions[provider]

    def _provider_region(self, provider: str) -> str | None:
        configs = (self.doc.get("provider") or {}).get(provider) or []
        configs = configs if isinstance(configs, list) else [configs]
        return next((c.get("region") for c in configs if isinstance(c, dict) and c.get("region")), None)


def read_stack_file(path: Path, name: str) -> StackDoc:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not Terraform JSON: invalid JSON at line {exc.lineno} column {exc.colno} "
                        f"({exc.msg}). Synthesize it again with `terraml synth`.") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: not Terraform JSON: the top level must be an object, got {type(doc).__name__}.")
    unknown = sorted(set(doc) - TOP_LEVEL)
    if unknown:
        raise UserError(f"{path}: not Terraform JSON: unexpected top-level key '{unknown[0]}'; allowed: "
                        f"{', '.join(sorted(TOP_LEVEL - {'//'}))}.")
    resources = doc.get("resource", {})
    if not isinstance(resources, dict) or not all(isinstance(v, dict) for v in resources.values()):
        raise UserError(f"{path}: not Terraform JSON: 'resource' must map resource types to named blocks.")
    return StackDoc(name, path, doc)


def read_stacks(folder: str | Path) -> list[StackDoc]:
    """Every stack under a cdktf.out folder (stacks/*/cdk.tf.json), or a single stack folder or file."""
    root = Path(folder)
    if root.is_file():
        return [read_stack_file(root, root.parent.name)]
    candidates = _stack_files(root) or sorted(root.glob("*.tf.json"))
    if not candidates:
        raise UserError(f"{root}: no stacks found (expected stacks/*/cdk.tf.json or *.tf.json); run "
                        "`terraml synth` first, or pass the cdktf.out folder.")
    return [read_stack_file(p, p.parent.name if p.name == "cdk.tf.json" else p.name.removesuffix(".tf.json"))
            for p in candidates]


def _stack_files(root: Path) -> list[Path]:
    """sorted(root.glob("stacks/*/cdk.tf.json")) in half its time: the stack folders, followed through symlinks,
    hidden ones included, each with a cdk.tf.json that exists. Sorted by folder name, the one part that differs,
    which is the order of the paths (sorting the Path objects themselves costs most of the glob's time)."""
    stacks = root / "stacks"
    try:
        with os.scandir(stacks) as entries:
            folders = sorted(entry.name for entry in entries if _is_dir(entry))
    except OSError:  # no such folder, not a folder, not readable: no stacks, as glob says
        return []
    prefix = os.path.join(stacks, "")
    return [stacks.joinpath(name, "cdk.tf.json") for name in folders
            if os.path.exists(f"{prefix}{name}/cdk.tf.json")]


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
