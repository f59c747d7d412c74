from terraml.spec.loader import LoadedSpec, load_platform, resolve_spec_path
from terraml.spec.models import Platform, Team

__all__ = ["LoadedSpec", "Platform", "Team", "load_platform", "resolve_spec_path"]
