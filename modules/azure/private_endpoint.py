"""Private endpoints for the team's PaaS resources, and the private DNS zones that resolve them.

Each service's public endpoint is switched off; inside the virtual network its name resolves through
a privatelink DNS zone (linked to the network) to the endpoint's private address.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource

# Sub-resource (group id) -> the private DNS zones its records go into (Azure private endpoint DNS
# configuration, learn.microsoft.com/azure/private-link/private-endpoint-dns).
ZONES: dict[str, tuple[str, ...]] = {
    "vault": ("privatelink.vaultcore.azure.net",),
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "registry": ("privatelink.azurecr.io",),
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
}


@dataclass(frozen=True, kw_only=True)
class PrivateDnsZonesProps:
    resource_group: str
    virtual_network_id: str
    link_name: str
    subresources: tuple[str, ...]


class PrivateDnsZones(Module):
    """One zone per DNS name the given sub-resources need, each linked to the team's network."""

    def __init__(self, scope: Construct, id: str, props: PrivateDnsZonesProps):
        super().__init__(scope, id)
        self.zone_ids: dict[str, str] = {}
        names = sorted({zone for sub in props.subresources for zone in ZONES[sub]})
        for zone in names:
            key = zone.removeprefix("privatelink.").replace(".", "-")
            resource = Resource(self, key, "azurerm_private_dns_zone", {
                "name": zone, "resource_group_name": props.resource_group}, tags={})
            Resource(self, f"{key}-link", "azurerm_private_dns_zone_virtual_network_link", {
                "name": props.link_name, "private_dns_zone_id": resource.attr("id"),
                "virtual_network_id": props.virtual_network_id, "registration_enabled": False}, tags={})
            self.zone_ids[zone] = resource.attr("id")

    def for_subresource(self, subresource: str) -> list[str]:
        return [self.zone_ids[z] for z in ZONES[subresource]]


@dataclass(frozen=True, kw_only=True)
class PrivateEndpointProps:
    name: str
    resource_group: str
    location: str
    subnet_id: str
    target_id: str
    subresource: str
    """The target's group id: 'vault', 'blob', 'file', 'registry', 'amlworkspace'."""
    dns_zone_ids: list[str]


class PrivateEndpoint(Module):
    def __init__(self, scope: Construct, id: str, props: PrivateEndpointProps):
        super().__init__(scope, id)
        self.endpoint = Resource(self, "endpoint", "azurerm_private_endpoint", {
            "name": props.name, "resource_group_name": props.resource_group, "location": props.location,
            "subnet_id": props.subnet_id,
            "custom_network_interface_name": f"{props.name}-nic",
            "private_service_connection": {
                "name": props.name, "private_connection_resource_id": props.target_id,
                "subresource_names": [props.subresource], "is_manual_connection": False},
            "private_dns_zone_group": {"name": "default", "private_dns_zone_ids": props.dns_zone_ids},
        }, tags={})
