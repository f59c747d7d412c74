"""Backend names -> classes, imported only when used; a missing cloud SDK names the extra to install."""

from __future__ import annotations

import importlib

from terraml.errors import UserError

BACKENDS = {
    "local": ("providers.local.backend", "LocalBackend", None),
    "aws": ("providers.aws.sagemaker", "SageMakerBackend", "aws"),
}


def backend_class(name: str):
    if name not in BACKENDS:
        later = {"gcp": "Vertex AI", "azure": "Azure ML"}
        if name in later:
            raise UserError(f"--cloud {name}: the {later[name]} backend is not built yet; available: "
                            f"{', '.join(BACKENDS)}.")
        raise UserError(f"--cloud: '{name}' is not a backend; allowed: {', '.join(BACKENDS)}.")
    module, cls, extra = BACKENDS[name]
    try:
        return getattr(importlib.import_module(module), cls)
    except ModuleNotFoundError as exc:
        if extra is None:
            raise
        raise UserError(f"the {name} backend needs the '{exc.name}' package: pip install 'terraml[{extra}]'") \
            from None


def create_backend(name: str, settings):
    """Build a backend from the settings the CLI resolved (flag > environment > spec > default)."""
    return backend_class(name).from_settings(settings)
