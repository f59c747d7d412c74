"""Vertex AI Feature Store (the current one): feature data in BigQuery, registered as feature groups and
features, served from a Bigtable online store through one feature view per online group.

Vertex AI reads a group's event time from a column named ``feature_timestamp``; the table keeps the spec's
column names and a view maps the event time to that name, so writers and readers see the spec's words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource

BIGQUERY_TYPE = {"integral": "INTEGER", "fractional": "FLOAT", "string": "STRING"}
"""The spec's feature types as BigQuery columns; 'vector' (an embedding) is a REPEATED FLOAT column."""
TIMESTAMP_COLUMN = "feature_timestamp"
VIEW_SKIPS = {"CKV_GCP_80": "a view stores no data; the table it reads is encrypted with the team's key"}


@dataclass(frozen=True, kw_only=True)
class FeatureGroupSpec:
    name: str
    """The spec's group name (the BigQuery table)."""
    group_id: str
    """The Vertex AI feature group id."""
    view_table: str
    """The BigQuery view the feature group reads."""
    feature_view_id: str
    record_id: str
    event_time: str
    features: dict[str, str]
    """Feature name -> 'integral' | 'fractional' | 'string' | 'vector'."""
    online: bool = True


@dataclass(frozen=True, kw_only=True)
class FeatureStoreProps:
    project: str
    region: str
    dataset_id: str
    online_store_name: str
    groups: list[FeatureGroupSpec]
    bigquery_kms_key: str
    """Key of the dataset's tables (read through the BigQuery agent's grant)."""
    vertex_kms_key: str
    """Key of the online store (read through the Vertex AI agent's grant)."""
    vertex_agent: str
    """The Vertex AI service agent (member), which reads BigQuery to sync the online store."""
    readers: dict[str, str] = field(default_factory=dict)
    """{who: member} that read the offline features (roles/bigquery.dataViewer on the dataset)."""
    online_min_nodes: int = 1
    online_max_nodes: int = 3
    """Bigtable nodes of the online store; it scales between them on CPU."""
    sync_cron: str = "0 * * * *"
    """When feature views copy the latest values from BigQuery (hourly)."""


def schema(group: FeatureGroupSpec) -> str:
    """The table's columns: the record id, the event time, then the features, in the spec's order."""
    kinds = {k: v for k, v in group.features.items() if k not in (group.record_id, group.event_time)}
    record_kind = group.features.get(group.record_id, "string")
    columns = [{"name": group.record_id, "type": BIGQUERY_TYPE[record_kind], "mode": "REQUIRED"},
               {"name": group.event_time, "type": "TIMESTAMP", "mode": "REQUIRED"}]
    for name, kind in kinds.items():
        if kind == "vector":
            columns.append({"name": name, "type": "FLOAT", "mode": "REPEATED"})
        else:
            columns.append({"name": name, "type": BIGQUERY_TYPE[kind], "mode": "NULLABLE"})
    return json.dumps(columns)


class FeatureStore(Module):
    def __init__(self, scope: Construct, id: str, props: FeatureStoreProps):
        super().__init__(scope, id)
        dataset = Resource(self, "dataset", "google_bigquery_dataset", {
            "dataset_id": props.dataset_id,
            "location": props.region,
            "description": "terraml: the team's offline feature store (Vertex AI feature groups read it)",
            "default_encryption_configuration": {"kms_key_name": props.bigquery_kms_key},
            "delete_contents_on_destroy": False,
            "deletion_policy": "PREVENT",
        }, tags={})
        dataset_id = dataset.attr("dataset_id")
        readers = {"vertex-agent": props.vertex_agent, **props.readers}
        grants = [Resource(self, f"reader-{who}", "google_bigquery_dataset_iam_member", {
            "dataset_id": dataset_id, "role": "roles/bigquery.dataViewer", "member": member})
            for who, member in sorted(readers.items())]
        store = None
        if any(g.online for g in props.groups):
            store = Resource(self, "online-store", "google_vertex_ai_feature_online_store", {
                "name": props.online_store_name,
                "region": props.region,
                "bigtable": {"auto_scaling": {"min_node_count": props.online_min_nodes,
                                              "max_node_count": props.online_max_nodes,
                                              "cpu_utilization_target": 50}},
                "encryption_spec": {"kms_key_name": props.vertex_kms_key},
                "force_destroy": False,
            }, tags={})
        for group in props.groups:
            table = Resource(self, f"table-{group.name}", "google_bigquery_table", {
                "dataset_id": dataset_id,
                "table_id": group.name,
                "description": f"terraml feature group {group.name}: one row per {group.record_id} and "
                               f"{group.event_time}",
                "schema": schema(group),
                "time_partitioning": {"type": "DAY", "field": group.event_time},
                "clustering": [group.record_id],
                "encryption_configuration": {"kms_key_name": props.bigquery_kms_key},
                "deletion_protection": True,
            }, tags={})
            source = f"{props.project}.{props.dataset_id}"
            view = Resource(self, f"source-{group.name}", "google_bigquery_table", {
                "dataset_id": dataset_id,
                "table_id": group.view_table,
                "description": f"{group.name} as Vertex AI reads it: {group.event_time} as {TIMESTAMP_COLUMN}",
                "view": {"use_legacy_sql": False, "query": (
                    f"SELECT * EXCEPT ({group.event_time}), {group.event_time} AS {TIMESTAMP_COLUMN} "
                    f"FROM `{source}.{group.name}`")},
                "deletion_protection": True,
            }, tags={}, depends_on=[table], skip_checks=VIEW_SKIPS)
            feature_group = Resource(self, f"group-{group.name}", "google_vertex_ai_feature_group", {
                "name": group.group_id,
                "region": props.region,
                "description": f"terraml feature group {group.name}",
                "big_query": {"big_query_source": {"input_uri": f"bq://{source}.{group.view_table}"},
                              "entity_id_columns": [group.record_id]},
            }, tags={}, depends_on=[view, *grants])
            names = [n for n in group.features if n not in (group.record_id, group.event_time)]
            features = [Resource(self, f"feature-{group.name}-{name}", "google_vertex_ai_feature_group_feature", {
                "name": name, "region": props.region, "feature_group": feature_group.attr("name"),
                "version_column_name": name}, tags={}) for name in names]
            if group.online and store is not None:
                Resource(self, f"online-{group.name}", "google_vertex_ai_feature_online_store_featureview", {
                    "name": group.feature_view_id,
                    "region": props.region,
                    "feature_online_store": store.attr("name"),
                    "feature_registry_source": {"feature_groups": [
                        {"feature_group_id": feature_group.attr("name"), "feature_ids": names}]},
                    "sync_config": {"cron": props.sync_cron},
                }, tags={}, depends_on=features)
