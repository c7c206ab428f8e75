"""authentik's user delete stage: nothing to set."""

from idp.transfer.authentik_models import AuthentikModel

AUTHENTIK = AuthentikModel(model="authentik_stages_user_delete.userdeletestage")
