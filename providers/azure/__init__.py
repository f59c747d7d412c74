"""Azure: spec checks, pricing and price refresh; stacks and Azure ML to come (see cloud.py)."""
