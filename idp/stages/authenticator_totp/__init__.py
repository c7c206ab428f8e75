from idp.stages.authenticator_totp.stage import AuthenticatorTotpStage

__all__ = ["AuthenticatorTotpStage"]
