"""The one error hierarchy of terraml.

    TerramlError                 exit 1 unless a subclass says otherwise
    ├── UserError                exit 2: the user can fix it; printed without a traceback
    │   ├── SpecError            platform.yaml or job.yaml is invalid (one Problem per finding)
    │   ├── UnsupportedFeature   the spec asks a cloud for something it cannot do
    │   └── CatalogError         a price file is malformed (names the file, row and column)
    ├── CredentialsError         a cloud SDK found no usable credentials (exit 2)
    └── ProviderError            a cloud API or tool failed (exit 1)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding: where (a field path such as ``teams[1].clouds.aws.region``) and what."""

    path: str
    message: str
    location: str | None = None  # "platform.yaml:12:5" when known

    def __str__(self) -> str:
        where = f" ({self.location})" if self.location else ""
        return f"{self.path}: {self.message}{where}" if self.path else f"{self.message}{where}"


class TerramlError(Exception):
    exit_code = 1


class UserError(TerramlError):
    exit_code = 2


class SpecError(UserError):
    """An invalid spec. ``problems`` holds every finding, not only the first."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''}:"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class UnsupportedFeature(UserError):
    pass


class CatalogError(UserError):
    pass


class CredentialsError(TerramlError):
    exit_code = 2


class ProviderError(TerramlError):
    pass
