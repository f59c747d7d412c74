"""The team's Key Vault (Azure ML's secrets, and the customer-managed key when the spec asks for one):
Azure RBAC instead of access policies, purge protection, no public network access."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class KeyVaultProps:
    name: str
    resource_group: str
    location: str
    tenant_id: str
    soft_delete_days: int = 90
    """A deleted vault or key stays recoverable this long; with purge protection nobody can shorten it."""
    hsm_keys: bool = False
    """Premium tier, for HSM-protected keys (customer-managed keys)."""


class KeyVault(Module):
    def __init__(self, scope: Construct, id: str, props: KeyVaultProps):
        super().__init__(scope, id)
        self.vault = Resource(self, "vault", "azurerm_key_vault", {
            "name": props.name, "resource_group_name": props.resource_group, "location": props.location,
            "tenant_id": props.tenant_id, "sku_name": "premium" if props.hsm_keys else "standard",
            "rbac_authorization_enabled": True, "purge_protection_enabled": True,
            "soft_delete_retention_days": props.soft_delete_days, "public_network_access_enabled": False,
            # Trusted Azure services (Azure ML, storage encryption) still reach the vault.
            "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
        }, tags={})
        self.id = self.vault.attr("id")


@dataclass(frozen=True, kw_only=True)
class KeyVaultKeyProps:
    name: str
    key_vault_id: str
    rotate_after: str = "P1Y"
    """ISO 8601 duration: a new key version is made this long after the last one."""
    expire_after: str = "P2Y"


class KeyVaultKey(Module):
    """An HSM-protected RSA 3072 key that Key Vault rotates itself."""

    def __init__(self, scope: Construct, id: str, props: KeyVaultKeyProps, depends_on: list | None = None):
        super().__init__(scope, id)
        self.key = Resource(self, "key", "azurerm_key_vault_key", {
            "name": props.name, "key_vault_id": props.key_vault_id, "key_type": "RSA-HSM", "key_size": 3072,
            "key_opts": ["wrapKey", "unwrapKey"],
            "rotation_policy": {"automatic": {"time_after_creation": props.rotate_after},
                                "expire_after": props.expire_after, "notify_before_expiry": "P30D"},
        }, tags={}, depends_on=depends_on, skip_checks={
            "CKV_AZURE_40": "the rotation policy sets each version's expiry (expire_after) and rotates before it; "
                            "a fixed expiration_date would stop encryption when it passes"})
        self.versionless_id = self.key.attr("versionless_id")
