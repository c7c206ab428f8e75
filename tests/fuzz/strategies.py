"""What the fuzz tests post, and what every answer must satisfy."""

import os
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.database_state import row_counts

# Small, so that each module stays within seconds (IDP_FUZZ_EXAMPLES=1000 to search harder);
# database=None: no .hypothesis folder.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("IDP_FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    # The app (a fixture) is shared by the examples of a test on purpose: each example
    # checks its own request, and making a fresh app per example would take minutes.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Tables a refused request may still write to by design: the audit log, and the counters
# that make a refused password or code count.
COUNTERS_AND_AUDIT = {"events", "failed_attempts", "reputation_scores"}

NASTY_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "9" * 40,
    "NaN",
    "true",
    "on",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "../../etc/passwd",
    "%00",
    "\x00",
    "\u202e",
    "\ufeff",
    "a" * 5000,
    "2024-02-30",
    "0000-00-00T00:00",
    "9999-12-31T23:59",
    "İı ß ǅ",
    "\U0001f600",
]
text_values = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=200),
)
# A field sent twice or three times, as a crafted request can.
field_values = st.one_of(text_values, text_values, st.lists(text_values, min_size=2, max_size=3))

FIELD_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"')


def form_fields(html: str) -> list[str]:
    """The names of the fields of the forms on a page, but the CSRF token."""
    return sorted(set(FIELD_NAME.findall(html)) - {"csrf_token"})


def form_data(fields, csrf_token: str):
    """Any subset of the fields (and one unknown), any values; usually the right CSRF token."""
    tokens = st.sampled_from([csrf_token] * 4 + ["", "forged"])
    optional = {name: field_values for name in [*fields, "unexpected_field"]}
    return st.fixed_dictionaries({"csrf_token": tokens}, optional=optional)


def main_row_counts(app) -> dict[str, int]:
    counts = row_counts(app)
    return {table: count for table, count in counts.items() if table not in COUNTERS_AND_AUDIT}


def assert_sound(app, send):
    """Send the request: no 5xx, no traceback, and if it was refused, no row written."""
    before = main_row_counts(app)
    response = send()
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[:2000]
    assert "Traceback" not in body
    if response.status_code >= 400:
        after = main_row_counts(app)
        changed = {
            table: (before[table], after[table])
            for table in before
            if before[table] != after[table]
        }
        assert changed == {}, f"a {response.status_code} answer changed the row counts"
    return response
