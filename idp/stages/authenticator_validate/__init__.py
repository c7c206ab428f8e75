from idp.stages.authenticator_validate.stage import AuthenticatorValidateStage

__all__ = ["AuthenticatorValidateStage"]
