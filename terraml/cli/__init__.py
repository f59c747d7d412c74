"""The `terraml` command line: one typer app (cli/app.py), one module per command group."""

from __future__ import annotations

import sys

import click
import typer

from terraml.cli import cost, jobs, platform  # noqa: F401 - each module adds its commands to the app
from terraml.cli.app import app, err
from terraml.errors import TerramlError


def main() -> None:
    try:
        app(standalone_mode=False)
    except TerramlError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:  # usage errors arrive here in non-standalone mode
        exc.show()
        sys.exit(exc.exit_code)


__all__ = ["app", "main"]
