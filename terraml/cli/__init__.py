"""The `terraml` command line: one typer app (cli/app.py), one module per command group.

Exit codes (README, "Exit codes"): 0 success; 1 the job or command failed (a cloud API, the disk, an
internal error); 2 bad input, fixable by the user; 130 interrupted.
"""

from __future__ import annotations

import sys

import click
import typer

from terraml.cli import cost, jobs, platform, team  # noqa: F401 - each module adds its commands to the app
from terraml.cli.app import app, err
from terraml.errors import TerramlError


def _usage_errors() -> tuple[type[Exception], ...]:
    """click's usage errors, from the click typer really uses: typer >= 0.2x vendors its own copy."""
    vendored = typer.BadParameter.__mro__  # BadParameter -> UsageError -> ClickException of typer's click
    own = next(c for c in vendored if c.__name__ == "ClickException")
    return (own, click.ClickException) if own is not click.ClickException else (own,)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="terraml", standalone_mode=False)
    except TerramlError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except _usage_errors() as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt, click.Abort):
        err.print("interrupted")
        sys.exit(130)
    except OSError as exc:  # the environment: disk full, permission denied, a file that vanished
        if debug:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        err.print(f"[red]error[/red] {exc.strerror or exc}{where}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as exc:  # a bug in terraml: one line, the traceback on request
        if debug:
            raise
        err.print(f"[red]internal error[/red] {type(exc).__name__}: {exc}\nrun with --debug for the traceback",
                  highlight=False, soft_wrap=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
