"""One TerraformStack per team and cloud. Importing this package loads cdktn."""

from terraml.stacks.app import build_app, planned_stacks

__all__ = ["build_app", "planned_stacks"]
