"""The team's Azure Container Registry: Entra ID sign-in only (admin user and anonymous pull off),
private behind a private endpoint on Premium, untagged manifests retained a few days, and a daily ACR
task that keeps the newest ``keep_images`` images per repository (the spec's lifecycle rule)."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

PREMIUM_SKIPS = {
    "CKV_AZURE_164": "Docker Content Trust cannot be enabled on new registries since 2026-05-31 and is retired "
                     "in 2028 (aka.ms/acr/dctdeprecation); sign images with Notation instead",
    "CKV_AZURE_165": "one region per team stack; images are rebuilt from source, so geo-replication would "
                     "double storage for no recovery gain",
    "CKV_AZURE_166": "quarantine blocks every pull until a scanner releases the image, and the team has no "
                     "scanner integration; Defender for Containers scans the registry instead",
}


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryProps:
    name: str
    resource_group: str
    location: str
    sku: str = "Premium"
    keep_images: int = 200
    """Per repository, images beyond the newest N are deleted by a daily ACR task."""
    untagged_retention_days: int = 7
    """Premium: untagged manifests are deleted after this many days."""
    purge_task_name: str = "purge-old-images"


class ContainerRegistry(Module):
    def __init__(self, scope: Construct, id: str, props: ContainerRegistryProps):
        super().__init__(scope, id)
        premium = props.sku == "Premium"
        attrs = {
            "name": props.name, "resource_group_name": props.resource_group, "location": props.location,
            "sku": props.sku, "admin_enabled": False, "anonymous_pull_enabled": False,
        }
        if premium:
            attrs.update({
                "public_network_access_enabled": False,
                "network_rule_set": [{"default_action": "Deny", "ip_rule": []}],
                # Azure ML image builds and ACR tasks are trusted services; nothing else bypasses the rules.
                "network_rule_bypass_option": "AzureServices",
                "network_rule_bypass_for_tasks_enabled": True,
                "retention_policy_in_days": props.untagged_retention_days,
                "zone_redundancy_enabled": True,
                "data_endpoint_enabled": True,
                "export_policy_enabled": False,
            })
        skips = dict(PREMIUM_SKIPS) if premium else {
            **{k: "Premium-only feature; the spec chose the " + props.sku + " tier (clouds.azure.registry.sku)"
               for k in ("CKV_AZURE_139", "CKV_AZURE_164", "CKV_AZURE_165", "CKV_AZURE_166", "CKV_AZURE_167",
                         "CKV_AZURE_233", "CKV_AZURE_237")}}
        self.registry = Resource(self, "registry", "azurerm_container_registry", attrs, tags={}, skip_checks=skips)
        self.id = self.registry.attr("id")
        self.login_server = self.registry.attr("login_server")
        purge = (f"acr purge --filter '.*:.*' --keep {props.keep_images} --ago 0d --untagged")
        task = ("version: v1.1.0\nsteps:\n"
                f"  - cmd: {purge}\n    disableWorkingDirectoryOverride: true\n    timeout: 3600\n")
        Resource(self, "purge", "azurerm_container_registry_task", {
            "name": props.purge_task_name, "container_registry_id": self.id,
            "platform": {"os": "Linux"},
            "encoded_step": {"task_content": task},  # the provider base64-encodes it
            "timer_trigger": [{"name": "daily", "schedule": "0 3 * * *", "enabled": True}],
            "timeout_in_seconds": 3600,
        }, tags={})

