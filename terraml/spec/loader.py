"""Load platform.yaml into the typed model, turning every failure into a field-path Problem."""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from terraml.errors import Problem, SpecError, UserError
from terraml.suggest import did_you_mean, one_of

if TYPE_CHECKING:
    from terraml.spec.models import Platform

DEFAULT_SPEC = "platform.yaml"
SPEC_ENV = "TERRAML_SPEC"

# Human descriptions of the string patterns used in the models, keyed by the pattern itself.
_PATTERN_HINTS = {
    r"^[a-z][a-z0-9-]{0,20}[a-z0-9]$": "use 2-22 lowercase letters, digits or '-', starting with a letter",
    r"^[a-z][a-z0-9_]{0,62}$": "use lowercase letters, digits or '_', starting with a letter",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "use an e-mail address such as ml-leads@example.com",
    r"^[a-z][a-z0-9]{1,9}$": "use 2-10 lowercase letters or digits, starting with a letter (prod, staging, dev)",
    r"^1\.\d{2}$": "use a Kubernetes minor version such as '1.33'",
    r"^[a-z0-9]{3,24}$": "use 3-24 lowercase letters or digits",
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$": "use a GCP project id: 6-30 lowercase letters, digits or '-'",
    r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$": "use up to 63 letters, digits or '-', starting with a letter or digit",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "use a bucket name: 3-63 lowercase letters, digits, '.' or '-', "
                                          "starting and ending with a letter or digit",
    r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$": "use a bucket name: 3-63 lowercase letters, digits, '.', '_' or "
                                           "'-', starting and ending with a letter or digit",
}


@dataclass(frozen=True)
class LoadedSpec:
    """A valid platform spec with the warnings found while checking it."""

    platform: Platform
    path: Path
    warnings: list[Problem] = field(default_factory=list)


def resolve_spec_path(arg: str | None, *, required: bool = True) -> Path | None:
    """CLI argument or --spec, else $TERRAML_SPEC, else ./platform.yaml.

    With ``required=False`` (commands that only use the spec when there is one), a missing default
    ./platform.yaml gives None; a spec that was named but is missing is still an error.
    """
    chosen = arg or os.environ.get(SPEC_ENV) or DEFAULT_SPEC
    path = Path(chosen)
    if not required and chosen == DEFAULT_SPEC and not path.is_file():
        return None
    if path.is_dir():
        raise UserError(f"{path} is a folder; give the path of a YAML file (e.g. {path / DEFAULT_SPEC}).")
    if not path.is_file():
        how = "argument/--spec" if arg else (f"${SPEC_ENV}" if os.environ.get(SPEC_ENV) else "default")
        raise UserError(
            f"spec file not found: {path} (from {how}). Pass the spec as an argument or --spec, "
            f"set {SPEC_ENV}, or run in a folder with {DEFAULT_SPEC}; examples/platform.yaml is a start."
        )
    return path


def read_yaml(path: Path) -> Any:
    """Round-trip load (keeps line numbers); syntax errors name the line and column."""
    yaml = YAML(typ="rt")
    if path.is_dir():
        raise UserError(f"{path} is a folder; give the path of a YAML file.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text (byte {exc.start}): is it a binary file? Save it as UTF-8 "
                        "YAML.") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}.") from None
    try:
        return yaml.load(text)
    except ReaderError as exc:  # a NUL or another character YAML does not allow
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise UserError(f"{path}: not a YAML text file (control character U+{char:04X} at offset {exc.position}); "
                        "remove it or save the file as plain text.") from None
    except YAMLError as exc:
        if not isinstance(exc, MarkedYAMLError):
            raise UserError(f"{path}: invalid YAML ({exc}).") from None
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        what = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(
            [Problem("", f"YAML syntax error: {what}. Fix the YAML at this line and column.", where)]
        ) from None


def locate(doc: Any, loc: tuple, source: str, key: bool = False) -> str | None:
    """'file:line:col' of the node at ``loc`` (the key's position when ``key``), or None."""
    node, pos = doc, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            pos = node.lc.key(part) if key and part == loc[-1] else node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            pos = node.lc.item(part)
            node = node[part]
        else:
            break
    if pos is None:
        return None
    return f"{source}:{pos[0] + 1}:{pos[1] + 1}"


def format_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated to reach the model, list or dict underneath."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that owns the mapping at ``loc`` (for listing its allowed keys)."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            if typing.get_origin(current) is list:
                current = typing.get_args(current)[0]
                continue
            return None
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return None
            current = info.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)


def translate(error: dict, root: type[BaseModel]) -> str:
    """One pydantic error as 'what is wrong, value, allowed, fix'."""
    kind, loc, value, ctx = error["type"], error["loc"], error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        owner = model_at(root, loc[:-1])
        allowed = list(owner.model_fields) if owner else []
        hint = did_you_mean(str(loc[-1]), allowed)
        return f"unknown key '{loc[-1]}'{hint} Allowed keys: {one_of(allowed, 20)}. Remove it or fix its spelling."
    if kind == "missing":
        return f"required field '{loc[-1]}' is missing; add it."
    if kind == "literal_error":
        allowed = [a.strip().strip("'") for a in ctx.get("expected", "").replace(" or ", ", ").split(",")]
        hint = did_you_mean(str(value), allowed)
        return f"{_show(value)} is not allowed{hint} Allowed: {one_of(allowed)}."
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(ctx.get("pattern", ""), f"it must match {ctx.get('pattern')}")
        return f"{_show(value)} is not valid; {hint}."
    bounds = {
        "greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        return f"{_show(value)} is out of range; it must be {bounds[kind]} {limit}. Change the value."
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        return f"{_show(value)}: {error['msg'].lower()}."
    expected = {
        "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
        "float_parsing": "a number", "float_type": "a number", "bool_parsing": "true or false",
        "bool_type": "true or false", "string_type": "a string (quote it)", "model_type": "a mapping of keys",
        "model_attributes_type": "a mapping of keys", "dict_type": "a mapping", "list_type": "a list",
        "ip_v4_network": "an IPv4 network in CIDR form such as 10.20.0.0/16 (no host bits set)",
    }
    if kind in expected:
        return f"got {_show(value)}; expected {expected[kind]}."
    return f"{error['msg']} (got {_show(value)})."


def parse_document(doc: Any, model: type[BaseModel], source: str, needs: str):
    """Validate a loaded YAML document against ``model``; SpecError with one Problem per finding."""
    if doc is None:
        raise SpecError([Problem("", f"{source} is empty; it needs at least {needs}.")], source)
    if not isinstance(doc, dict):
        raise SpecError([Problem("", f"the top level must be a mapping with {needs}, got {_show(doc)}.")], source)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            key = err["type"] == "extra_forbidden"
            where = locate(doc, loc if err["type"] != "missing" else loc[:-1], source, key=key)
            problems.append(Problem(format_path(loc), translate(err, model), where))
        raise SpecError(problems, source) from None


def parse_platform(doc: Any, source: str):
    from terraml.spec.models import Platform

    return parse_document(doc, Platform, source, "'org' and 'teams'")


def load_platform(path: str | Path | None = None, *, catalog=None) -> LoadedSpec:
    """Resolve, read, parse and check a platform spec. The one way every command loads it."""
    from terraml.spec.checks import check_platform

    spec_path = resolve_spec_path(str(path) if path else None)
    doc = read_yaml(spec_path)
    platform = parse_platform(doc, str(spec_path))
    errors, warnings = check_platform(platform, catalog=catalog)
    located = [Problem(p.path, p.message, p.location or locate_path(doc, p.path, str(spec_path))) for p in errors]
    if located:
        raise SpecError(located, str(spec_path))
    warned = [Problem(p.path, p.message, locate_path(doc, p.path, str(spec_path))) for p in warnings]
    return LoadedSpec(platform=platform, path=spec_path, warnings=warned)


def locate_path(doc: Any, path: str, source: str) -> str | None:
    """Turn 'teams[1].clouds.aws.region' back into a loc tuple and find it in the document."""
    loc: list[Any] = []
    for chunk in path.replace("[", ".[").split("."):
        if not chunk:
            continue
        loc.append(int(chunk[1:-1]) if chunk.startswith("[") else chunk)
    return locate(doc, tuple(loc), source)
