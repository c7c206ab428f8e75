"""Every stage type Gatehouse has: one line each."""

from idp.stages.authenticator_static import AuthenticatorStaticStage
from idp.stages.authenticator_totp import AuthenticatorTotpStage
from idp.stages.authenticator_validate import AuthenticatorValidateStage
from idp.stages.authenticator_webauthn import AuthenticatorWebAuthnStage
from idp.stages.captcha import CaptchaStage
from idp.stages.consent import ConsentStage
from idp.stages.deny import DenyStage
from idp.stages.email import EmailStage
from idp.stages.identification import IdentificationStage
from idp.stages.invitation import InvitationStage
from idp.stages.password import PasswordStage
from idp.stages.prompt import PromptStage
from idp.stages.redirect import RedirectStage
from idp.stages.user_delete import UserDeleteStage
from idp.stages.user_login import UserLoginStage
from idp.stages.user_logout import UserLogoutStage
from idp.stages.user_write import UserWriteStage

STAGE_TYPES = {
    stage_type.name: stage_type
    for stage_type in (
        IdentificationStage(),
        PasswordStage(),
        PromptStage(),
        UserWriteStage(),
        UserLoginStage(),
        UserLogoutStage(),
        DenyStage(),
        EmailStage(),
        UserDeleteStage(),
        AuthenticatorTotpStage(),
        AuthenticatorStaticStage(),
        AuthenticatorValidateStage(),
        AuthenticatorWebAuthnStage(),
        CaptchaStage(),
        InvitationStage(),
        ConsentStage(),
        RedirectStage(),
    )
}
