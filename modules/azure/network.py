"""The team's virtual network: a node subnet and a private endpoint subnet, each behind its own network
security group, and a NAT gateway for the nodes' outbound traffic (AKS outbound type
userAssignedNATGateway: no public IPs on nodes or load balancers for egress).

With Azure CNI overlay, pods take addresses from a private overlay range, not from the subnet; the node
subnet only needs one address per node.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from constructs import Construct

from terraml.modules.core import Module, Resource


def split(cidr: IPv4Network) -> tuple[IPv4Network, IPv4Network]:
    """The node subnet (the first half of the network) and the private endpoint subnet (the first /24 of
    the second half, or all of it when that is smaller)."""
    nodes, rest = cidr.subnets(prefixlen_diff=1)
    endpoints = next(rest.subnets(new_prefix=max(rest.prefixlen, min(cidr.prefixlen + 8, 24))))
    return nodes, endpoints


@dataclass(frozen=True, kw_only=True)
class VirtualNetworkProps:
    name: str
    resource_group: str
    location: str
    cidr: IPv4Network
    node_subnet: str
    endpoint_subnet: str
    node_nsg: str
    endpoint_nsg: str
    nat_gateway: str
    nat_public_ip: str
    nat_idle_timeout_minutes: int = 4
    """Idle TCP connections through the NAT gateway close after this many minutes (Azure's default)."""


class VirtualNetwork(Module):
    def __init__(self, scope: Construct, id: str, props: VirtualNetworkProps):
        super().__init__(scope, id)
        nodes_cidr, endpoints_cidr = split(props.cidr)
        where = {"resource_group_name": props.resource_group, "location": props.location}
        self.vnet = Resource(self, "vnet", "azurerm_virtual_network", {
            "name": props.name, **where, "address_space": [str(props.cidr)]}, tags={})
        subnet_at = {"resource_group_name": props.resource_group, "virtual_network_name": self.vnet.attr("name")}
        # No default outbound access: egress goes through the NAT gateway only (Azure retires implicit
        # outbound access for new subnets; this makes it explicit).
        self.nodes = Resource(self, "nodes", "azurerm_subnet", {
            "name": props.node_subnet, **subnet_at, "address_prefixes": [str(nodes_cidr)],
            "default_outbound_access_enabled": False})
        self.endpoints = Resource(self, "endpoints", "azurerm_subnet", {
            "name": props.endpoint_subnet, **subnet_at, "address_prefixes": [str(endpoints_cidr)],
            "default_outbound_access_enabled": False,
            # NSG rules apply to private endpoints in this subnet too.
            "private_endpoint_network_policies": "Enabled"})
        # Azure's default rules already allow traffic inside the virtual network and from the load
        # balancer, and deny everything else inbound; nothing is opened to the internet.
        for role, subnet, nsg_name in (("nodes", self.nodes, props.node_nsg),
                                       ("endpoints", self.endpoints, props.endpoint_nsg)):
            nsg = Resource(self, f"nsg-{role}", "azurerm_network_security_group", {"name": nsg_name, **where},
                           tags={})
            Resource(self, f"nsg-{role}-association", "azurerm_subnet_network_security_group_association", {
                "subnet_id": subnet.attr("id"), "network_security_group_id": nsg.attr("id")})
        ip = Resource(self, "nat-ip", "azurerm_public_ip", {
            "name": props.nat_public_ip, **where, "allocation_method": "Static", "sku": "Standard"}, tags={})
        self.nat = Resource(self, "nat", "azurerm_nat_gateway", {
            "name": props.nat_gateway, **where, "sku_name": "Standard",
            "idle_timeout_in_minutes": props.nat_idle_timeout_minutes}, tags={})
        Resource(self, "nat-ip-association", "azurerm_nat_gateway_public_ip_association", {
            "nat_gateway_id": self.nat.attr("id"), "public_ip_address_id": ip.attr("id")})
        self.nat_association = Resource(self, "nat-association", "azurerm_subnet_nat_gateway_association", {
            "subnet_id": self.nodes.attr("id"), "nat_gateway_id": self.nat.attr("id")})
        self.id = self.vnet.attr("id")
        self.node_subnet_id = self.nodes.attr("id")
        self.endpoint_subnet_id = self.endpoints.attr("id")
