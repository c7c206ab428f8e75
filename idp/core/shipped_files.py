"""Where the schema migrations and the shipped flows are. In a checkout (and an editable
install) they are the folders migrations/ and flows/ beside the package; a wheel carries them
inside the package, as idp/shipped/ (setup.py maps them there)."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
CHECKOUT = PACKAGE.parent


def shipped_folder(name: str) -> Path:
    """`name` ("migrations" or "flows") as installed from a wheel, else the checkout's. The
    wheel's copy comes first: beside an installed package is site-packages, where another
    distribution may have put a folder of that name."""
    installed = PACKAGE / "shipped" / name
    return installed if installed.is_dir() else CHECKOUT / name


def migrations_folder() -> Path:
    return shipped_folder("migrations")


def shipped_flow_files() -> list[Path]:
    return sorted(shipped_folder("flows").glob("*.yaml"))
