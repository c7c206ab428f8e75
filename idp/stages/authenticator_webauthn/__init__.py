from idp.stages.authenticator_webauthn.stage import AuthenticatorWebAuthnStage

__all__ = ["AuthenticatorWebAuthnStage"]
