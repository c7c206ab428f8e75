"""The admin's Brand page: values validated and stored, uploads checked by their bytes, and
every page (flow pages, /me, the admin, error pages) showing the brand at once."""

import io
import re

import pytest
from sqlalchemy import func, select

from idp.brand.colors import LIGHT_GROUNDS, contrast_ratio
from idp.brand.settings import save_brand
from idp.core.extensions import db
from idp.models import Brand, BrandFile
from tests.http.admin.conftest import events_of, signed_in, text, token_of
from tests.http.brand.images import GIF, SVG_LOGO, ico, png

BRAND = "/admin/brand"
SEVEN_LINKS = "\n".join(f"L{number} | https://a.example/{number}" for number in range(7))
SIGN_IN = "/flow/default-authentication-flow/"
VALUES = {
    "product_name": "Acme ID",
    "accent_color": "#0b6e4f",
    "footer_links": "Privacy | https://acme.example/privacy\nHelp | http://help.acme.example/",
    "mail_sender_name": "Acme Support",
    "sign_in_link_subject": "Your {product_name} sign-in link",
    "authenticator_added_subject": "New way into {product_name}",
    "account_exists_subject": "You already have an {product_name} account",
}


@pytest.fixture
def admin(app):
    from tests.factories import make_user

    with app.app_context():
        make_user(username="root", superuser=True)
    return signed_in(app, "root")


def save(client, changes: dict | None = None, files: dict | None = None, csrf: bool = True):
    form = {**VALUES, **(changes or {})}
    if csrf:
        form["csrf_token"] = token_of(client)
    for field, (name, data) in (files or {}).items():
        form[field] = (io.BytesIO(data), name)
    return client.post(BRAND, data=form, content_type="multipart/form-data")


def stored_brand(app) -> Brand | None:
    with app.app_context():
        row = db.session.get(Brand, 1)
        if row is not None:
            db.session.expunge(row)
        return row


def file_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BrandFile))


def test_the_brand_page_shows_the_defaults_and_is_in_the_admin_navigation(admin):
    page = text(admin.get(BRAND))
    assert 'value="Gatehouse"' in page and 'value="#2853c7"' in page
    assert 'type="color"' in page and 'enctype="multipart/form-data"' in page
    assert f'href="{BRAND}"' in text(admin.get("/admin/"))


def test_an_admin_saves_the_brand_and_every_page_shows_it(app, admin, client):
    response = save(admin)
    assert response.status_code == 303 and response.headers["Location"] == BRAND
    row = stored_brand(app)
    assert row.product_name == "Acme ID" and row.accent_color == "#0b6e4f"
    assert row.footer_links == [
        ["Privacy", "https://acme.example/privacy"],
        ["Help", "http://help.acme.example/"],
    ]
    assert "Brand saved." in text(admin.get(BRAND))
    (event,) = events_of(app, "brand_changed")
    assert event.username == "root"
    assert event.detail["before"]["product_name"] == "Gatehouse"
    assert event.detail["after"]["product_name"] == "Acme ID"

    pages = {
        "sign-in": text(client.get(SIGN_IN)),
        "/me": text(admin.get("/me")),
        "admin": text(admin.get("/admin/users")),
        "404": text(client.get("/no-such-page")),
    }
    for name, page in pages.items():
        assert "<span>Acme ID</span>" in page, name
        assert re.search(r"<title>[^<]*Acme ID[^<]*</title>", page), name
        assert 'href="https://acme.example/privacy">Privacy</a>' in page, name
        assert 'href="/brand/accent-0b6e4f.css"' in page, name
        assert "Gatehouse" not in page, name
    assert "<h1>Sign in to Acme ID</h1>" in pages["sign-in"]


def test_saving_the_same_values_records_nothing(app, admin):
    save(admin)
    save(admin)
    assert len(events_of(app, "brand_changed")) == 1
    assert "Nothing changed." in text(admin.get(BRAND))


def test_a_post_without_csrf_changes_nothing(app, admin):
    response = save(admin, csrf=False)
    assert response.status_code == 400
    assert stored_brand(app) is None


def test_the_brand_page_is_for_administrators_only(app, client):
    from tests.factories import make_user

    with app.app_context():
        make_user(username="mallory")
    user = signed_in(app, "mallory")
    assert save(user).status_code == 403
    assert client.post(BRAND, data=VALUES).status_code in (302, 400)
    assert stored_brand(app) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"product_name": "  "}, "Enter a value."),
        ({"product_name": "x" * 61}, "At most 60 characters."),
        ({"accent_color": "red"}, "Enter a colour as #rrggbb"),
        ({"accent_color": "#12345"}, "Enter a colour as #rrggbb"),
        ({"accent_color": "#gg0000"}, "Enter a colour as #rrggbb"),
        ({"footer_links": "Evil | javascript:alert(1)"}, "must start with http:// or https://"),
        ({"footer_links": "Files | ftp://acme.example/"}, "must start with http:// or https://"),
        ({"footer_links": "Relative | /privacy"}, "must start with http:// or https://"),
        ({"footer_links": "https://acme.example/"}, "Line 1: write Label | https://address."),
        ({"footer_links": "A | https://a.example/\nB | https://b.example/ x"}, "Line 2"),
        (
            {"footer_links": "\n".join(f"L{i} | https://a.example/{i}" for i in range(7))},
            "At most 6 links.",
        ),
        ({"sign_in_link_subject": ""}, "Enter a value."),
        ({"account_exists_subject": "s" * 151}, "At most 150 characters."),
        ({"footer_links": "X | http://["}, "Line 1: this address cannot be read."),
        ({"footer_links": "X | https://acme.example:port/"}, "this address cannot be read."),
        # Python's mail headers refuse every line break: a mail would never be sent.
        ({"product_name": "Acme\u2028ID"}, "One line only"),
        ({"mail_sender_name": "Acme\x85Support"}, "One line only"),
        ({"sign_in_link_subject": "Your link\x0bhere"}, "One line only"),
    ],
)
def test_a_bad_value_is_refused_with_its_message_and_nothing_is_written(
    app, admin, changes, message
):
    response = save(admin, changes)
    assert response.status_code == 400
    assert message in text(response)
    assert stored_brand(app) is None


def test_an_uploaded_logo_and_favicon_are_shown_and_served_for_good(app, admin, client):
    logo, favicon = png(40, 40), ico()
    response = save(admin, files={"logo": ("logo.png", logo), "favicon": ("fav.ico", favicon)})
    assert response.status_code == 303
    row = stored_brand(app)
    assert re.fullmatch(r"[0-9a-f]{64}\.png", row.logo)
    assert re.fullmatch(r"[0-9a-f]{64}\.ico", row.favicon)

    page = text(client.get(SIGN_IN))
    assert f'<img src="/brand/files/{row.logo}" alt="">' in page
    assert f'<link rel="icon" href="/brand/files/{row.favicon}">' in page
    served = client.get(f"/brand/files/{row.logo}")
    assert served.status_code == 200 and served.data == logo
    assert served.mimetype == "image/png"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/brand/files/{row.favicon}").mimetype == "image/x-icon"
    # Signed in or not, the file answers the same and may be kept by any cache.
    assert admin.get(f"/brand/files/{row.logo}").headers["Cache-Control"].startswith("public")


def test_removing_the_logo_drops_it_from_pages_and_the_database(app, admin, client):
    save(admin, files={"logo": ("logo.png", png())})
    name = stored_brand(app).logo
    assert save(admin, {"remove_logo": "y"}).status_code == 303
    assert stored_brand(app).logo == ""
    assert "/brand/files/" not in text(client.get(SIGN_IN))
    assert client.get(f"/brand/files/{name}").status_code == 404
    assert file_count(app) == 0


def test_replacing_the_logo_keeps_only_the_new_file(app, admin):
    save(admin, files={"logo": ("a.png", png(rgb=(1, 2, 3)))})
    save(admin, files={"logo": ("b.svg", SVG_LOGO)})
    assert stored_brand(app).logo.endswith(".svg")
    assert file_count(app) == 1


def test_an_svg_logo_is_served_sandboxed_so_it_runs_nothing(app, admin, client):
    save(admin, files={"logo": ("logo.svg", SVG_LOGO)})
    served = client.get(f"/brand/files/{stored_brand(app).logo}")
    assert served.mimetype == "image/svg+xml"
    policy = served.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy


SCRIPTED = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HANDLER = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
OUTSIDE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    b'<image xlink:href="https://tracker.example/x.png"/></svg>'
)
ENTITIES = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>'
FOREIGN = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div>hi</div></foreignObject></svg>'
)
STYLED_OUTSIDE = (
    b'<svg xmlns="http://www.w3.org/2000/svg">'
    b'<rect style="fill:url(https://tracker.example/p.svg#g)"/></svg>'
)
ANIMATED_LINK = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><a href="#x">'
    b'<animate attributeName="href" values="javascript:alert(1)"/></a></svg>'
)
OWN_GRADIENT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="g"/></defs>'
    b'<rect fill="url(#g)" width="10" height="10"/></svg>'
)


@pytest.mark.parametrize(
    ("field", "name", "data", "message"),
    [
        ("logo", "logo.gif", GIF, "The file must be one of PNG, WebP, SVG."),
        ("logo", "logo.png", b"not an image at all", "The file must be one of PNG, WebP, SVG."),
        ("logo", "logo.ico", ico(), "The file must be one of PNG, WebP, SVG."),
        ("favicon", "fav.gif", GIF, "The file must be one of PNG, WebP, SVG, ICO."),
        ("logo", "big.png", png() + b"\x00" * 256 * 1024, "larger than 256 KiB"),
        ("favicon", "big.png", png() + b"\x00" * 64 * 1024, "larger than 64 KiB"),
        ("logo", "empty.png", b"", "The file is empty."),
        ("logo", "s.svg", SCRIPTED, "contains &lt;script&gt;"),
        ("logo", "s.svg", HANDLER, "event handler (onload)"),
        ("logo", "s.svg", OUTSIDE, "refers to something outside itself"),
        ("logo", "s.svg", ENTITIES, "may not declare a DOCTYPE or entities"),
        ("favicon", "s.svg", FOREIGN, "contains &lt;foreignobject&gt;"),
        ("logo", "s.svg", STYLED_OUTSIDE, "styles refer to something outside it"),
        ("logo", "s.svg", ANIMATED_LINK, "animates a link or an event handler"),
        ("logo", "s.svg", b"<svg><unclosed></svg>", "not well-formed XML"),
    ],
)
def test_a_bad_upload_is_refused_with_its_message_and_nothing_is_stored(
    app, admin, field, name, data, message
):
    response = save(admin, files={field: (name, data)})
    assert response.status_code == 400
    assert message in text(response)
    assert stored_brand(app) is None and file_count(app) == 0


def test_an_upload_over_the_request_limit_is_refused_with_413(app, admin):
    response = save(admin, files={"logo": ("huge.png", png() + b"\x00" * 2 * 1024 * 1024)})
    assert response.status_code == 413
    assert stored_brand(app) is None


def test_an_unknown_or_malformed_file_name_is_404(client):
    assert client.get("/brand/files/" + "0" * 64 + ".png").status_code == 404
    assert client.get("/brand/files/../../etc/passwd").status_code == 404
    assert client.get("/brand/files/logo.png").status_code == 404


def test_the_accent_stylesheet_keeps_aa_contrast_and_is_cached_for_good(client):
    response = client.get("/brand/accent-ffcc00.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    css = response.get_data(as_text=True)
    ink = re.search(r"--accent-ink: (#[0-9a-f]{6})", css).group(1)
    light, dark = re.findall(r"--accent-text: (#[0-9a-f]{6})", css)
    assert ink == "#000000"  # white on yellow would be 1.6:1
    assert contrast_ratio(ink, "#ffcc00") >= 4.5
    assert all(contrast_ratio(light, ground) >= 4.5 for ground in LIGHT_GROUNDS)
    assert dark == "#ffcc00"  # already readable on the dark theme
    assert client.get("/brand/accent-red.css").status_code == 404
    assert client.get("/brand/accent-12345.css").status_code == 404


def test_a_warm_worker_shows_a_saved_brand_on_the_next_page_without_more_queries(
    app, admin, client, query_counter
):
    def sign_in_page():
        return text(client.get(SIGN_IN))

    assert "<span>Gatehouse</span>" in sign_in_page()  # warms the worker
    assert query_counter.count(sign_in_page) == 1  # the flows revision alone
    save(admin)
    assert "<span>Acme ID</span>" in sign_in_page()
    assert query_counter.count(sign_in_page) == 1


def test_another_workers_change_shows_on_the_next_page_everywhere(
    app, admin, client, query_counter
):
    def pages() -> list[str]:
        return [text(admin.get("/me")), text(client.get(SIGN_IN)), text(client.get("/nowhere"))]

    assert all("<span>Gatehouse</span>" in page for page in pages())
    # Warm: /me reads the revision with the session, the sign-in page with its flow; an
    # anonymous error page reads it alone.
    assert query_counter.count(lambda: client.get("/nowhere")) == 1
    with app.app_context():  # as another worker would: this one's cache is not told
        save_brand({"product_name": "Elsewhere"})
        db.session.commit()
    assert all("<span>Elsewhere</span>" in page for page in pages())


def test_the_brand_is_shown_and_set_from_the_command_line(app, runner, client):
    result = runner.invoke(args=["brand", "set", "product_name", "  Acme ID "])
    assert result.exit_code == 0 and result.stdout == "product_name set to Acme ID\n"
    links = "Privacy | https://acme.example/privacy\nHelp | https://acme.example/help"
    assert runner.invoke(args=["brand", "set", "footer_links", links]).exit_code == 0
    shown = runner.invoke(args=["brand", "show"]).stdout.splitlines()
    assert shown[:3] == ["product_name Acme ID", "accent_color #2853c7", "footer_links"]
    assert shown[3:5] == [
        "  Privacy | https://acme.example/privacy",
        "  Help | https://acme.example/help",
    ]
    assert "<span>Acme ID</span>" in text(client.get(SIGN_IN))
    again = runner.invoke(args=["brand", "set", "product_name", "Acme ID"])
    assert again.stdout == "product_name was already Acme ID\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accent_color", "blue"], "Error: accent_color: Enter a colour as #rrggbb"),
        (["footer_links", "X | javascript:alert(1)"], "must start with http:// or https://"),
        (["logo", "x.png"], "Error: unknown brand key 'logo'"),
        (["footer_links", "X | http://["], "Line 1: this address cannot be read."),
    ],
)
def test_a_bad_brand_value_from_the_command_line_is_one_line_and_exit_2(app, runner, args, message):
    result = runner.invoke(args=["brand", "set", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert stored_brand(app) is None


def test_the_outage_page_shows_the_last_brand_this_worker_saw_without_asking_the_database(
    app, admin, client, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from idp.flows import executor

    save(admin)
    assert "<span>Acme ID</span>" in text(client.get("/no-such-page"))  # this worker saw it

    def unreachable(slug):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(executor, "load_running_flow", unreachable)
    response = client.get(SIGN_IN)
    page = text(response)
    assert response.status_code == 503
    assert "Acme ID cannot reach its database right now." in page
    assert "<span>Acme ID</span>" in page and 'href="/brand/accent-0b6e4f.css"' in page


def test_an_svg_logo_that_fills_with_its_own_gradient_is_taken(app, admin):
    assert save(admin, files={"logo": ("g.svg", OWN_GRADIENT)}).status_code == 303
