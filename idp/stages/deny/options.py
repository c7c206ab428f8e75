from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import option


@dataclass(frozen=True)
class DenyOptions:
    message: str = option(
        "You may not continue.", N_("What the visitor reads when the flow stops here.")
    )
