"""The conformance suite: every registered cloud is held to the same contract, parametrized over the
registry, so a new cloud joins by its registry line (and, for jobs, a fake in tests/<cloud>/fake.py).

    the class imports without its SDK, and a missing SDK names the extra to install
    its unsupported reasons are real sentences, and every feature is implemented or listed, not both
    what it lists raises the one clear error (exit 2)
    every Terraform resource type its stack emits has a pricer or an explicit free/unpriced reason
    every name it derives obeys its limits, for the longest names the spec allows
    its stacks are among those the gates check (typed bindings, checkov: tests/gates/)
    its backend passes the job contract against a local fake (or refuses jobs with the clear error)
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from terraml import cloud as clouds
from terraml.backend import Backend, JobPlan, Settings, State
from terraml.catalog import load_catalog
from terraml.cloud import Cloud, Feature
from terraml.cost.estimate import ON_CLUSTER
from terraml.errors import UnsupportedFeature, UserError
from terraml.inventory import planned_stacks
from terraml.spec.loader import parse_platform

from .conftest import EXAMPLE

NAMES = list(clouds.REGISTRY)
ENVIRONMENTS = [c.NAME for c in clouds.with_environments()]
# Cloud methods that stand for a feature: a cloud overrides the method or lists the feature.
CLOUD_METHODS = {Feature.STACKS: "build_stack", Feature.TRAINING: "backend", Feature.BILLING: "spend",
                 Feature.PRICE_REFRESH: "fetch_prices"}
BACKEND_METHODS = {Feature.SERVING: ("deploy", "invoke", "list_endpoints"), Feature.UNDEPLOY: ("undeploy",)}
SDKS = ("boto3", "google", "azure", "mlflow", "sagemaker", "cdktn", "jsii", "constructs")


def overrides(obj, base, method: str) -> bool:
    return getattr(type(obj), method) is not getattr(base, method)


def test_the_registry_is_the_list_of_clouds():
    assert NAMES[0] == "local" and {"aws", "gcp", "azure"} <= set(NAMES)
    assert ENVIRONMENTS == [n for n in NAMES if n != "local"]
    with pytest.raises(UserError, match="did you mean 'aws'"):
        clouds.get("aws2")


@pytest.mark.parametrize("name", NAMES)
def test_class_imports_without_its_sdk(name):
    """With every cloud SDK, MLflow and cdktn unimportable, the class loads and describes itself; the SDK
    is only needed by the methods that use it, and then the error names the extra."""
    code = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in {SDKS!r}:
            raise ModuleNotFoundError(f"No module named '{{fullname}}'", name=fullname)
sys.meta_path.insert(0, Block())
from terraml.cloud import get
c = get({name!r})
print("UNSUPPORTED", len(c.UNSUPPORTED))
if c.ENVIRONMENTS:
    print("BLOCK", c.spec_block().__name__, len(c.regions()) > 0)
if c.EXTRA and "{Feature.TRAINING}" not in [f.value for f in c.UNSUPPORTED] and c.NAME != "local":
    from terraml.backend import Settings
    from terraml.catalog import load_catalog
    from terraml.errors import UserError
    from terraml.spec import load_platform
    try:
        c.backend(Settings(home=".", catalog=load_catalog(), platform=load_platform({str(EXAMPLE)!r}).platform))
    except UserError as exc:
        print("EXTRA", exc)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "UNSUPPORTED" in run.stdout
    cloud = clouds.get(name)
    if cloud.ENVIRONMENTS:
        assert "BLOCK" in run.stdout and "True" in run.stdout
    if cloud.supports(Feature.TRAINING) and cloud.ENVIRONMENTS:
        assert f"pip install 'terraml[{cloud.EXTRA}]'" in run.stdout


@pytest.mark.parametrize("name", NAMES)
def test_unsupported_reasons_are_sentences(name):
    cloud = clouds.get(name)
    for feature, why in cloud.UNSUPPORTED.items():
        assert isinstance(feature, Feature)
        assert len(why.split()) >= 4, f"{name}: {feature.value}: say why, and what to do instead"


@pytest.mark.parametrize("name", NAMES)
def test_every_feature_is_implemented_or_listed_not_both(name):
    cloud = clouds.get(name)
    for feature, method in CLOUD_METHODS.items():
        if feature == Feature.STACKS and not cloud.ENVIRONMENTS:
            assert not cloud.supports(feature)
            continue
        assert overrides(cloud, Cloud, method) == cloud.supports(feature), f"{name}: {feature.value}/{method}"


@pytest.mark.parametrize("name", NAMES)
def test_what_a_cloud_lists_raises_the_one_clear_error(name, example_spec):
    cloud = clouds.get(name)
    calls = {Feature.STACKS: lambda: cloud.build_stack(None, None),
             Feature.TRAINING: lambda: cloud.backend(Settings(home=".", catalog=load_catalog())),
             Feature.BILLING: lambda: cloud.spend("vision", "2026-11"),
             Feature.PRICE_REFRESH: lambda: cloud.fetch_prices([])}
    for feature, call in calls.items():
        if cloud.supports(feature):
            continue
        with pytest.raises(UnsupportedFeature) as caught:
            call()
        assert caught.value.exit_code == 2
        assert str(caught.value) == f"{name}: {feature.value} not supported: {cloud.UNSUPPORTED[feature]}"


@pytest.mark.parametrize("name", NAMES)
def test_backend_verbs_are_implemented_or_listed(name, example_spec, tmp_path):
    cloud = clouds.get(name)
    if not cloud.supports(Feature.TRAINING):
        return  # no backend at all: the test above holds it to the clear error
    backend = cloud.backend(Settings(home=tmp_path, catalog=load_catalog(), platform=example_spec.platform))
    for feature, methods in BACKEND_METHODS.items():
        for method in methods:
            assert overrides(backend, Backend, method) == cloud.supports(feature), f"{name}: {method}"
        if not cloud.supports(feature):
            with pytest.raises(UnsupportedFeature, match=re.escape(cloud.UNSUPPORTED[feature])):
                getattr(backend, methods[0])(*(["e"] if methods[0] != "list_endpoints" else []))


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_emitted_resource_types_are_priced_or_explained(name, stacks, example_spec):
    cloud = clouds.get(name)
    mine = [p.name for p in planned_stacks(example_spec.platform) if p.cloud == name and not p.skipped]
    if not cloud.supports(Feature.STACKS):
        assert mine == []
        return
    assert mine, f"{name} builds stacks but the example spec has none: add a team to examples/platform.yaml"
    pricers = cloud.pricers()
    emitted = {rtype for stack in mine for rtype in stacks[stack]["resource"]}
    missing = sorted(t for t in emitted if t not in pricers and t not in ON_CLUSTER)
    assert missing == [], f"{name}: give these types a pricer, free_because() or no_price_row(): {missing}"
    own = {t for t in emitted if clouds.of_resource_type(t) is cloud}
    assert own, f"{name}: none of its resource types is mapped to it by TERRAFORM_PROVIDERS"


def _longest_spec(name: str):
    """The example spec with every name at the longest the schema allows."""
    doc = YAML(typ="safe").load(EXAMPLE.read_text())
    doc["org"] = "o" * 21 + "g"
    doc.setdefault("defaults", {})["environment"] = "e" * 10
    for i, team in enumerate(doc["teams"]):
        team["name"] = f"t{i}" + "x" * 20
        block = team["clouds"].get(name)
        if not block:
            continue
        for j, pool in enumerate(block.get("gpu_pools", [])):
            pool["name"] = f"p{j}" + "y" * 20
        for j, ep in enumerate(block.get("endpoints", [])):
            ep["name"] = f"e{j}" + "z" * 20
        for j, group in enumerate((block.get("feature_store") or {}).get("groups", [])):
            group["name"] = f"g{j}_" + "f" * 59
    return parse_platform(json.loads(json.dumps(doc)), "longest names")


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_derived_names_obey_the_cloud_limits(name):
    cloud = clouds.get(name)
    platform = _longest_spec(name)
    names = {}
    for team in platform.teams:
        if team.environment(name) is not None:
            names.update({f"{team.name}:{k}": v for k, v in cloud.resource_names(platform, team).items()})
    if cloud.supports(Feature.STACKS):
        assert names, f"{name} builds stacks but derives no names to check"
        assert {k.split(":")[1] for k in names} == set(cloud.NAME_RULES), "every rule checked, every name ruled"
    for key, value in names.items():
        limit, pattern = cloud.NAME_RULES[key.split(":")[1]]
        assert len(value) <= limit and re.match(pattern, value), f"{name} {key}: {value!r} breaks ({limit}, {pattern})"


@pytest.mark.parametrize("name", NAMES)
def test_backend_passes_the_job_contract(name, example_spec, tmp_path):
    cloud = clouds.get(name)
    if not cloud.supports(Feature.TRAINING):
        return  # refuses jobs with the clear error (above)
    fake = importlib.import_module(f"tests.{name}.fake")  # each cloud's fake, beside its tests
    from terraml.spec.job_loader import load_job

    with fake.job_backend(tmp_path, example_spec.platform) as (backend, job_file):
        assert backend.NAME == name
        job = load_job(job_file, example_spec.platform, name)
        plan = backend.plan(job)
        assert isinstance(plan, JobPlan) and plan.job is job and plan.decision.capacity in ("spot", "on-demand")
        handle = backend.submit(plan)
        assert (handle.name, handle.team, handle.existing) == (job.job.name, job.job.team, False)
        assert backend.submit(backend.plan(job)).existing, "a second submit of one name creates nothing"
        seen = []
        final = backend.wait(handle, timeout_s=300, on_poll=seen.append)
        assert final.state == State.COMPLETED, final.message
        assert seen and seen[-1] == final and all(s.state in State for s in seen)
        assert backend.handle(job.job.name).name == job.job.name
        assert job.job.name in [h.name for h, _ in backend.list_jobs()]
        assert all(isinstance(line, str) for line in backend.logs(handle))
        with pytest.raises(UserError):
            backend.handle("no-such-job")
