"""Every stage package is registered and owns its template and form."""

from pathlib import Path

import pytest

from idp.flows.registry import STAGE_TYPES

STAGES_DIR = Path(__file__).resolve().parents[2] / "idp" / "stages"
PACKAGES = sorted(
    path.name for path in STAGES_DIR.iterdir() if path.is_dir() and (path / "__init__.py").exists()
)


def test_every_stage_package_is_registered():
    assert set(PACKAGES) == set(STAGE_TYPES)


@pytest.mark.parametrize("name", PACKAGES)
def test_each_stage_package_owns_its_parts(name):
    stage_type = STAGE_TYPES[name]
    package = STAGES_DIR / name
    assert (package / "stage.py").exists()
    if stage_type.is_interactive:
        assert (package / "templates" / "stages" / name / "stage.html").exists()
        assert (package / "forms.py").exists()
    assert stage_type.label and stage_type.description


def test_stage_blueprints_have_distinct_names(app):
    names = [stage_type.package_blueprint().name for stage_type in STAGE_TYPES.values()]
    assert len(names) == len(set(names))
