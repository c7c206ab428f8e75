"""gunicorn's access log in plain text (IDP_LOG_FORMAT unset), run for real: the client's
path, X-Forwarded-For and User-Agent can neither start a line nor leave their quotes."""

import http.client
import time

import pytest

from idp.core.extensions import db
from tests.conftest import TEST_SECRET, make_test_app
from tests.deploy.conftest import start_gunicorn, stop
from tests.smtp_server import free_port

FAKE = '6.6.6.6 [06/Dec/2026:12:00:00 +0000] "GET /admin/" 200 0 1.0ms'


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plain-log")
    database_url = f"sqlite:///{folder / 'gatehouse.db'}"
    app = make_test_app(folder, database_url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    port = free_port()
    process = start_gunicorn(
        folder,
        port,
        {
            "IDP_DATABASE_URL": database_url,
            "IDP_SECRET_KEY": TEST_SECRET,
            "IDP_INSTANCE_PATH": str(folder / "instance"),
            "IDP_LOG_FORMAT": "text",
        },
    )
    try:
        yield port, folder / "gunicorn.log"
    finally:
        stop(process)


def test_a_line_break_in_the_path_or_a_quote_in_a_header_stays_in_its_field(gunicorn):
    port, log = gunicorn
    connection = http.client.HTTPConnection("127.0.0.1", port)
    path = "/nope%0D%0A" + FAKE.replace(" ", "%20").replace('"', "%22") + "%E2%80%AE"
    connection.request(
        "GET", path, headers={"User-Agent": 'curl" 200 "evil', "X-Forwarded-For": '1.2.3.4"'}
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 404
    request_id = response.getheader("X-Request-ID")
    for _ in range(50):  # the access line is written just after the answer is sent
        if request_id in log.read_text():
            break
        time.sleep(0.1)
    lines = log.read_text().splitlines()
    assert not any(line.startswith("6.6.6.6") for line in lines)
    (line,) = [line for line in lines if request_id in line]
    assert '"GET /nope\\r\\n6.6.6.6 [06/Dec/2026:12:00:00 +0000] \\"GET /admin/\\"' in line
    assert '1.0ms\\u202e" 404 ' in line
    assert line.endswith(
        f'request_id={request_id} forwarded_for="1.2.3.4\\"" "curl\\" 200 \\"evil"'
    )
