"""platform.yaml and job.yaml: typed models, loaders and checks.

``Platform`` and ``Team`` load on first use: the models are built from the cloud registry, and a
cloud's own block (providers/<cloud>/spec.py) imports ``terraml.spec.base`` while they are built.
"""

from terraml.spec.loader import LoadedSpec, load_platform, resolve_spec_path

__all__ = ["LoadedSpec", "Platform", "Team", "load_platform", "resolve_spec_path"]


def __getattr__(name: str):
    if name in ("Platform", "Team"):
        from terraml.spec import models

        return getattr(models, name)
    raise AttributeError(f"module 'terraml.spec' has no attribute {name!r}")
