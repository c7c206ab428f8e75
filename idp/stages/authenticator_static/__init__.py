from idp.stages.authenticator_static.stage import AuthenticatorStaticStage

__all__ = ["AuthenticatorStaticStage"]
