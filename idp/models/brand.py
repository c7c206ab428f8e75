from datetime import datetime

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class Brand(db.Model):
    """How Gatehouse presents itself: one row (id 1), written from the admin's Brand page;
    without it every value has its default (idp.brand.settings knows them and validates).
    `logo` and `favicon` name a BrandFile, or are empty for none."""

    __tablename__ = "brand"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_name: Mapped[str] = mapped_column(String(60))
    accent_color: Mapped[str] = mapped_column(String(7))
    footer_links: Mapped[list] = mapped_column(JSON, default=list)
    mail_sender_name: Mapped[str] = mapped_column(String(60), default="")
    sign_in_link_subject: Mapped[str] = mapped_column(String(150))
    authenticator_added_subject: Mapped[str] = mapped_column(String(150))
    account_exists_subject: Mapped[str] = mapped_column(String(150))
    logo: Mapped[str] = mapped_column(String(80), default="")
    favicon: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BrandFile(db.Model):
    """An uploaded logo or favicon, named by its SHA-256 and type (`<hex>.png`): a new file
    gets a new name, so its address can be cached for good."""

    __tablename__ = "brand_files"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
