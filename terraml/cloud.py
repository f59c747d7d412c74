"""Clouds as plug-ins: one stateless class per cloud behind one small interface, and the one registry.

A cloud's whole integration lives in its folder, ``providers/<name>/`` (installed as
``terraml.providers.<name>``); its class in ``cloud.py`` there says what the cloud is as data first,
then offers lazy methods that import the heavy parts (cdktn, the cloud's SDK) only when called::

    Cloud
      NAME, TITLE, EXTRA          'aws', 'AWS', the pip extra that brings its SDK
      ENVIRONMENTS                teams declare clouds.<NAME> in platform.yaml and get a stack (not 'local')
      REGION_FIELD, MACHINE_FIELD the spec's words for region and machine type on this cloud
      TERRAFORM_PROVIDERS         its Terraform providers: name (the resource-type prefix) -> ProviderSource
      REGION_PROVIDER             the provider block whose 'region' is the stack's region, if any
      SPOT_PRICE_CAP              the cloud enforces a max spot price itself (Azure), else terraml decides
      FEATURE_TYPES               feature types its feature store accepts
      UNSUPPORTED                 Feature -> why not (yet); require() turns it into UnsupportedFeature
      spec_block(), state_block() pydantic models of clouds.<NAME> and defaults.state.<NAME>
      regions(), looks_like_region(), knows_machine(), machine_names()    offline name lists
      check_block()               spec checks beyond the schema
      NAME_RULES, resource_names() the names it derives for a team, and the cloud's limits on them
      build_stack()               the team stack                    [Feature.STACKS]
      backend()                   the job backend                   [Feature.TRAINING]
      pricers(), region_resolver() cost of its Terraform resource types, and where they run
      spend()                     actual spend                      [Feature.BILLING]
      fetch_prices()              price refresh, online             [Feature.PRICE_REFRESH]

A method a cloud does not override raises UnsupportedFeature with the reason from its table.
``REGISTRY`` is the only list of clouds in terraml: adding a cloud is one line there.
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from terraml.errors import UnsupportedFeature, UserError
from terraml.suggest import did_you_mean

if TYPE_CHECKING:
    from constructs import Construct
    from pydantic import BaseModel

    from terraml.backend import Backend, Settings
    from terraml.cost.prices import Price
    from terraml.cost.pricing import Pricer
    from terraml.cost.tfjson import StackDoc
    from terraml.errors import Problem
    from terraml.inventory import StackContext
    from terraml.spec.checks import Findings
    from terraml.spec.job import TrainingJob
    from terraml.spec.models import Defaults, Platform, Team

# name -> "module:Class", imported on first use. The order is the order of platform.yaml's clouds.
REGISTRY: dict[str, str] = {
    "local": "terraml.providers.local.cloud:LocalCloud",
    "aws": "terraml.providers.aws.cloud:AwsCloud",
    "gcp": "terraml.providers.gcp.cloud:GcpCloud",
    "azure": "terraml.providers.azure.cloud:AzureCloud",
}


class ProviderSource(NamedTuple):
    source: str
    """Registry address, e.g. 'hashicorp/aws'."""
    version: str
    """Version constraint the stacks pin: the provider version the typed bindings were generated from."""
    bindings: str
    """The typed CDK Terrain bindings package (test-only) that the gates check every block against."""


class Feature(enum.StrEnum):
    """What a cloud may or may not offer; the value is how messages name it."""

    STACKS = "team stacks"
    TRAINING = "training jobs"
    SERVING = "model endpoints (deploy, invoke, list)"
    UNDEPLOY = "stopping an endpoint"
    CANARY = "canary rollouts"
    ACCELERATORS = "reserved accelerators"
    SIMULATED_INTERRUPTIONS = "simulated spot interruptions"
    BILLING = "actual spend from the billing API"
    PRICE_REFRESH = "price refresh from the cloud's price API"


class Cloud:
    """Base of every cloud. Stateless: one instance per process, from :func:`get`."""

    NAME: ClassVar[str]
    TITLE: ClassVar[str]
    EXTRA: ClassVar[str | None] = None
    ENVIRONMENTS: ClassVar[bool] = True
    REGION_FIELD: ClassVar[str] = "region"
    MACHINE_FIELD: ClassVar[str] = "instance_type"
    REGION_SHAPE: ClassVar[re.Pattern | None] = None
    KNOWN_REGIONS: ClassVar[frozenset[str]] = frozenset()
    """The region names terraml ships for clouds without an offline list of their own."""
    MACHINE_SHAPE: ClassVar[re.Pattern | None] = None
    """How the cloud's machine type names look, for clouds without an offline list of them."""
    REGION_LIST_COMPLETE: ClassVar[bool] = False
    """True when regions() is the cloud's own full list (a name missing there is wrong, not new)."""
    TERRAFORM_PROVIDERS: ClassVar[dict[str, ProviderSource]] = {}
    """Provider name (the prefix of its resource types) -> where it comes from and its test bindings."""
    REGION_PROVIDER: ClassVar[str | None] = None
    SPOT_PRICE_CAP: ClassVar[bool] = False
    FEATURE_TYPES: ClassVar[frozenset[str]] = frozenset()
    NAME_RULES: ClassVar[dict[str, tuple[int, str]]] = {}
    """Kind of name -> (max length, regex it must match), as the cloud's API documents them."""
    UNSUPPORTED: ClassVar[dict[Feature, str]] = {}
    API_OVERRIDE_ENV: ClassVar[str | None] = None
    """The environment variable that points the cloud's backend somewhere else (a private endpoint, a local
    stand-in in tests); the CLI reads it once into Settings.api_override."""

    # ------------------------------------------------------------ the table, in one place
    def unsupported_reason(self, feature: Feature) -> str | None:
        return self.UNSUPPORTED.get(feature)

    def supports(self, feature: Feature) -> bool:
        return feature not in self.UNSUPPORTED

    def require(self, feature: Feature) -> None:
        """Raise the one clear error for a feature this cloud does not offer (exit 2)."""
        reason = self.UNSUPPORTED.get(feature)
        if reason is not None:
            raise UnsupportedFeature(f"{self.NAME}: {feature.value} not supported: {reason}")

    def _missing(self, feature: Feature):
        self.require(feature)
        raise TypeError(f"{type(self).__name__} neither implements {feature.value} nor lists it in UNSUPPORTED")

    def load(self, module: str):
        """Import a module of this cloud that needs its SDK; a missing SDK names the extra to install."""
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if self.EXTRA is None or (exc.name or "").startswith("terraml"):
                raise
            raise UserError(f"{self.NAME} needs the '{exc.name}' package: pip install 'terraml[{self.EXTRA}]'") \
                from None

    # ------------------------------------------------------------ the spec
    def spec_block(self) -> type[BaseModel]:
        raise TypeError(f"{self.NAME} has no clouds.{self.NAME} block")

    def state_block(self) -> type[BaseModel] | None:
        return None

    def regions(self) -> frozenset[str]:
        return self.KNOWN_REGIONS

    def looks_like_region(self, name: str) -> bool:
        return bool(self.REGION_SHAPE and self.REGION_SHAPE.match(name))

    def knows_machine(self, name: str) -> bool:
        """Whether the cloud's own list (or naming scheme) has this machine type."""
        return bool(self.MACHINE_SHAPE and self.MACHINE_SHAPE.match(name))

    def machine_names(self) -> frozenset[str]:
        """The cloud's own machine type names, for did-you-mean hints (empty when there is no offline list)."""
        return frozenset()

    def check_block(self, block, path: str, region: str | None, findings: Findings) -> None:
        """Checks of clouds.<NAME> beyond the schema and the checks every cloud shares."""

    def check_defaults(self, defaults: Defaults, findings: Findings) -> None:
        """Checks of the spec's defaults as they apply on this cloud (only for clouds some team uses)."""

    def check_job(self, job: TrainingJob, problems: list[Problem]) -> None:
        """Checks of a job file against this cloud's service limits, before anything is submitted."""

    def tag_problem(self, key: str, value: str) -> str | None:
        """What is wrong with a tag (or label) by this cloud's rules, with the fix; None when it is fine."""
        return None

    def resource_names(self, platform: Platform, team: Team) -> dict[str, str]:
        """Every name this cloud derives for a team, by the kind NAME_RULES limits."""
        return {}

    # ------------------------------------------------------------ stacks, jobs, cost
    def build_stack(self, scope: Construct, ctx: StackContext):
        return self._missing(Feature.STACKS)

    def backend(self, settings: Settings) -> Backend:
        return self._missing(Feature.TRAINING)

    def pricers(self) -> dict[str, Pricer]:
        return {}

    def region_resolver(self, stack: StackDoc) -> Callable[[dict], str]:
        """Where a resource of ``stack`` runs, as a function of its block: what is the same for the whole stack
        (its provider's region) is looked up once, since estimates ask for every resource."""
        default = (stack.provider_region(self.REGION_PROVIDER) if self.REGION_PROVIDER else None) or "unknown"
        return lambda block: block.get("region") or default

    def resource_region(self, stack: StackDoc, block: dict) -> str:
        return self.region_resolver(stack)(block)

    def spend(self, team: str, month: str, platform: Platform | None = None) -> tuple[Decimal, str]:
        """Actual spend of ``team`` in ``month`` (YYYY-MM) and a note naming the source (and the currency when
        not USD). ``platform`` gives what the source needs from the spec (subscriptions, export tables)."""
        return self._missing(Feature.BILLING)

    def fetch_prices(self, rows: list[dict]) -> list[Price]:
        return self._missing(Feature.PRICE_REFRESH)


@cache
def get(name: str) -> Cloud:
    if name not in REGISTRY:
        raise UserError(f"--cloud: '{name}' is not a cloud{did_you_mean(name, REGISTRY)} Allowed: "
                        f"{', '.join(REGISTRY)}.")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def every() -> tuple[Cloud, ...]:
    return tuple(get(name) for name in REGISTRY)


@cache
def with_environments() -> tuple[Cloud, ...]:
    """The clouds teams declare in platform.yaml (every cloud but local)."""
    return tuple(c for c in every() if c.ENVIRONMENTS)


@cache
def environment_names() -> tuple[str, ...]:
    return tuple(c.NAME for c in with_environments())


def environment(name: str, what: str = "--cloud") -> Cloud:
    """A cloud teams can declare; the error lists those."""
    names = environment_names()
    if name not in names:
        raise UserError(f"{what}: '{name}' is not a cloud{did_you_mean(name, names)} Allowed: {', '.join(names)}.")
    return get(name)


@cache
def of_resource_type(rtype: str) -> Cloud | None:
    """The cloud a Terraform resource type belongs to, by its provider prefix ('aws_s3_bucket' -> aws)."""
    prefix = rtype.split("_", 1)[0]
    return next((c for c in with_environments() if prefix in c.TERRAFORM_PROVIDERS), None)

