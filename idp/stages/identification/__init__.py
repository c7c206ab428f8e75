from idp.stages.identification.stage import IdentificationStage

__all__ = ["IdentificationStage"]
