"""Azure ML's words for terraml's: the team's compute clusters, the command job, status mapping and job cost.

Pure functions and data (no SDK, no network), so each can be tested without Azure:

    team_clusters()      the compute clusters the team stack creates (the same names, VM sizes and tiers)
    pick_clusters()      which of them a job runs on (low priority for spot, dedicated for on-demand)
    JobRequest           the command job terraml submits (shown by --dry-run, sent by submit)
    map_status()         Azure ML job status -> terraml State
    job_cost()           billed compute from the running time terraml observed and a catalog row
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace

from terraml.backend import State
from terraml.errors import Problem, SpecError
from terraml.naming import fit
from terraml.providers.azure.pricing import on_demand_as_of, spot_as_of

DATASTORE = "workspaceblobstore"
"""The default blob datastore Azure ML creates in every workspace (on the workspace's storage account)."""
FALLBACK_SUFFIX = "-od"
JOB_NAME_LIMIT = 255  # Azure ML job names: letters, digits, '-' and '_', up to 255 characters

# The curated Azure ML training environments (azureml registry; Azure/azureml-assets
# assets/training/general/environments/<name>): framework -> version -> environment name.
CURATED = {
    "pytorch": {"2.0": "acpt-pytorch-2.0-cuda11.7", "2.1": "acpt-pytorch-2.1-cuda12.1",
                "2.2": "acpt-pytorch-2.2-cuda12.1", "2.3": "acpt-pytorch-2.3-cuda12.1",
                "2.4": "acpt-pytorch-2.4-cuda12.4", "2.5": "acpt-pytorch-2.5-cuda12.4",
                "2.7": "acpt-pytorch-2.7-cuda12.6", "2.8": "acpt-pytorch-2.8-cuda12.6"},
    "tensorflow": {"2.16": "tensorflow-2.16-cuda12"},
    "sklearn": {"1.5": "sklearn-1.5"},
}


def curated_environment(framework: str, version: str) -> str | None:
    """The registry URI of Azure ML's curated environment for a framework version ('2.5' or '2.5.1')."""
    versions = CURATED.get(framework, {})
    short = ".".join(version.split(".")[:2])
    name = versions.get(version) or versions.get(short)
    return f"azureml://registries/azureml/environments/{name}/labels/latest" if name else None


@dataclass(frozen=True)
class TeamCluster:
    """One Azure ML compute cluster of the team (providers/azure/stack.py creates it)."""

    name: str
    pool: str
    vm_size: str
    capacity: str  # 'spot' (LowPriority) | 'on-demand' (Dedicated)
    accelerator: str | None
    gpus: float | None
    row: object | None  # the catalog's VmRow

    @property
    def tier(self) -> str:
        return "low priority" if self.capacity == "spot" else "dedicated"

    def describe(self) -> str:
        gpu = f" ({self.gpus:g} x {self.accelerator})" if self.accelerator and self.gpus else ""
        return f"{self.name}: {self.vm_size}{gpu}, {self.tier}"


def team_clusters(platform, team, catalog) -> list[TeamCluster]:
    """The team's compute clusters, derived from the spec exactly as the team stack derives them."""
    from terraml.policy.capacity import capacity_plan
    from terraml.policy.machines import resolve_machine
    from terraml.providers.azure.cloud import AzureCloud
    from terraml.providers.azure.names import AzureNames

    azure = team.clouds.azure
    names = AzureNames.for_team(platform, team)
    out = []
    for pool in azure.gpu_pools:
        machine = resolve_machine(AzureCloud.NAME, azure.location, pool.instance_type, pool.accelerator,
                                  pool.accelerator_count, catalog)
        plan = capacity_plan(pool.spot.mode, pool.spot.max_price_ratio, machine.row, min_nodes=0,
                             max_nodes=pool.max_nodes, price_cap_enforced_by_cloud=AzureCloud.SPOT_PRICE_CAP)
        for group in plan.groups:
            out.append(TeamCluster(names.ml_compute(pool.name, group.suffix), pool.name, machine.instance_type,
                                   group.capacity, machine.accelerator, machine.gpus, machine.row))
    return out


@dataclass(frozen=True)
class ClusterChoice:
    spot: TeamCluster | None
    on_demand: TeamCluster | None

    @property
    def row(self):
        return (self.spot or self.on_demand).row

    @property
    def vm_size(self) -> str:
        return (self.spot or self.on_demand).vm_size


def pick_clusters(job, clusters: list[TeamCluster], team: str) -> ClusterChoice:
    """The low-priority and dedicated clusters of the one pool whose VM size fits the job (resources.instance_type
    by name, or resources.accelerator x accelerator_count). SpecError naming the field when none fits."""
    r = job.job.resources
    offered = "; ".join(c.describe() for c in clusters) or "none (the team has no clouds.azure.gpu_pools)"
    if r.instance_type or r.machine_type:
        field_name = "resources.instance_type" if r.instance_type else "resources.machine_type"
        wanted = r.instance_type or r.machine_type
        fits = [c for c in clusters if c.vm_size.lower() == wanted.lower()]
        what = f"'{wanted}'"
    elif r.accelerator:
        field_name, wanted = "resources.accelerator", r.accelerator
        fits = [c for c in clusters if c.accelerator == r.accelerator and c.gpus == r.accelerator_count]
        what = f"{r.accelerator_count} x {r.accelerator}"
        if not fits and any(c.accelerator == r.accelerator for c in clusters):
            field_name = "resources.accelerator_count"
    else:
        raise SpecError([Problem("resources", f"name resources.accelerator or resources.instance_type: Azure ML jobs "
                                              f"run on one of team {team}'s compute clusters: {offered}.")],
                        str(job.path))
    if not fits:
        raise SpecError([Problem(field_name, f"{what} is on none of team {team}'s Azure ML compute clusters; "
                                             f"they offer: {offered}. Ask for one of these (or add a gpu_pool "
                                             "to clouds.azure and deploy the team stack).")], str(job.path))
    pool = fits[0].pool
    same = [c for c in fits if c.pool == pool]
    return ClusterChoice(next((c for c in same if c.capacity == "spot"), None),
                         next((c for c in same if c.capacity == "on-demand"), None))


CONTRACT_PATHS = {
    "TERRAML_CHECKPOINT_DIR": "${{outputs.checkpoints}}",
    "TERRAML_MODEL_DIR": "${{outputs.model}}",
    "TERRAML_METRICS_FILE": "${{outputs.checkpoints}}/metrics.jsonl",
}
"""The container contract's paths, bound to the job's outputs (Azure ML resolves ${{...}} in the command)."""


@dataclass(frozen=True)
class JobRequest:
    """The command job terraml submits: everything azure.ai.ml.command() gets, as plain data."""

    name: str
    experiment: str
    command: str
    environment: str
    """A registry environment URI (curated) or a container image (job.yaml image:)."""
    compute: str
    instance_count: int
    timeout_s: int
    environment_variables: dict[str, str]
    code_uri: str
    checkpoints_uri: str
    model_uri: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def image(self) -> bool:
        return not self.environment.startswith("azureml:")

    def on_demand(self, name: str, compute: str, extra_tags: dict[str, str]) -> JobRequest:
        """The same job again on the dedicated cluster: same code, same checkpoints and model outputs."""
        env = {**self.environment_variables, "TERRAML_JOB_NAME": name, "TERRAML_CAPACITY": "on-demand"}
        return replace(self, name=name, compute=compute, environment_variables=env,
                       tags={**self.tags, "terraml:capacity": "on-demand", **extra_tags})

    def to_dict(self) -> dict:
        """The REST body's fields (what --dry-run shows)."""
        return {"name": self.name, "properties": {
            "jobType": "Command", "experimentName": self.experiment, "command": self.command,
            "environment": self.environment, "computeId": f"computes/{self.compute}",
            "resources": {"instanceCount": self.instance_count},
            "limits": {"jobLimitsType": "Command", "timeout": f"PT{self.timeout_s}S"},
            "environmentVariables": self.environment_variables,
            "inputs": {"code": {"jobInputType": "uri_folder", "uri": self.code_uri, "mode": "Download"}},
            "outputs": {"checkpoints": {"jobOutputType": "uri_folder", "uri": self.checkpoints_uri,
                                        "mode": "ReadWriteMount"},
                        "model": {"jobOutputType": "uri_folder", "uri": self.model_uri, "mode": "ReadWriteMount"}},
            "tags": self.tags}}


def datastore_uri(path: str) -> str:
    return f"azureml://datastores/{DATASTORE}/paths/{path.strip('/')}/"


def job_command(entrypoint: str) -> str:
    """GNU env enters the code folder, sets the contract's output paths and execs the entrypoint's words:
    the same argv on every backend (Azure ML runs the command line through a shell, so each word is quoted)."""
    paths = " ".join(f"{k}={v}" for k, v in CONTRACT_PATHS.items())
    return f"env --chdir=${{{{inputs.code}}}} {paths} {shlex.join(shlex.split(entrypoint))}"


def build_request(job, decision, compute: str, environment: str, code_hash: str, tags: dict[str, str]) -> JobRequest:
    spec = job.job
    env = {**spec.environment, "TERRAML_JOB_NAME": spec.name, "TERRAML_TEAM": spec.team,
           "TERRAML_HYPERPARAMETERS": json.dumps(spec.hyperparameters, sort_keys=True),
           "TERRAML_CAPACITY": decision.capacity}
    return JobRequest(
        name=spec.name, experiment=f"terraml-{spec.team}", command=job_command(spec.entrypoint),
        environment=environment, compute=compute, instance_count=spec.resources.instance_count,
        timeout_s=int(spec.max_runtime_hours * 3600), environment_variables=env,
        code_uri=datastore_uri(f"terraml/code/{code_hash}"),
        checkpoints_uri=datastore_uri(f"terraml/jobs/{spec.name}/checkpoints"),
        model_uri=datastore_uri(f"terraml/jobs/{spec.name}/model"), tags=tags)


def fallback_name(name: str) -> str:
    return fit(name + FALLBACK_SUFFIX, JOB_NAME_LIMIT)


# Azure ML job statuses (REST JobStatus) -> terraml State.
_STATES = {
    "NotStarted": State.PENDING, "Starting": State.PENDING, "Provisioning": State.PENDING,
    "Preparing": State.PENDING, "Queued": State.WAITING_FOR_CAPACITY, "Running": State.RUNNING,
    "Finalizing": State.RUNNING, "CancelRequested": State.STOPPED, "Completed": State.COMPLETED,
    "Failed": State.FAILED, "Canceled": State.STOPPED, "NotResponding": State.RUNNING, "Paused": State.PENDING,
    "Unknown": State.PENDING,
}
RUNNING = ("Running", "Finalizing")
WAITING = ("NotStarted", "Starting", "Provisioning", "Preparing", "Queued")


def map_status(status: str | None) -> State:
    return _STATES.get(str(status or "Unknown"), State.PENDING)


def phase(status: str | None) -> str:
    """'running', 'waiting' or 'ended': what a preemption restart looks like from outside is running -> waiting."""
    s = str(status or "")
    if s in RUNNING:
        return "running"
    if s in WAITING:
        return "waiting"
    return "ended" if map_status(s).terminal else "waiting"


@dataclass(frozen=True)
class JobCost:
    usd: float | None
    savings_percent: float | None
    note: str


def _caveat(row, today, capacity: str) -> str:
    """'; <the catalog's caveat>' for the price used (terraml.catalog.row_caveat: doubt, or older than its rule)."""
    caveat = row.caveat_on(today, capacity)
    return f"; {caveat}" if caveat else ""


def job_cost(spot_seconds: float | None, on_demand_seconds: float | None, instances: int, row, *,
             source: str = "", today=None) -> JobCost:
    """Azure ML compute is billed at the VM price (no Azure ML surcharge, SOURCES.md §8): low-priority time at
    the catalog's spot row, dedicated time at its on-demand row. ``source`` says where the running time comes
    from (Azure ML's run timestamps, or what terraml's polls observed); both seconds None means no running time
    is known, and so no cost (None, not 0). Savings against all of it on dedicated."""
    if spot_seconds is None and on_demand_seconds is None:
        return JobCost(None, None, source or "no running time known")
    spot_seconds, on_demand_seconds = spot_seconds or 0.0, on_demand_seconds or 0.0
    if row is None or row.on_demand_usd_per_hour is None:
        return JobCost(None, None, "no catalog price for this VM size")
    od = row.on_demand_usd_per_hour
    spot = row.spot_usd_per_hour
    parts, usd = [], 0.0
    if spot_seconds:
        if spot is None:
            return JobCost(None, None, f"no low-priority/spot price for {row.instance_type} in the catalog")
        usd += spot_seconds * instances * spot / 3600
        parts.append(f"{spot_seconds:.0f} s low priority x {instances} x ${spot:g}/h (the Spot meter row, as of "
                     f"{spot_as_of(row)}{_caveat(row, today, 'spot')}; no Low Priority meter is transcribed, see "
                     "SOURCES.md §8)")
    if on_demand_seconds:
        usd += on_demand_seconds * instances * od / 3600
        parts.append(f"{on_demand_seconds:.0f} s dedicated x {instances} x ${od:g}/h (pay-as-you-go row, as of "
                     f"{on_demand_as_of(row)}{_caveat(row, today, 'on-demand')})")
    total = spot_seconds + on_demand_seconds
    savings = round((1 - usd / (total * instances * od / 3600)) * 100, 1) if total and spot_seconds else None
    note = f"{row.instance_type} {row.region}: " + " + ".join(parts or ["no running time yet"]) + \
        f"; running time from {source or 'terraml'}; Azure ML adds no surcharge to the VM price"
    return JobCost(round(usd, 4), savings, note)
