"""`python -m terraml.cli ...`: the same as the `terraml` command."""

from terraml.cli import main

main()
