from idp.stages.captcha.stage import CaptchaStage

__all__ = ["CaptchaStage"]
