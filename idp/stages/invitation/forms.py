from flask import request
from wtforms import HiddenField
from wtforms.validators import Length

from idp.core.forms import Form
from idp.identity.invitations import MAX_TOKEN_LENGTH


class InvitationForm(Form):
    # The token from the link, carried in the page (never in the cookie) to the POST that
    # accepts it: the confirmation click may come from a page another site sent.
    itoken = HiddenField(validators=[Length(max=MAX_TOKEN_LENGTH)])

    @classmethod
    def from_link(cls) -> "InvitationForm":
        form = cls()
        if not form.is_submitted():
            form.itoken.data = request.args.get("itoken", "")[:MAX_TOKEN_LENGTH]
        return form


# The admin's settings form for this type.
