from idp.stages.email.stage import EmailStage

__all__ = ["EmailStage"]
