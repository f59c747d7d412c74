"""AWS's own name lists, read offline from botocore's data (regions, EC2 and SageMaker instance types)."""

from __future__ import annotations

from functools import cache


@cache
def aws_regions() -> frozenset[str]:
    import botocore.session  # lazy: only validation needs it

    session = botocore.session.get_session()
    names: set[str] = set()
    for partition in ("aws", "aws-us-gov", "aws-cn"):
        names.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(names)


@cache
def botocore_model(service: str):
    """botocore's model of an AWS API: shapes, enums and documented limits, offline."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@cache
def botocore_enum(service: str, shape: str) -> frozenset[str]:
    """An enum from botocore's service model, e.g. ('ec2', 'InstanceType')."""
    return frozenset(botocore_model(service).shape_for(shape).enum)
