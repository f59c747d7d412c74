"""The names of a team's Azure resources, derived from the spec in one place, and Azure's limits on them.

Prefixes follow the Cloud Adoption Framework abbreviations (rg-, vnet-, aks-, kv-, st, cr, mlw-...).
Storage accounts, key vaults and container registries live in global DNS namespaces
(``<name>.blob.core.windows.net``, ``<name>.vault.azure.net``, ``<name>.azurecr.io``): their names
end in a stable hash of the subscription and the team prefix, so two organisations (or one team in two
subscriptions) never collide, and the same spec always gives the same name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from terraml.naming import fit
from terraml.policy.capacity import KINDS

# Tag rules (Azure Resource Manager, "Use tags to organize your Azure resources", limitations): names up to
# 512 characters (128 on storage accounts), values up to 256, names without < > % & \ ? /, case-insensitive.
TAG_MAX_NAME = 512
TAG_MAX_NAME_STORAGE = 128
TAG_MAX_VALUE = 256
TAG_FORBIDDEN = re.compile(r"[<>%&\\?/]")

# kind -> (max length, pattern). Sources: "Naming rules and restrictions for Azure resources"
# (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules) unless noted.
NAME_RULES: dict[str, tuple[int, str]] = {
    # Microsoft.Resources/resourcegroups: 1-90, alphanumerics, _ - . ( ), not ending in '.'.
    "resource_group": (90, r"^[\w\-.()]*[\w\-()]$"),
    # Microsoft.Network/virtualNetworks: 2-64, alphanumerics _ . -, start alnum, end alnum or '_'.
    "virtual_network": (64, r"^[A-Za-z0-9][\w.\-]*[A-Za-z0-9_]$"),
    # subnets, networkSecurityGroups, natGateways, publicIPAddresses: 1-80, same character rules.
    "subnet": (80, r"^[A-Za-z0-9][\w.\-]*[A-Za-z0-9_]$"),
    "network_security_group": (80, r"^[A-Za-z0-9][\w.\-]*[A-Za-z0-9_]$"),
    "nat_gateway": (80, r"^[A-Za-z0-9][\w.\-]*[A-Za-z0-9_]$"),
    "public_ip": (80, r"^[A-Za-z0-9][\w.\-]*[A-Za-z0-9_]$"),
    # Microsoft.ManagedIdentity/userAssignedIdentities: 3-128, alphanumerics - _, start alnum.
    "identity": (128, r"^[A-Za-z0-9][\w-]{2,127}$"),
    # Microsoft.ContainerService/managedClusters: 1-63, alphanumerics _ -, start and end alnum.
    "cluster": (63, r"^[A-Za-z0-9]([\w-]*[A-Za-z0-9])?$"),
    # AKS dnsPrefix: 1-54, alphanumerics and '-', start and end alnum (AKS API reference).
    "dns_prefix": (54, r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$"),
    # AKS agent pools (Linux): 1-12 lowercase alphanumerics, starting with a letter.
    "node_pool": (12, r"^[a-z][a-z0-9]{0,11}$"),
    # Microsoft.ContainerRegistry/registries: 5-50 alphanumerics, globally unique.
    "container_registry": (50, r"^[A-Za-z0-9]{5,50}$"),
    # ACR tasks: 5-50 alphanumerics, '-' and '_'.
    "registry_task": (50, r"^[A-Za-z0-9][\w-]{4,49}$"),
    # Microsoft.Storage/storageAccounts: 3-24 lowercase alphanumerics, globally unique.
    "storage_account": (24, r"^[a-z0-9]{3,24}$"),
    # Microsoft.KeyVault/vaults: 3-24, alphanumerics and '-', start with a letter, end alnum, no '--'.
    "key_vault": (24, r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$"),
    # Microsoft.OperationalInsights/workspaces: 4-63, alphanumerics and '-', start and end alnum.
    "log_analytics": (63, r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$"),
    # Microsoft.Insights/components: 1-260, none of % & \ ? /, not ending in ' ' or '.'.
    "application_insights": (260, r"^[^%&\\?/]*[^%&\\?/ .]$"),
    # Microsoft.MachineLearningServices/workspaces: 3-33, alphanumerics - _, start alnum.
    "ml_workspace": (33, r"^[A-Za-z0-9][\w-]{2,32}$"),
    # Azure ML compute clusters (AmlCompute): 2-16, letters, digits and '-', start with a letter,
    # end alnum (Azure ML compute target naming; the stricter of the cluster and instance rules).
    "ml_compute": (16, r"^[A-Za-z][A-Za-z0-9-]{0,14}[A-Za-z0-9]$"),
    # Azure ML online endpoints: 3-32, letters, digits and '-', start with a letter, end alnum;
    # unique per region (the scoring URI is <name>.<region>.inference.ml.azure.com).
    "ml_endpoint": (32, r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$"),
    # Microsoft.Consumption/budgets: 1-63, alphanumerics '-' and '_'.
    "budget": (63, r"^[\w-]{1,63}$"),
    # Microsoft.Network/privateEndpoints: 2-64, same character rules as virtual networks.
    "private_endpoint": (64, r"^[A-Za-z0-9][\w.\-]*[A-Za-z0-9_]$"),
}


def stable_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def fit_with_tail(head: str, tail: str, limit: int, hash_length: int = 2) -> str:
    """``head + tail`` within ``limit``; when too long, the head is cut and a hash of it keeps two long
    heads that share a beginning apart, while the tail (a capacity suffix) always survives."""
    if len(head) + len(tail) <= limit:
        return head + tail
    room = limit - len(tail) - hash_length
    return head[:room].rstrip("-") + stable_hash(head, hash_length) + tail


@dataclass(frozen=True)
class AzureNames:
    org: str
    team: str
    environment: str
    subscription_id: str

    @classmethod
    def for_team(cls, platform, team) -> AzureNames:
        return cls(platform.org, team.name, platform.defaults.environment, team.clouds.azure.subscription_id)

    @property
    def prefix(self) -> str:
        return f"{self.org}-{self.team}-{self.environment}"

    @property
    def _unique(self) -> str:
        """Stable across synths, distinct per subscription and team: for names in global namespaces."""
        return stable_hash(f"{self.subscription_id.lower()}/{self.prefix}")

    # ------------------------------------------------------------ resource group and network
    @property
    def resource_group(self) -> str:
        return fit(f"rg-{self.prefix}", 90)

    @property
    def virtual_network(self) -> str:
        return fit(f"vnet-{self.prefix}", 64)

    def subnet(self, role: str) -> str:
        return fit(f"snet-{role}", 80)

    def network_security_group(self, role: str) -> str:
        return fit(f"nsg-{self.prefix}-{role}", 80)

    @property
    def nat_gateway(self) -> str:
        return fit(f"ng-{self.prefix}", 80)

    @property
    def nat_public_ip(self) -> str:
        return fit(f"pip-{self.prefix}-nat", 80)

    def identity(self, role: str) -> str:
        return fit(f"id-{self.prefix}-{role}", 128)

    # ------------------------------------------------------------ AKS
    @property
    def cluster(self) -> str:
        return fit(f"aks-{self.prefix}", 63)

    @property
    def dns_prefix(self) -> str:
        return fit(self.prefix, 54)

    def node_pool(self, pool: str, suffix: str) -> str:
        """``suffix`` is the capacity group's name suffix from the capacity plan ('spot', 'ondemand'): it
        ends the name, so the autoscaler's priority tiers can match it in the scale set's name. The pool
        part is the pool's letters when they fit, else its first letters and a hash of the whole name."""
        return fit_with_tail(alnum(pool), suffix, 12)

    # ------------------------------------------------------------ registry, storage, keys, monitoring
    @property
    def container_registry(self) -> str:
        return f"cr{alnum(self.prefix)[:50 - 2 - 6]}{self._unique}"

    @property
    def registry_purge_task(self) -> str:
        return "purge-old-images"

    @property
    def storage_account(self) -> str:
        return f"st{alnum(self.prefix)[:24 - 2 - 6]}{self._unique}"

    @property
    def key_vault(self) -> str:
        head = re.sub(r"-+", "-", f"kv-{self.prefix}")[:24 - 7].rstrip("-")
        return f"{head}-{self._unique}"

    @property
    def log_analytics(self) -> str:
        return fit(f"log-{self.prefix}", 63)

    @property
    def application_insights(self) -> str:
        return fit(f"appi-{self.prefix}", 260)

    # ------------------------------------------------------------ Azure ML
    @property
    def ml_workspace(self) -> str:
        return fit(f"mlw-{self.prefix}", 33)

    @property
    def feature_store(self) -> str:
        return fit(f"mlfs-{self.prefix}", 33)

    def ml_compute(self, pool: str, suffix: str) -> str:
        """A compute cluster per capacity group of a GPU pool, e.g. 'finetune-spot'."""
        return fit_with_tail(pool, f"-{suffix}", 16)

    def ml_endpoint(self, name: str) -> str:
        return fit(f"{self.prefix}-{name}", 32)

    def private_endpoint(self, target: str) -> str:
        return fit(f"pe-{self.prefix}-{target}", 64)

    @property
    def budget(self) -> str:
        return fit(f"budget-{self.prefix}-monthly", 63)

    def all_names(self, pools: list[str], endpoints: list[str]) -> dict[str, str]:
        """Every name for the given pools and endpoints, keyed 'kind' or 'kind:item'."""
        out = {kind: getattr(self, kind) for kind in (
            "resource_group", "virtual_network", "nat_gateway", "cluster", "dns_prefix", "container_registry",
            "storage_account", "key_vault", "log_analytics", "application_insights", "ml_workspace", "budget")}
        out["public_ip"] = self.nat_public_ip
        out["registry_task"] = self.registry_purge_task
        out["ml_workspace:features"] = self.feature_store
        for role in SUBNET_ROLES:
            out[f"subnet:{role}"] = self.subnet(role)
            out[f"network_security_group:{role}"] = self.network_security_group(role)
        for role in IDENTITY_ROLES:
            out[f"identity:{role}"] = self.identity(role)
        for target in PRIVATE_ENDPOINT_TARGETS:
            out[f"private_endpoint:{target}"] = self.private_endpoint(target)
        for pool in pools:
            for kind in KINDS:
                out[f"node_pool:{pool}-{kind.suffix}"] = self.node_pool(pool, kind.suffix)
                out[f"ml_compute:{pool}-{kind.suffix}"] = self.ml_compute(pool, kind.suffix)
        out.update({f"ml_endpoint:{ep}": self.ml_endpoint(ep) for ep in endpoints})
        return out


SUBNET_ROLES = ("nodes", "endpoints")
"""The node subnet (AKS nodes) and the private endpoint subnet."""
IDENTITY_ROLES = ("aks", "storage")
"""The AKS control plane's identity; the storage account's identity for its customer-managed key."""
PRIVATE_ENDPOINT_TARGETS = ("kv", "st-blob", "st-file", "cr", "mlw", "mlfs")
