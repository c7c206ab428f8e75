"""What each built-in scope gives an application: claims, and the words the consent page
shows. Admin-defined scopes are in scope_mappings."""

from idp.core.i18n import N_
from idp.models import User

# In English in the plan; the consent page shows them in the visitor's language.
PERMISSIONS = {
    "openid": N_("Who you are: a stable identifier for your account"),
    "profile": N_("Your name, username and the groups you belong to"),
    "email": N_("Your email address"),
    "offline_access": N_("Access while you are not using it (it stays signed in)"),
}


def subject_of(user: User) -> str:
    """The `sub` claim: stable for the account, never reused (the row's id)."""
    return str(user.id)


def standard_claims(user: User, scopes, group_names) -> dict:
    """The user's claims the built-in scopes allow; `group_names` are the user's groups."""
    scopes = set(scopes)
    claims = {"sub": subject_of(user)}
    if "profile" in scopes:
        attributes = user.attributes or {}
        claims.update(
            name=user.name or user.username,
            preferred_username=user.username,
            nickname=user.username,
            groups=sorted(group_names),
        )
        for claim in ("given_name", "family_name"):
            if isinstance(attributes.get(claim), str) and attributes[claim]:
                claims[claim] = attributes[claim]
    if "email" in scopes and user.email:
        # True only for the address its owner proved through a mailed link, or an
        # administrator set (User.verified_email); a changed address is unverified.
        claims.update(email=user.email, email_verified=user.is_email_verified)
    return claims
