"""GCP labels: the mandatory tags on every labelable resource, made valid GCP labels by the one rule in
terraml.providers.gcp.labels (which needs no cdktn, so the backend and billing use it too; re-exported here).
"""

from __future__ import annotations

from terraml.modules.core import Resource, TagAspect
from terraml.providers.gcp.labels import LIMIT, label_key, label_value, labels_from_tags

__all__ = ["LABEL_PATH", "LIMIT", "GcpLabelAspect", "label_key", "label_value", "labels_from_tags"]

# Resource types whose labels are not the top-level 'labels' attribute: GKE clusters label through
# 'resource_labels' (propagated to the nodes' VMs and disks), node pools through their node config's
# 'resource_labels' (node_config.labels are Kubernetes node labels, not GCP labels), and notification
# channels through 'user_labels' ('labels' holds the channel's address there).
LABEL_PATH: dict[str, tuple[str, ...]] = {
    "google_container_cluster": ("resource_labels",),
    "google_container_node_pool": ("node_config", "resource_labels"),
    "google_monitoring_notification_channel": ("user_labels",),
}


class GcpLabelAspect(TagAspect):
    """Sets the mandatory labels on every labelable resource (those built with ``tags=``), at the place
    each resource type keeps its labels."""

    def __init__(self, tags: dict[str, str]):
        super().__init__(labels_from_tags(tags))

    def visit(self, node: Resource) -> None:
        if node.own_tags is None:
            return
        *parents, attribute = LABEL_PATH.get(node.resource_type, ("labels",))
        target = node.attrs
        for key in parents:
            target = target[key]
        target[attribute] = {**labels_from_tags(node.own_tags), **self.tags}
