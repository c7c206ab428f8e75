"""Every settings form label the admin derives from an option's name is in the catalogs: the
list in idp/core/option_labels.py names each one, so `make translations` extracts it."""

import dataclasses

from idp.core.option_labels import OPTION_LABELS
from idp.core.options_forms import label_of
from idp.policies.registry import POLICY_TYPES
from idp.providers.registry import PROVIDER_TYPES
from idp.stages.registry import STAGE_TYPES


def test_every_option_label_is_listed_for_the_catalogs():
    derived = {
        label_of(option.name)
        for registry in (STAGE_TYPES, POLICY_TYPES, PROVIDER_TYPES)
        for kind in registry.values()
        for option in dataclasses.fields(kind.Options)
    }
    assert not derived - OPTION_LABELS, sorted(derived - OPTION_LABELS)
