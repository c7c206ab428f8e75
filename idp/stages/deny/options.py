from dataclasses import dataclass


@dataclass(frozen=True)
class DenyOptions:
    message: str = "You may not continue."
