"""The MLflow model registry, the one place terraml reads or writes model versions (every backend).

MLflow is imported when a function runs, never at import time.
"""

from __future__ import annotations

from terraml.errors import UserError
from terraml.suggest import did_you_mean


def _client(tracking_uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def register_version(tracking_uri: str, model: str, source: str, *, run_id: str | None = None,
                     tags: dict[str, str] | None = None) -> str:
    """Add a version of ``model`` (creating the registered model on first use); returns the version."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

    client = _client(tracking_uri)
    try:
        client.create_registered_model(model)
    except MlflowException as exc:
        if exc.error_code not in (ErrorCode.Name(RESOURCE_ALREADY_EXISTS), "ALREADY_EXISTS"):
            raise
    return str(client.create_model_version(model, source, run_id=run_id, tags=tags or {}).version)


def version_to_deploy(tracking_uri: str | None, model: str, version: str, *, cloud: str, service: str,
                      source_scheme: str, needs_image: bool = True):
    """The registered version ``deploy --cloud <cloud>`` serves: trained on ``service`` (its artifacts under
    ``source_scheme``, and its serving image recorded as the tag 'terraml.image' where ``needs_image``), or a
    UserError with the fix. Every cloud backend's deploy starts here."""
    if not tracking_uri:
        raise UserError(f"deploying on {cloud} reads the model version from the MLflow registry; set --tracking-uri "
                        "or MLFLOW_TRACKING_URI.")
    mv = model_version(tracking_uri, model, version)
    if not str(mv.source).startswith(source_scheme) or (needs_image and not (mv.tags or {}).get("terraml.image")):
        raise UserError(f"{model} v{version} was not trained on {service} (source {mv.source}); deploy it with the "
                        f"--cloud it was trained on, or train it with --cloud {cloud}.")
    return mv


def model_version(tracking_uri: str, model: str, version: str):
    """The registered version, or a UserError that lists the versions or models there are."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        return client.get_model_version(model, version)
    except MlflowException:
        names = [m.name for m in client.search_registered_models()]
        if model in names:
            versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{model}'"))
            raise UserError(f"--version: model '{model}' has no version {version}; versions: "
                            f"{', '.join(map(str, versions))}.") from None
        raise UserError(f"model '{model}' is not in the registry ({tracking_uri}){did_you_mean(model, names)} "
                        f"Registered: {', '.join(names) or 'none'}.") from None
