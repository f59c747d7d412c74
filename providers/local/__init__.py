"""local: jobs on this machine, tracked and served with MLflow (see cloud.py)."""
