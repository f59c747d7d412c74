"""Packages: the card's folders stay at the top of the repository and install under the terraml name.

    terraml/    -> terraml            the cloud-neutral core
    providers/  -> terraml.providers  one folder per cloud (and local)
    modules/    -> terraml.modules    constructs
    stacks/     -> terraml.stacks     the cdktn app

So an installed terraml puts one top-level package, ``terraml``, into site-packages, and a new cloud's
folder is picked up without editing this file. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

MAPPED = ("providers", "modules", "stacks")

packages = find_packages(include=["terraml", "terraml.*"])
package_dir = {"terraml": "terraml"}
for folder in MAPPED:
    package_dir[f"terraml.{folder}"] = folder
    packages += [f"terraml.{name}" for name in find_packages(include=[folder, f"{folder}.*"])]

setup(packages=packages, package_dir=package_dir)
