"""The typer app every command module adds to, and what they share: consoles, options, and resolving
the spec, the terraml home and a backend once, at the edge (flag > environment > spec file > default).

Heavy imports (cdktn, botocore, cloud SDKs, MLflow) happen inside the commands that need them, so
`terraml --help` stays fast and never loads them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from terraml.errors import UserError

app = typer.Typer(help="ML platforms on AWS, GCP and Azure as code.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
# Piped output (CI logs, files) gets wide lines instead of rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=True)

HOME_ENV = "TERRAML_HOME"

SpecArg = Annotated[str | None, typer.Argument(help="platform.yaml (default: --spec, $TERRAML_SPEC, ./platform.yaml)",
                                               show_default=False)]
SpecOpt = Annotated[str | None, typer.Option("--spec", help="The platform spec (default: $TERRAML_SPEC, "
                                                            "./platform.yaml).")]
CloudOpt = Annotated[str, typer.Option("--cloud", help="Backend: local, aws, gcp or azure.")]
HomeOpt = Annotated[str | None, typer.Option("--home", help=f"Local state folder (default: ${HOME_ENV}, .terraml).")]
TrackingOpt = Annotated[str | None, typer.Option("--tracking-uri", help="MLflow tracking URI (default: "
                                                                        "$MLFLOW_TRACKING_URI, sqlite in --home).")]


def _version(value: bool) -> None:
    if value:
        from terraml import __version__

        out.print(f"terraml {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                                help="Print the version and exit.")] = False,
          debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False):
    """ML platforms on AWS, GCP and Azure as code."""


def one_spec(arg: str | None, opt: str | None) -> str | None:
    if arg and opt and arg != opt:
        raise UserError(f"the spec is given twice ('{arg}' and --spec '{opt}'); give it once.")
    return arg or opt


def load_spec(arg: str | None, opt: str | None = None):
    """Load and check the spec, printing its warnings: the one way commands read platform.yaml."""
    from terraml.spec import load_platform

    loaded = load_platform(one_spec(arg, opt))
    for w in loaded.warnings:
        err.print(f"[yellow]warning[/yellow] {w}", highlight=False, soft_wrap=True)
    return loaded


def resolve_home(home: str | None) -> Path:
    """--home, else $TERRAML_HOME, else ./.terraml."""
    return Path(home or os.environ.get(HOME_ENV) or ".terraml")


def backend_for(cloud: str, spec: str | None = None, home: str | None = None, tracking_uri: str | None = None,
                *, need_spec: bool = False, team: str | None = None):
    """The cloud's backend and the settings it was built from (which hold the loaded spec, if any)."""
    from terraml.backend import Settings
    from terraml.catalog import load_catalog
    from terraml.cloud import get

    target = get(cloud)
    platform = load_spec(None, spec).platform if need_spec or target.ENVIRONMENTS else None
    settings = Settings(home=resolve_home(home), catalog=load_catalog(), platform=platform, team=team,
                        tracking_uri=tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or None,
                        api_override=os.environ.get(target.API_OVERRIDE_ENV or "") or None)
    return target.backend(settings), settings
