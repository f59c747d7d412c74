"""The team's artifact storage account (datasets, checkpoints, models; Azure ML's default datastore):
Entra ID only (shared keys and local users off), no public network access, TLS 1.2, infrastructure
(double) encryption, blob versioning with soft delete, and optionally a customer-managed key."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

SKIPS = {
    "CKV_AZURE_206": "artifacts are reproducible from code and data; zone-redundant storage survives a zone "
                     "outage, and geo-replication would double storage cost",
    "CKV_AZURE_33": "the account holds blobs only; queue logging would need shared-key data-plane access, "
                    "which is off",
}


@dataclass(frozen=True, kw_only=True)
class StorageAccountProps:
    name: str
    resource_group: str
    location: str
    replication: str = "ZRS"
    """Zone-redundant: three copies across availability zones of the region."""
    soft_delete_days: int = 30
    customer_managed_key_id: str | None = None
    """Versionless Key Vault key id; with it, the account encrypts with that key through ``identity_id``."""
    identity_id: str | None = None


class StorageAccount(Module):
    def __init__(self, scope: Construct, id: str, props: StorageAccountProps):
        super().__init__(scope, id)
        cmk = props.customer_managed_key_id is not None
        skips = dict(SKIPS)
        if not cmk:
            skips["CKV2_AZURE_1"] = ("Microsoft-managed keys plus infrastructure encryption by default; a "
                                     "customer-managed key is opt-in (clouds.azure.storage.customer_managed_key)")
        self.account = Resource(self, "account", "azurerm_storage_account", {
            "name": props.name, "resource_group_name": props.resource_group, "location": props.location,
            "account_kind": "StorageV2", "account_tier": "Standard", "account_replication_type": props.replication,
            "access_tier": "Hot",
            "min_tls_version": "TLS1_2", "https_traffic_only_enabled": True,
            "shared_access_key_enabled": False, "default_to_oauth_authentication": True, "local_user_enabled": False,
            "public_network_access_enabled": False, "allow_nested_items_to_be_public": False,
            "cross_tenant_replication_enabled": False, "infrastructure_encryption_enabled": True,
            "allowed_copy_scope": "PrivateLink",
            "network_rules": {"default_action": "Deny", "bypass": ["AzureServices"]},
            # User delegation SAS (the only kind without shared keys) is logged once it outlives a day.
            "sas_policy": {"expiration_period": "01.00:00:00", "expiration_action": "Log"},
            "blob_properties": {
                "versioning_enabled": True,
                "change_feed_enabled": True,
                "delete_retention_policy": {"days": props.soft_delete_days},
                "container_delete_retention_policy": {"days": props.soft_delete_days},
            },
            "identity": {"type": "UserAssigned", "identity_ids": [props.identity_id]} if cmk else None,
            "customer_managed_key": {"key_vault_key_id": props.customer_managed_key_id,
                                     "user_assigned_identity_id": props.identity_id} if cmk else None,
            # Queues and tables, if ever used, encrypt with the account key too (covered by the CMK).
            "queue_encryption_key_type": "Account" if cmk else None,
            "table_encryption_key_type": "Account" if cmk else None,
        }, tags={}, skip_checks=skips)
        self.id = self.account.attr("id")
        self.blob_service_id = f"{self.id}/blobServices/default"
