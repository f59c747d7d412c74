"""The gcp block of platform.yaml (clouds.gcp) and its state backend (defaults.state.gcp)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, StringConstraints

from terraml.errors import UnsupportedFeature, UserError
from terraml.spec.base import CloudBlock, Endpoint, GpuPool, Strict

EXPORT_TABLE = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_$-]{1,1024}$"
"""A BigQuery table id 'project.dataset.table' (project ids: 6-30 lowercase letters, digits and '-')."""
EXPORT_TABLE_ENV = "TERRAML_GCP_BILLING_EXPORT_TABLE"


class GcpState(Strict):
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    """A GCS bucket name: 3-63 lowercase letters, digits, '-', '_' and '.' (Cloud Storage bucket naming)."""
    prefix: str = "terraml"


class GcpGpuPool(GpuPool):
    machine_type: str | None = None
    zones: list[str] = []
    """Zones of the region the pool's nodes run in (e.g. the ones offering its GPU); empty: the cluster's."""


class GcpEndpoint(Endpoint):
    machine_type: str
    accelerator: str | None = None
    accelerator_count: int | None = Field(default=None, ge=1, le=16)


class GcpBlock(CloudBlock):
    project: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]
    region: str
    gpu_pools: list[GcpGpuPool] = []
    endpoints: list[GcpEndpoint] = []
    system_machine_type: str = "e2-standard-4"
    """Machine type of the small on-demand node pool that runs cluster add-ons."""
    billing_export_table: Annotated[str, StringConstraints(pattern=EXPORT_TABLE)] | None = None
    """The Cloud Billing export table of the team's billing account, 'project.dataset.table' (standard usage cost
    export, e.g. 'acme-billing.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01'); `terraml cost actual` reads the
    team's spend from it. The environment variable TERRAML_GCP_BILLING_EXPORT_TABLE overrides it."""


def resolve_export_table(flag: str | None, environ: Mapping[str, str], block: GcpBlock | None,
                         path: str = "clouds.gcp.billing_export_table") -> str:
    """The billing export table, resolved once: a command-line flag, else the environment, else the spec."""
    import re

    for where, value in (("--billing-export-table", flag), (EXPORT_TABLE_ENV, environ.get(EXPORT_TABLE_ENV)),
                         (path, block.billing_export_table if block else None)):
        if value:
            if not re.fullmatch(EXPORT_TABLE, value):
                raise UserError(f"{where}: '{value}' is not a BigQuery table id; use 'project.dataset.table', e.g. "
                                "'acme-billing.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01'.")
            return value
    # Not configured is UnsupportedFeature (still exit 2): the submit guardrail then counts the ledger alone.
    raise UnsupportedFeature(f"GCP actual spend reads the Cloud Billing export in BigQuery, and no export table is "
                             f"set: set {path} in the spec (or {EXPORT_TABLE_ENV}) to 'project.dataset.table' of the "
                             "billing account's standard usage cost export (Billing > Billing export > BigQuery "
                             "export).")
