"""An installed terraml is one top-level package: providers/, modules/ and stacks/ install under it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from ..conftest import ROOT


def test_wheel_puts_only_terraml_into_site_packages(tmp_path):
    # Built from a copy of the files git would commit, so the build leaves nothing in the working tree.
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    source = tmp_path / "src"
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    [wheel] = tmp_path.glob("terraml-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"terraml", wheel.name.split("-py3")[0] + ".dist-info"}
    for expected in ("terraml/cloud.py", "terraml/providers/aws/cloud.py", "terraml/providers/local/runner.py",
                     "terraml/modules/core.py", "terraml/stacks/main.py", "terraml/data/pricing/vm_prices.csv"):
        assert expected in names
    assert not any(n.startswith("terraml/tests") or n.startswith("tests/") for n in names)
