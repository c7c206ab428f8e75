from idp.stages.deny.stage import DenyStage

__all__ = ["DenyStage"]
