"""What the AKS cluster needs inside Kubernetes: the cluster autoscaler's priority tiers and the NVIDIA
device plugin, installed with Helm through Microsoft Entra ID (kubelogin), as local accounts are off.

AKS runs the cluster autoscaler itself; with ``auto_scaler_profile.expander = "priority"`` it reads its
tiers from the ConfigMap ``kube-system/cluster-autoscaler-priority-expander``. That ConfigMap is shipped
as a two-file Helm chart that terraml writes at synth time and cdktn copies into the stack's assets: the
Helm provider, which already installs the device plugin, then owns it (drift is corrected on the next
deploy, and removing the last GPU pool removes it). Like the AWS stack's Helm releases, this needs the
machine that runs Terraform to reach the API server (inside the network when the cluster is private).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cdktn import AssetType, TerraformAsset
from constructs import Construct

from terraml.modules.azure.aks_gpu_pool import SPOT_TAINT
from terraml.modules.core import Module, Provider, Resource
from terraml.policy.capacity import ACCELERATOR_LABEL

NAMESPACE = "kube-system"
PRIORITY_CONFIGMAP = "cluster-autoscaler-priority-expander"
AKS_AAD_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The application id every AKS cluster with Microsoft Entra integration accepts tokens for."""

CHART_YAML = """apiVersion: v2
name: terraml-autoscaler-priorities
description: The cluster autoscaler's priority expander tiers, from terraml's capacity plan.
type: application
version: 1.0.0
"""
CONFIGMAP_YAML = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-autoscaler-priority-expander
  namespace: kube-system
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
data:
  priorities: |-
{{ .Values.priorities | indent 4 }}
"""


def priorities_yaml(priorities: dict[int, list[str]]) -> str:
    """The expander's format: priority -> list of node group name regexes, highest tried first."""
    lines = []
    for priority in sorted(priorities, reverse=True):
        lines.append(f"{priority}:")
        lines += [f"  - {json.dumps(regex)}" for regex in priorities[priority]]
    return "\n".join(lines)


def _chart_dir() -> str:
    """The chart's files in a folder named by their content, so synth is deterministic."""
    digest = hashlib.sha256((CHART_YAML + CONFIGMAP_YAML).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"terraml-chart-{digest}"
    if not (root / "templates" / "configmap.yaml").exists():
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "Chart.yaml").write_text(CHART_YAML)
        (root / "templates" / "configmap.yaml").write_text(CONFIGMAP_YAML)
    return str(root)


@dataclass(frozen=True, kw_only=True)
class ClusterAddonsProps:
    host: str
    ca_certificate: str
    """Base64 PEM of the cluster CA (kube_config[0].cluster_ca_certificate)."""
    priorities: dict[int, list[str]] = field(default_factory=dict)
    device_plugin_version: str = "0.17.1"


class ClusterAddons(Module):
    def __init__(self, scope: Construct, id: str, props: ClusterAddonsProps, depends_on: list | None = None):
        super().__init__(scope, id)
        helm = Provider(self, "helm", {"kubernetes": {
            "host": props.host,
            "cluster_ca_certificate": f"${{base64decode({props.ca_certificate[2:-1]})}}",
            "exec": {"api_version": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                     "args": ["get-token", "--login", "azurecli", "--server-id", AKS_AAD_SERVER_APP]},
        }})
        chart = TerraformAsset(self, "priority-chart", path=_chart_dir(), type=AssetType.DIRECTORY)
        Resource(self, "priorities", "helm_release", {
            "name": "autoscaler-priorities", "namespace": NAMESPACE, "chart": f"${{path.module}}/{chart.path}",
            "values": [json.dumps({"priorities": priorities_yaml(props.priorities)}, sort_keys=True)],
            "atomic": True,
        }, provider=helm, depends_on=depends_on)
        tolerations = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                       # Spot nodes carry AKS's own taint; without this toleration they never offer GPUs.
                       {"key": SPOT_TAINT.split("=")[0], "operator": "Equal", "value": "spot",
                        "effect": "NoSchedule"}]
        Resource(self, "nvidia-device-plugin", "helm_release", {
            "name": "nvidia-device-plugin", "namespace": NAMESPACE,
            "repository": "https://nvidia.github.io/k8s-device-plugin", "chart": "nvidia-device-plugin",
            "version": props.device_plugin_version,
            "values": [json.dumps({
                "tolerations": tolerations,
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": ACCELERATOR_LABEL, "operator": "Exists"}]}]}}}}, sort_keys=True)],
            "atomic": True,
        }, provider=helm, depends_on=depends_on)
