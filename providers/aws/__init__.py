"""AWS: EKS team stacks, SageMaker jobs and endpoints, Cost Explorer, AWS prices (see cloud.py)."""
