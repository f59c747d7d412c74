"""The team VPC: one regional subnet for GKE nodes with secondary ranges for pods and services, private
Google access, flow logs, and Cloud NAT behind a Cloud Router for egress without public node IPs."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from constructs import Construct

from terraml.modules.core import Module, Resource

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass(frozen=True)
class Ranges:
    nodes: IPv4Network
    services: IPv4Network
    control_plane: IPv4Network
    pods: IPv4Network


def carve(cidr: IPv4Network) -> Ranges:
    """Pods take the upper half of the team's range (GKE gives each node a block of pod addresses); nodes,
    services and the /28 of the GKE control plane take the first three sixteenths of the range
    (10.30.0.0/16: nodes 10.30.0.0/20, services 10.30.16.0/20, control plane 10.30.32.0/28, pods 10.30.128.0/17)."""
    lower, upper = cidr.subnets(prefixlen_diff=1)
    sixteenths = list(lower.subnets(prefixlen_diff=3))
    return Ranges(nodes=sixteenths[0], services=sixteenths[1],
                  control_plane=next(sixteenths[2].subnets(new_prefix=28)), pods=upper)


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    network_name: str
    subnetwork_name: str
    router_name: str
    nat_name: str
    region: str
    cidr: IPv4Network
    flow_log_sampling: float = 0.5
    """Share of flows recorded in the VPC flow logs (0-1); half keeps the cost down and the picture whole."""


class Network(Module):
    def __init__(self, scope: Construct, id: str, props: NetworkProps):
        super().__init__(scope, id)
        self.ranges = carve(props.cidr)
        self.network = Resource(self, "vpc", "google_compute_network", {
            "name": props.network_name,
            "auto_create_subnetworks": False,
            "routing_mode": "REGIONAL",
        })
        self.subnetwork = Resource(self, "subnet", "google_compute_subnetwork", {
            "name": props.subnetwork_name,
            "region": props.region,
            "network": self.network.attr("id"),
            "ip_cidr_range": str(self.ranges.nodes),
            "secondary_ip_range": [
                {"range_name": PODS_RANGE, "ip_cidr_range": str(self.ranges.pods)},
                {"range_name": SERVICES_RANGE, "ip_cidr_range": str(self.ranges.services)},
            ],
            # Nodes have no public IPs: Google APIs (GCS, Artifact Registry, Vertex AI) are reached privately.
            "private_ip_google_access": True,
            "log_config": {"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": props.flow_log_sampling,
                           "metadata": "INCLUDE_ALL_METADATA"},
        })
        # Explicit, logged, lowest-priority deny of all ingress (GCP's implied rule is neither visible nor
        # logged); GKE adds the rules its control plane and load balancers need at higher priorities.
        Resource(self, "deny-ingress", "google_compute_firewall", {
            "name": f"{props.network_name}-deny-all-ingress",
            "network": self.network.attr("id"),
            "direction": "INGRESS",
            "priority": 65534,
            "deny": [{"protocol": "all"}],
            "source_ranges": ["0.0.0.0/0"],
            "log_config": {"metadata": "INCLUDE_ALL_METADATA"},
        })
        router = Resource(self, "router", "google_compute_router", {
            "name": props.router_name, "region": props.region, "network": self.network.attr("id")})
        # Cloud NAT is a regional, managed service (no gateway per zone to lose), so the spec's
        # network.nat ('per-az' or 'single') has nothing to choose on GCP.
        Resource(self, "nat", "google_compute_router_nat", {
            "name": props.nat_name,
            "router": router.attr("name"),
            "region": props.region,
            "nat_ip_allocate_option": "AUTO_ONLY",
            "source_subnetwork_ip_ranges_to_nat": "LIST_OF_SUBNETWORKS",
            "subnetwork": [{"name": self.subnetwork.attr("id"), "source_ip_ranges_to_nat": ["ALL_IP_RANGES"]}],
            "log_config": {"enable": True, "filter": "ERRORS_ONLY"},
        })
        self.network_id = self.network.attr("id")
        self.subnetwork_id = self.subnetwork.attr("id")
