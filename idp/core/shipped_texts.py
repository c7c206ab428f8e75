"""The words Gatehouse ships inside stored data: the flow files' titles, labels and messages,
the stage options' and the brand's defaults. An administrator may change any of them, so they
are stored as written; while one is still as shipped, it is shown in the visitor's language
(idp.core.i18n.translated). tests/unit/test_translations.py checks that every such
text of the shipped flows is listed here.
"""

from idp.core.i18n import N_

SHIPPED_TEXTS = frozenset(
    {
        # Flow titles (flows/*.yaml)
        N_("Sign in to {product_name}"),
        N_("Recovery codes"),
        N_("Set up an authenticator app"),
        N_("Set up a passkey"),
        N_("Create your account"),
        N_("Sign out"),
        N_("Change your password"),
        N_("Authorize application"),
        N_("Reset your password"),
        N_("Delete your account"),
        N_("Welcome to {product_name}"),
        # Stage options in the shipped flows
        N_("Sign in"),
        N_("Invalid username or password."),
        N_("Username"),
        N_("Name"),
        N_("Email"),
        N_("Password"),
        N_("Password (repeat)"),
        N_("Confirm your {product_name} account"),
        N_("Current password"),
        N_("First, your current password."),
        N_("Enter your password to delete your account for good."),
        N_("Confirm"),
        N_("Wrong password."),
        N_("New password"),
        N_("New password (repeat)"),
        N_("Your password was changed. Your other sessions were signed out."),
        N_("Allow access"),
        N_("Reset your {product_name} password"),
        N_("Your password was reset, and you are signed in."),
        N_("Delete my account"),
        N_("Your account was deleted."),
        # Stage option defaults
        N_("Terms of use"),
        N_("You may not continue."),
        N_("Continue with {product_name}"),
        N_("You have signed out."),
        N_("Your recovery codes are ready. Each one signs you in once."),
        N_("Your passkey was added."),
        N_("Your authenticator app is set up: signing in asks for a code from it."),
        # The brand's mail subjects
        N_("Your sign-in link"),
        N_("A way to sign in was added to your account"),
        N_("Someone tried to sign up with your email address"),
    }
)
