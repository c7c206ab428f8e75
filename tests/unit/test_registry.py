"""Every stage package is registered and owns its template, its form and its admin settings
form; every policy type owns its settings form too."""

from pathlib import Path

import pytest

from idp.core.options_forms import OptionsForm
from idp.policies.registry import POLICY_TYPES
from idp.stages.registry import STAGE_TYPES

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


@pytest.mark.parametrize("name", PACKAGES)
def test_each_stage_type_has_one_options_form_for_its_options(name):
    stage_type = STAGE_TYPES[name]
    assert issubclass(stage_type.options_form, OptionsForm)
    assert stage_type.options_form is stage_type.options_form
    assert stage_type.options_form.options_class is stage_type.Options
    stage_type.parse_options({})


@pytest.mark.parametrize("name", sorted(POLICY_TYPES))
def test_each_policy_type_has_one_options_form_for_its_options(name):
    policy_type = POLICY_TYPES[name]
    assert issubclass(policy_type.options_form, OptionsForm)
    assert policy_type.options_form is policy_type.options_form
    assert policy_type.options_form.options_class is policy_type.Options
    policy_type.parse_options({})


def test_stage_blueprints_have_distinct_names():
    names = [stage_type.package_blueprint().name for stage_type in STAGE_TYPES.values()]
    assert len(names) == len(set(names))
