"""local: jobs on this machine (MLflow tracking, registry and scoring server); no stacks, no bill."""

from __future__ import annotations

from typing import TYPE_CHECKING

from terraml.cloud import Cloud, Feature

if TYPE_CHECKING:
    from terraml.backend import Backend, Settings


class LocalCloud(Cloud):
    NAME = "local"
    TITLE = "this machine"
    EXTRA = "local"
    ENVIRONMENTS = False
    UNSUPPORTED = {
        Feature.STACKS: "local jobs run on this machine; there is no infrastructure to synthesize",
        Feature.CANARY: "a local endpoint serves one model version; deploy without --canary",
        Feature.ACCELERATORS: "local jobs use this machine as it is; resources.accelerator is not reserved",
        Feature.BILLING: "local jobs run on this machine and have no bill",
        Feature.PRICE_REFRESH: "local capacity has no price list",
    }

    def backend(self, settings: Settings) -> Backend:
        from terraml.providers.local.backend import LocalBackend

        return LocalBackend.from_settings(settings)
