"""The yardstick for bench/signin.py: the least a Flask app does to serve a sign-in page.

Every request renders a cached Jinja template with a Flask-WTF form (CSRF included), keeps a
signed cookie session and sends one ORM query; a POST validates its form, and the password
POST checks a bcrypt hash. It offers both shapes a no-JS sign-in has in Gatehouse, and the bench
drives the one Gatehouse's sign-in flow has:

    one page:   GET /signin -> POST /signin (303) -> GET / (302) -> GET /me
    two pages:  GET /login -> POST /login (303) -> GET /password -> POST /password (303)
                -> GET / (302) -> GET /me

It is served by gunicorn with the same gunicorn.conf.py as Gatehouse (`bench.reference_app:app`)
and reads BENCH_REFERENCE_DATABASE_URL and BENCH_REFERENCE_SECRET_KEY. `create_schema(url,
password_hash)` makes its one table and its one user.
"""

import os

import bcrypt
import sqlalchemy as sa
from flask import Flask, redirect, render_template, session
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

USERNAME = "reference-user"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main><h1>{{ title }}</h1>
{% if user %}<p>Signed in as {{ user.username }}</p>{% endif %}
{% if form %}<form method="post">{{ form.csrf_token }}
{% for field in form if field.name != "csrf_token" %}
<label>{{ field.label.text }} {{ field(autocomplete="off") }}</label>
{% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}
{% endfor %}<button type="submit">Continue</button></form>{% endif %}
</main></body></html>
"""


class Base(DeclarativeBase):
    pass


class ReferenceUser(Base):
    __tablename__ = "reference_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))


class NameForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class PasswordForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired()])


db = SQLAlchemy(model_class=Base)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["BENCH_REFERENCE_SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=os.environ["BENCH_REFERENCE_DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.jinja_loader = DictLoader({"page.html": PAGE})
    db.init_app(app)

    def user_named(name: str):
        return db.session.scalar(sa.select(ReferenceUser).where(ReferenceUser.username == name))

    def signed_in():
        # Always one query, signed in or not (no row has id 0).
        return db.session.get(ReferenceUser, session.get("user_id", 0))

    def checked(user, password: str) -> bool:
        stored = user.password_hash.encode() if user else bcrypt.gensalt(4) + b"x" * 31
        return bcrypt.checkpw(password.encode(), stored) and user is not None

    @app.route("/signin", methods=["GET", "POST"])
    def signin():
        form = SignInForm()
        if form.validate_on_submit():
            user = user_named(form.username.data)
            if checked(user, form.password.data):
                session.clear()
                session["user_id"] = user.id
                return redirect("/me", code=303)
            form.password.errors.append("Invalid username or password.")
        else:
            signed_in()  # the one query: is someone signed in already?
        return render_template("page.html", title="Sign in", form=form, user=None)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        form = NameForm()
        signed_in()  # the one query: is someone signed in already?
        if form.validate_on_submit():
            session["pending"] = form.username.data
            return redirect("/password", code=303)
        return render_template("page.html", title="Sign in", form=form, user=None)

    @app.route("/password", methods=["GET", "POST"])
    def password():
        form = PasswordForm()
        user = user_named(session.get("pending", ""))
        if form.validate_on_submit():
            if checked(user, form.password.data):
                session.clear()
                session["user_id"] = user.id
                return redirect("/me", code=303)
            form.password.errors.append("Invalid username or password.")
        return render_template("page.html", title="Password", form=form, user=None)

    @app.get("/")
    def index():
        return redirect("/me" if signed_in() else "/login", code=302)

    @app.get("/me")
    def me():
        user = signed_in()
        if user is None:
            return redirect("/login", code=302)
        return render_template("page.html", title="Your account", form=None, user=user)

    @app.get("/readyz")
    def ready():
        db.session.execute(sa.text("SELECT 1"))
        return "ok"

    return app


def create_schema(url: str, password_hash: bytes) -> None:
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(ReferenceUser).values(username=USERNAME, password_hash=password_hash.decode())
        )
    engine.dispose()


if os.environ.get("BENCH_REFERENCE_DATABASE_URL"):
    app = create_app()
