"""The app that `cdktn synth` / `cdktn deploy` run (see cdktf.json).

The spec is $TERRAML_SPEC, else examples/platform.yaml; the output folder is the one the CLI
passes in $CDKTF_OUTDIR. Produces the same stacks as `terraml synth`.
"""

from __future__ import annotations

import os
import sys

from terraml.errors import TerramlError
from terraml.spec import load_platform


def main() -> int:
    try:
        loaded = load_platform(os.environ.get("TERRAML_SPEC") or "examples/platform.yaml")
    except TerramlError as exc:
        print(f"terraml: {exc}", file=sys.stderr)
        return exc.exit_code
    from terraml.stacks.app import build_app

    app, _ = build_app(loaded.platform, os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
