from idp.core.sealing import seal
from idp.flows.context import PROMPT_DATA
from idp.flows.outcomes import Advance, Retry
from idp.stages.base import StageType
from idp.stages.prompt.admin import PromptOptionsForm
from idp.stages.prompt.authentik import AUTHENTIK
from idp.stages.prompt.forms import (
    answers_of,
    build_prompt_form_class,
    fill_initial_values,
    input_attributes,
)
from idp.stages.prompt.initial import initial_values
from idp.stages.prompt.options import PromptOptions
from idp.stages.prompt.validation import check_answers


class PromptStage(StageType):
    """Asks for the fields its options define and keeps the answers in `prompt_data`."""

    name = "prompt"
    label = "Prompt"
    description = "Asks for configured fields (text, choices, dates, passwords, ...)."
    Options = PromptOptions
    # A field editor (rows, or YAML on request) instead of the derived form's YAML textarea.
    options_form = PromptOptionsForm
    authentik = AUTHENTIK
    # The form's fields depend on the options, so build_form makes its class.
    is_interactive = True

    def build_form(self, ctx):
        form = build_prompt_form_class(ctx.options)()
        if not form.is_submitted():
            fill_initial_values(form, ctx.options, initial_values(ctx))
        return form

    def render(self, ctx) -> dict:
        return {
            "prompt_fields": ctx.options.ordered_fields,
            "input_attributes": input_attributes(ctx.options),
            "initial_values": initial_values(ctx),
        }

    def referenced_policies(self, options) -> tuple[str, ...]:
        return options.validation_policies

    def submit(self, ctx, form):
        passwords = ctx.options.password_fields
        if len(passwords) == 2 and form[passwords[0].key].data != form[passwords[1].key].data:
            return Retry("The passwords do not match.", field=passwords[1].key)
        answers = answers_of(form, ctx.options, initial_values(ctx))
        refusal = check_answers(ctx, answers)
        if refusal is not None:
            field = passwords[0].key if passwords else None
            return Retry(refusal, field=field)
        # Passwords never travel in the readable cookie in clear.
        password_keys = {field.key for field in passwords}
        sealed = {
            key: seal(value) if key in password_keys else value for key, value in answers.items()
        }
        return Advance({PROMPT_DATA: {**(ctx.data.get(PROMPT_DATA) or {}), **sealed}})
