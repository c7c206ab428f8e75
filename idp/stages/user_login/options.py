from dataclasses import dataclass
from datetime import timedelta

from idp.core.config import LONGEST_SESSION
from idp.core.durations import parse_duration
from idp.core.i18n import N_
from idp.core.options import OptionsError, option


@dataclass(frozen=True)
class UserLoginOptions:
    session_duration: str = option(
        "1d",
        N_(
            "How long the sign-in lasts at most, from 1m to 400d: 12h, 1d, 30d (minutes, hours, "
            "days). Sessions left unused end sooner."
        ),
    )

    def validate(self):
        try:
            lifetime = parse_duration(self.session_duration)
        except ValueError as error:
            raise OptionsError("session_duration", error.args[0]) from None
        if not timedelta(minutes=1) <= lifetime <= LONGEST_SESSION:
            raise OptionsError("session_duration", N_("must be between 1m and 400d"))

    @property
    def lifetime(self) -> timedelta:
        return parse_duration(self.session_duration)
