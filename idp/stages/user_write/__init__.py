from idp.stages.user_write.stage import UserWriteStage

__all__ = ["UserWriteStage"]
