from idp.stages.password.stage import PasswordStage

__all__ = ["PasswordStage"]
