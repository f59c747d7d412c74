"""The team VPC: private subnets for nodes and endpoints, public subnets only for NAT, flow logs on."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from constructs import Construct

from terraml.modules.aws.iam import Role, RoleProps, allow, policy
from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class VpcProps:
    name: str
    region: str
    cidr: IPv4Network
    cluster_name: str
    """Subnets are tagged for this EKS cluster's load balancers."""
    kms_key_arn: str
    zone_suffixes: tuple[str, ...] = ("a", "b", "c")
    """Availability zones (by name suffix) to spread subnets over, pinned by name so that a zone AWS
    adds or retires later never moves a subnet."""
    nat: str = "per-az"
    """'per-az': one NAT gateway per zone (survives a zone outage); 'single': one, cheaper."""
    flow_log_retention_days: int = 365


def carve(cidr: IPv4Network, zones: int) -> tuple[list[IPv4Network], list[IPv4Network]]:
    """Private subnets take a quarter of the range each; public ones share the last quarter."""
    quarters = list(cidr.subnets(prefixlen_diff=2))
    private = quarters[:zones]
    public = list(quarters[3].subnets(prefixlen_diff=2))[:zones]
    return private, public


class Vpc(Module):
    def __init__(self, scope: Construct, id: str, props: VpcProps):
        super().__init__(scope, id)
        zones = [f"{props.region}{suffix}" for suffix in props.zone_suffixes]
        private_cidrs, public_cidrs = carve(props.cidr, len(zones))
        self.vpc = Resource(self, "vpc", "aws_vpc", {
            "cidr_block": str(props.cidr), "enable_dns_hostnames": True, "enable_dns_support": True,
        }, tags={"Name": props.name})
        # The default security group allows all traffic between members; nothing should use it.
        Resource(self, "default-sg", "aws_default_security_group", {"vpc_id": self.vpc.attr("id")}, tags={})
        self._flow_logs(props)
        igw = Resource(self, "igw", "aws_internet_gateway", {"vpc_id": self.vpc.attr("id")},
                       tags={"Name": props.name})
        public_rt = Resource(self, "public-rt", "aws_route_table", {"vpc_id": self.vpc.attr("id")},
                             tags={"Name": f"{props.name}-public"})
        Resource(self, "public-default", "aws_route", {
            "route_table_id": public_rt.attr("id"), "destination_cidr_block": "0.0.0.0/0",
            "gateway_id": igw.attr("id")})
        self.private_subnet_ids: list[str] = []
        self.private_route_table_ids: list[str] = []
        nats: list[Resource] = []
        for i in range(len(zones)):
            zone = zones[i]
            public = Resource(self, f"public-{i}", "aws_subnet", {
                "vpc_id": self.vpc.attr("id"), "cidr_block": str(public_cidrs[i]), "availability_zone": zone,
                "map_public_ip_on_launch": False,
            }, tags={"Name": f"{props.name}-public-{i}", "kubernetes.io/role/elb": "1"})
            Resource(self, f"public-rta-{i}", "aws_route_table_association",
                     {"subnet_id": public.attr("id"), "route_table_id": public_rt.attr("id")})
            if props.nat == "per-az" or i == 0:
                eip = Resource(self, f"nat-eip-{i}", "aws_eip", {"domain": "vpc"},
                               tags={"Name": f"{props.name}-nat-{i}"})
                nats.append(Resource(self, f"nat-{i}", "aws_nat_gateway", {
                    "allocation_id": eip.attr("id"), "subnet_id": public.attr("id")},
                    tags={"Name": f"{props.name}-nat-{i}"}, depends_on=[igw]))
            private = Resource(self, f"private-{i}", "aws_subnet", {
                "vpc_id": self.vpc.attr("id"), "cidr_block": str(private_cidrs[i]), "availability_zone": zone,
                "map_public_ip_on_launch": False,
            }, tags={"Name": f"{props.name}-private-{i}", "kubernetes.io/role/internal-elb": "1",
                     f"kubernetes.io/cluster/{props.cluster_name}": "shared"})
            rt = Resource(self, f"private-rt-{i}", "aws_route_table", {"vpc_id": self.vpc.attr("id")},
                          tags={"Name": f"{props.name}-private-{i}"})
            Resource(self, f"private-default-{i}", "aws_route", {
                "route_table_id": rt.attr("id"), "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": nats[min(i, len(nats) - 1)].attr("id")})
            Resource(self, f"private-rta-{i}", "aws_route_table_association",
                     {"subnet_id": private.attr("id"), "route_table_id": rt.attr("id")})
            self.private_subnet_ids.append(private.attr("id"))
            self.private_route_table_ids.append(rt.attr("id"))
        # S3 traffic (datasets, checkpoints, model artifacts) stays off the NAT gateways: cheaper and private.
        self.s3_endpoint = Resource(self, "s3-endpoint", "aws_vpc_endpoint", {
            "vpc_id": self.vpc.attr("id"), "service_name": f"com.amazonaws.{props.region}.s3",
            "vpc_endpoint_type": "Gateway", "route_table_ids": self.private_route_table_ids,
        }, tags={"Name": f"{props.name}-s3"})
        self.vpc_id = self.vpc.attr("id")

    def _flow_logs(self, props: VpcProps) -> None:
        group = Resource(self, "flow-log-group", "aws_cloudwatch_log_group", {
            "name": f"/aws/vpc/{props.name}/flow-logs", "retention_in_days": props.flow_log_retention_days,
            "kms_key_id": props.kms_key_arn}, tags={})
        role = Role(self, "flow-log-role", RoleProps(
            name=f"{props.name}-flow-logs", service="vpc-flow-logs.amazonaws.com",
            inline_policy=policy(allow(
                ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                [group.attr("arn"), f"{group.attr('arn')}:*"]))))
        Resource(self, "flow-log", "aws_flow_log", {
            "vpc_id": self.vpc.attr("id"), "traffic_type": "ALL", "log_destination_type": "cloud-watch-logs",
            "log_destination": group.attr("arn"), "iam_role_arn": role.arn}, tags={})
