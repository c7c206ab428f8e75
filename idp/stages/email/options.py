from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import OptionsError, option

MAX_SUBJECT_LENGTH = 200


@dataclass(frozen=True)
class EmailOptions:
    subject: str = option(
        "Continue with {product_name}",
        N_("The mail's subject line (one line); {product_name} is the brand's name."),
    )
    token_expiry_minutes: int = option(
        30, N_("How long the mailed link works, in minutes (1 to 10080, a week). It works once.")
    )
    activate_user_on_success: bool = option(
        False,
        N_(
            "Following the link activates the account: for sign-up flows whose users are created "
            "inactive until they confirm their address."
        ),
    )
    # The account's owner, asking from a device they signed in on, has an hour of their own.
    sends_per_hour: int = option(
        5,
        N_(
            "Links mailed to one address (or for one name typed) in any hour (1 to 100); more are "
            "refused politely."
        ),
    )
    # Shared by every email stage, so one client cannot spend everyone's limit.
    sends_per_hour_per_ip: int = option(
        20,
        N_(
            "Links mailed at the request of one IP address in any hour, whatever names it types "
            "(1 to 1000)."
        ),
    )

    def validate(self):
        if not self.subject.strip() or len(self.subject) > MAX_SUBJECT_LENGTH:
            raise OptionsError(
                "subject",
                N_("must be 1 to %(max_subject_length)s characters"),
                max_subject_length=MAX_SUBJECT_LENGTH,
            )
        if "\r" in self.subject or "\n" in self.subject:
            raise OptionsError("subject", N_("must be one line"))
        if not 1 <= self.token_expiry_minutes <= 7 * 24 * 60:
            raise OptionsError("token_expiry_minutes", N_("must be between 1 and 10080 (a week)"))
        if not 1 <= self.sends_per_hour <= 100:
            raise OptionsError("sends_per_hour", N_("must be between 1 and 100"))
        if not 1 <= self.sends_per_hour_per_ip <= 1000:
            raise OptionsError("sends_per_hour_per_ip", N_("must be between 1 and 1000"))
