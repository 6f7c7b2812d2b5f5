"""Packaging lives in setup.cfg; this file only lists the packages.

The folders core/ and plugins/ are installed as `opiekun` and `opiekun.plugins`, so the
package list is computed here from each folder (setuptools' finder does not remap names).
"""
from setuptools import find_namespace_packages, setup


def packages_under(folder: str, package: str) -> list[str]:
    found = find_namespace_packages(folder, exclude=["*__pycache__*"])
    return [package] + [f"{package}.{name}" for name in found]


setup(packages=packages_under("core", "opiekun") + packages_under("plugins", "opiekun.plugins"))
