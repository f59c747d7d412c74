"""The cdktn app: one TerraformStack per team and cloud. Importing this package loads cdktn."""

from terraml.stacks.app import build_app

__all__ = ["build_app"]
