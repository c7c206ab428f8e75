from idp.stages.user_login.stage import UserLoginStage

__all__ = ["UserLoginStage"]
