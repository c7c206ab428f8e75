from dataclasses import dataclass
from datetime import timedelta

from idp.core.durations import parse_duration
from idp.core.options import OptionsError


@dataclass(frozen=True)
class UserLoginOptions:
    session_duration: str = "1d"

    def validate(self):
        try:
            lifetime = parse_duration(self.session_duration)
        except ValueError as error:
            raise OptionsError("session_duration", str(error)) from None
        if not timedelta(minutes=1) <= lifetime <= timedelta(days=400):
            raise OptionsError("session_duration", "must be between 1m and 400d")

    @property
    def lifetime(self) -> timedelta:
        return parse_duration(self.session_duration)
