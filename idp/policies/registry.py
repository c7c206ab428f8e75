"""Every policy type Gatehouse has: one line each."""

from idp.policies.dummy import DummyPolicy
from idp.policies.expression import ExpressionPolicy
from idp.policies.initial_setup import InitialSetupPolicy
from idp.policies.password import PasswordPolicy
from idp.policies.password_expiry import PasswordExpiryPolicy
from idp.policies.reputation import ReputationPolicy
from idp.policies.unique_password import UniquePasswordPolicy

POLICY_TYPES = {
    policy_type.name: policy_type
    for policy_type in (
        DummyPolicy(),
        ExpressionPolicy(),
        InitialSetupPolicy(),
        PasswordPolicy(),
        PasswordExpiryPolicy(),
        UniquePasswordPolicy(),
        ReputationPolicy(),
    )
}
