"""What pyproject.toml cannot say: the schema migrations and the shipped flows live at the top
of the checkout (migrations/, flows/) and go into the wheel inside the package, as
idp/shipped/migrations and idp/shipped/flows, so that a plain `pip install` (not editable)
finds them too (idp/core/shipped_files.py). Everything else is configured in pyproject.toml."""

from setuptools import find_namespace_packages, setup

# package name in the wheel -> folder in the checkout
SHIPPED_FOLDERS = {
    "idp.shipped.migrations": "migrations",
    "idp.shipped.migrations.versions": "migrations/versions",
    "idp.shipped.flows": "flows",
}

setup(
    # As pyproject's `packages.find` would (namespace folders included), plus the two folders.
    packages=[*find_namespace_packages(include=["idp*"]), *SHIPPED_FOLDERS],
    package_dir=SHIPPED_FOLDERS,
)
