from idp.stages.consent.stage import ConsentStage

__all__ = ["ConsentStage"]
