from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from idp.core.durations import parse_duration
from idp.core.options import OptionsError

MAX_TERMS_LENGTH = 100_000


@dataclass(frozen=True)
class ConsentOptions:
    title: str = "Terms of use"
    # Plain text: blank lines separate paragraphs. Shown as text, never as HTML.
    terms: str = field(default="", metadata={"long_text": True})
    # always: ask every time; permanent: ask once per version of the terms; expiring: ask
    # again once `expires_in` has passed (or the terms changed).
    mode: Literal["always", "permanent", "expiring"] = "always"
    expires_in: str = "30d"

    def validate(self):
        if not self.title.strip() or len(self.title) > 200:
            raise OptionsError("title", "must be 1 to 200 characters")
        if len(self.terms) > MAX_TERMS_LENGTH:
            raise OptionsError("terms", f"must be at most {MAX_TERMS_LENGTH} characters")
        if self.mode == "expiring":
            try:
                lifetime = parse_duration(self.expires_in)
            except ValueError as error:
                raise OptionsError("expires_in", str(error)) from None
            if not lifetime:
                raise OptionsError("expires_in", "must be longer than nothing")

    @property
    def lifetime(self) -> timedelta | None:
        """How long a consent counts; None: for good."""
        return parse_duration(self.expires_in) if self.mode == "expiring" else None
