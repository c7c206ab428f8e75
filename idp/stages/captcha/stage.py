from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.flows.outcomes import Advance, Deny, Retry
from idp.stages.base import StageType
from idp.stages.captcha import challenge, failures, providers
from idp.stages.captcha.authentik import AUTHENTIK
from idp.stages.captcha.forms import form_class_for
from idp.stages.captcha.glyphs import HEIGHT, WIDTH, draw
from idp.stages.captcha.options import CaptchaOptions

WRONG = N_("That was not right. Please try this new one.")
GONE = N_("That challenge had expired or was already answered. Please try this new one.")
NOT_PASSED = N_("The check was not passed. Please try again.")
UNCHECKED = N_("The check could not be verified right now. Please try again.")
TOO_MANY = N_("Too many wrong answers. Please start again.")


class CaptchaStage(StageType):
    """Stops bots: a picture of characters to type (no JavaScript needed), or a hosted widget
    (Turnstile, hCaptcha, reCAPTCHA) checked with the provider from the server."""

    name = "captcha"
    label = N_("Captcha")
    description = N_("Asks a question bots find hard: built in, or Turnstile, hCaptcha, reCAPTCHA.")
    Options = CaptchaOptions
    authentik = AUTHENTIK
    # The form depends on the mode, so build_form picks its class.
    is_interactive = True

    def build_form(self, ctx):
        return form_class_for(ctx.options)()

    def render(self, ctx) -> dict:
        options = ctx.options
        if options.mode == "provider":
            providers.allow_widget(options)
            return {
                "widget_class": providers.PROVIDERS[options.provider].widget_class,
                "site_key": options.site_key,
                "script_url": providers.script_url(options),
            }
        puzzle = challenge.current_challenge(ctx)
        return {"drawing": draw(puzzle["text"], puzzle["seed"]), "size": (WIDTH, HEIGHT)}

    def submit(self, ctx, form):
        if ctx.options.mode == "provider":
            verdict = providers.verify(ctx.options, form.response.data, client_ip())
            if verdict is None:
                record_event("captcha_unchecked", ip=client_ip(), flow_slug=ctx.flow.slug)
                return Retry(UNCHECKED, field="response")
            return self._judged(ctx, verdict, NOT_PASSED, "response")
        expected = challenge.take_answer(ctx)
        if expected is None:
            return Retry(GONE, field="answer")
        return self._judged(ctx, challenge.is_right(expected, form.answer.data), WRONG, "answer")

    @staticmethod
    def _judged(ctx, is_passed: bool, message: str, field: str):
        if is_passed:
            failures.forget(ctx.plan_id)
            return Advance()
        count = failures.count(ctx.plan_id)
        record_event("captcha_failed", ip=client_ip(), flow_slug=ctx.flow.slug, failures=count)
        if count >= ctx.options.failed_attempts_before_cancel:
            return Deny(TOO_MANY)
        return Retry(message, field=field)
