"""Load and check a job file (job.yaml) against the platform spec and the chosen backend.

Everything that can be wrong is found before anything is submitted: unknown keys, a team not in
the spec, an accelerator the backend cannot provide, a spot policy that contradicts itself, a
missing entrypoint. Problems carry the field path, the value, what is allowed and the fix.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from terraml.cloud import Cloud, get
from terraml.errors import Problem, SpecError, UserError
from terraml.policy.spot import with_defaults
from terraml.spec.job import LoadedJob, TrainingJob
from terraml.spec.loader import locate_path, parse_document, read_yaml
from terraml.spec.models import Platform
from terraml.suggest import did_you_mean


def load_job(path: str | Path, platform: Platform, cloud_name: str, team: str | None = None, *,
             accelerator: str | None = None) -> LoadedJob:
    """``team`` (from --team) replaces the job file's team; ``accelerator`` (from --accelerator) replaces its
    machine choice (resources.accelerator, and the cloud-specific instance_type or machine_type, so that one job
    file runs on another cloud); ``cloud_name`` is the backend it goes to."""
    cloud = get(cloud_name)
    job_path = Path(path)
    if not job_path.is_file():
        raise UserError(f"job file not found: {job_path}; pass the path of a job.yaml (see examples/job.yaml).")
    doc = read_yaml(job_path)
    job: TrainingJob = parse_document(doc, TrainingJob, str(job_path), "'name', 'team' and 'entrypoint'")
    if team:
        job = job.model_copy(update={"team": team})
    if accelerator is not None:
        if not accelerator.strip():
            raise UserError("--accelerator: empty; name an accelerator, e.g. --accelerator L4 (see: terraml catalog "
                            "gpus --cloud <cloud>).")
        job = job.model_copy(update={"resources": job.resources.model_copy(update={
            "accelerator": accelerator.strip(), "instance_type": None, "machine_type": None})})
    problems: list[Problem] = []
    source_dir = (job_path.parent / job.source_dir).resolve()
    _check_team(job, platform, cloud, problems)
    _check_spot(job, problems)
    _check_entrypoint(job, source_dir, cloud, problems)
    _check_resources(job, cloud, problems)
    cloud.check_job(job, problems)
    if problems:
        located = [Problem(p.path, p.message, locate_path(doc, p.path, str(job_path))) for p in problems]
        raise SpecError(located, str(job_path))
    return LoadedJob(job=job, path=job_path, source_dir=source_dir,
                     spot=with_defaults(job.spot, job.max_runtime_hours))


def _check_team(job: TrainingJob, platform: Platform, cloud: Cloud, problems: list[Problem]):
    """Jobs on a cloud with team environments run in the team's clouds.<name>, under its quota."""
    team = platform.team(job.team)
    names = [t.name for t in platform.teams]
    if team is None:
        problems.append(Problem("team", f"'{job.team}' is not a team in the platform spec"
                                        f"{did_you_mean(job.team, names)} Teams: {', '.join(names)}."))
    elif cloud.ENVIRONMENTS and team.environment(cloud.NAME) is None:
        have = ", ".join(n for n, _ in team.clouds.items()) or "none"
        problems.append(Problem("team", f"team '{job.team}' has no {cloud.NAME} environment in the platform spec "
                                        f"(it has: {have}); submit with --cloud set to one of them, or add "
                                        f"clouds.{cloud.NAME} to the team."))
    elif cloud.ENVIRONMENTS and team.quotas.max_gpus is not None and job.resources.accelerator:
        gpus = job.resources.accelerator_count * job.resources.instance_count
        if gpus > team.quotas.max_gpus:
            problems.append(Problem("resources.instance_count",
                                    f"the job asks for {gpus} GPUs (accelerator_count x instance_count), above the "
                                    f"team's quotas.max_gpus {team.quotas.max_gpus}; lower them or raise the quota."))


def _check_spot(job: TrainingJob, problems: list[Problem]):
    spot = job.spot
    fallback_only = {"max_interruptions": spot.max_interruptions, "max_price_ratio": spot.max_price_ratio}
    if spot.mode == "on-demand":
        for key, value in {**fallback_only, "max_wait_hours": spot.max_wait_hours}.items():
            if value is not None:
                problems.append(Problem(f"spot.{key}", f"{value} only applies to spot capacity, but mode is "
                                                       f"'on-demand'; remove it or use mode 'auto'."))
    elif spot.mode == "spot":
        for key, value in fallback_only.items():
            if value is not None:
                problems.append(Problem(f"spot.{key}", f"{value} decides when to fall back to on-demand, but mode "
                                                       f"'spot' never does; remove it or use mode 'auto'."))
    if spot.mode != "on-demand" and spot.max_wait_hours is not None and spot.max_wait_hours < job.max_runtime_hours:
        problems.append(Problem("spot.max_wait_hours",
                                f"{spot.max_wait_hours:g} is below max_runtime_hours {job.max_runtime_hours:g}; the "
                                "wait counts the runtime too, so it must be >= max_runtime_hours (SageMaker rejects "
                                "it otherwise). Raise max_wait_hours."))


PYTHONS = ("python", "python3")
"""Entrypoint programs every backend provides: the local backend runs them with its own interpreter."""


def _check_entrypoint(job: TrainingJob, source_dir: Path, cloud: Cloud, problems: list[Problem]):
    """The entrypoint is run as argv (no shell) in source_dir: its script must be there, and on this
    machine (local backend) its program must exist, so a typo fails here, not after submit."""
    if not source_dir.is_dir():
        problems.append(Problem("source_dir", f"'{job.source_dir}' is not a folder (resolved to {source_dir}); "
                                              "it is relative to the job file."))
        return
    try:
        words = shlex.split(job.entrypoint)
    except ValueError as exc:
        problems.append(Problem("entrypoint", f"{job.entrypoint!r} cannot be parsed: {exc}; fix the quoting."))
        return
    if not words:
        problems.append(Problem("entrypoint", "is empty; give the command that starts training, e.g. "
                                              "'python train.py'."))
        return
    script = next((w for w in words if w.endswith((".py", ".sh"))), None)
    if script and not (source_dir / script).resolve().is_relative_to(source_dir):
        problems.append(Problem("entrypoint", f"'{script}' is outside source_dir {job.source_dir}; only "
                                              "source_dir is shipped with the job. Move the script into it."))
    elif script and not (source_dir / script).is_file():
        problems.append(Problem("entrypoint", f"'{script}' is not in {job.source_dir} ({source_dir}); "
                                              "fix the entrypoint or source_dir."))
    program = words[0]
    if not cloud.ENVIRONMENTS and program not in PYTHONS and not (source_dir / program).is_file() \
            and shutil.which(program) is None:
        hint = did_you_mean(program, PYTHONS)
        problems.append(Problem("entrypoint", f"'{program}' is not a program on this machine's PATH nor a file "
                                              f"in {job.source_dir}{hint} Fix the command."))


def _check_resources(job: TrainingJob, cloud: Cloud, problems: list[Problem]):
    r = job.resources
    given = [k for k in ("accelerator", "instance_type", "machine_type") if getattr(r, k)]
    if len(given) > 1:
        problems.append(Problem("resources", f"{' and '.join(given)} given; give one of them."))
    if cloud.ENVIRONMENTS and job.framework is None and job.image is None:  # cloud jobs run in containers
        problems.append(Problem("framework", "neither 'framework' nor 'image' given; a cloud job needs a "
                                             "container: set framework {name, version} or image."))
    if job.framework is not None and job.image is not None:
        problems.append(Problem("image", "both 'framework' and 'image' given; give one of them."))
