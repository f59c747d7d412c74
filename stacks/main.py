"""The app that `cdktn synth` / `cdktn deploy` run (see cdktf.json).

The spec is found the way every terraml command finds it: $TERRAML_SPEC, else ./platform.yaml of the
folder the cdktn CLI runs in (a repository made by `terraml init`). This repository's own cdktf.json sets
TERRAML_SPEC=examples/platform.yaml. The output folder is the one the CLI passes in $CDKTF_OUTDIR.
Produces the same stacks as `terraml synth`.
"""

from __future__ import annotations

import os
import sys

from terraml.errors import TerramlError
from terraml.spec import load_platform


def main() -> int:
    try:
        loaded = load_platform()  # $TERRAML_SPEC, else ./platform.yaml (terraml.spec.resolve_spec_path)
    except TerramlError as exc:
        print(f"terraml: {exc}", file=sys.stderr)
        return exc.exit_code
    for warning in loaded.warnings:
        print(f"terraml: warning {warning}", file=sys.stderr)
    from terraml.stacks.app import build_app

    app, _ = build_app(loaded.platform, os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
