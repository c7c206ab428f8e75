from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from idp.core.durations import parse_duration
from idp.core.i18n import N_
from idp.core.options import OptionsError, option

MAX_TERMS_LENGTH = 100_000


@dataclass(frozen=True)
class ConsentOptions:
    title: str = option("Terms of use", N_("The heading above the terms (1 to 200 characters)."))
    # Shown as text, never as HTML.
    terms: str = option(
        "",
        N_("What the user agrees to, in plain text: blank lines separate paragraphs."),
        long_text=True,
    )
    mode: Literal["always", "permanent", "expiring"] = option(
        "always",
        N_("How often to ask. A change of the terms always asks again."),
        choices={
            "always": N_("Always: ask every time"),
            "permanent": N_("Permanent: ask once for each version of the terms"),
            "expiring": N_("Expiring: ask again once the time below has passed"),
        },
    )
    expires_in: str = option(
        "30d",
        N_("In expiring mode, how long a consent counts: 30d, 12h, 90m (days, hours, minutes)."),
    )

    def validate(self):
        if not self.title.strip() or len(self.title) > 200:
            raise OptionsError("title", N_("must be 1 to 200 characters"))
        if len(self.terms) > MAX_TERMS_LENGTH:
            raise OptionsError(
                "terms",
                N_("must be at most %(max_terms_length)s characters"),
                max_terms_length=MAX_TERMS_LENGTH,
            )
        if self.mode == "expiring":
            try:
                lifetime = parse_duration(self.expires_in)
            except ValueError as error:
                raise OptionsError("expires_in", error.args[0]) from None
            if not lifetime:
                raise OptionsError("expires_in", N_("must be longer than nothing"))

    @property
    def lifetime(self) -> timedelta | None:
        """How long a consent counts; None: for good."""
        return parse_duration(self.expires_in) if self.mode == "expiring" else None
