"""GCP labels: the mandatory tags on every labelable resource, made valid GCP labels (the rule itself is
terraml.providers.gcp.labels, which needs no cdktn; re-exported here).

GCP labels are stricter than AWS tags: keys and values hold only lowercase letters, digits, '_' and '-',
at most 63 characters, and keys start with a lowercase letter
(https://cloud.google.com/resource-manager/docs/labels-overview#requirements). Tags are turned into labels
here, deterministically, so that the same spec always gives the same labels: lowercase, every other
character becomes '_', a key that does not start with a letter gets 'k_' in front, and a text past 63
characters keeps 56 of them plus a stable hash ('CC-2077' -> 'cc-2077', 'Owner: a@b.io' -> 'owner__a_b_io').
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
