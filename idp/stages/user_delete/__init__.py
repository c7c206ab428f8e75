from idp.stages.user_delete.stage import UserDeleteStage

__all__ = ["UserDeleteStage"]
