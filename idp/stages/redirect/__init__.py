from idp.stages.redirect.stage import RedirectStage

__all__ = ["RedirectStage"]
