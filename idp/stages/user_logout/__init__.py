from idp.stages.user_logout.stage import UserLogoutStage

__all__ = ["UserLogoutStage"]
