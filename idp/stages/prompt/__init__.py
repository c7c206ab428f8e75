from idp.stages.prompt.stage import PromptStage

__all__ = ["PromptStage"]
