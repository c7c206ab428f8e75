"""Counted nouns for pages and messages: "1 member", "2 members", never "1 members"."""


def singular_of(plural: str) -> str:
    """The singular of a plural English noun as the admin's pages use them (policies,
    sessions, members); pass the singular yourself for anything irregular."""
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith("s"):
        return plural[:-1]
    return plural


def noun(number: int, plural: str, singular: str | None = None) -> str:
    """The noun that fits `number`: noun(1, "members") == "member"."""
    return (singular or singular_of(plural)) if number == 1 else plural


def counted(number: int, plural: str, singular: str | None = None) -> str:
    """`number` and the noun that fits it: counted(1, "members") == "1 member"."""
    return f"{number} {noun(number, plural, singular)}"
