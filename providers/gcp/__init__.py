"""GCP: spec checks, pricing and price refresh; stacks and Vertex AI to come (see cloud.py)."""
