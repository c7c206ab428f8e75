from idp.flows.context import PROMPT_DATA
from idp.flows.outcomes import Advance, Retry
from idp.sealing import seal
from idp.stages.base import StageType
from idp.stages.prompt.forms import build_prompt_form_class
from idp.stages.prompt.options import PromptOptions
from idp.stages.prompt.validation import check_answers


class PromptStage(StageType):
    """Asks for the fields its options define and keeps the answers in `prompt_data`."""

    name = "prompt"
    label = "Prompt"
    description = "Asks for configured fields (username, email, password, ...)."
    Options = PromptOptions
    # The form's fields depend on the options, so build_form makes its class.
    is_interactive = True

    def build_form(self, ctx):
        form_class = build_prompt_form_class(ctx.options)
        form = form_class()
        if not form.is_submitted():
            for prompt_field in ctx.options.ordered_fields:
                if prompt_field.type not in ("static", "password") and prompt_field.initial_value:
                    form[prompt_field.key].data = prompt_field.initial_value
        return form

    def render(self, ctx) -> dict:
        return {"prompt_fields": ctx.options.ordered_fields}

    def referenced_policies(self, options) -> tuple[str, ...]:
        return options.validation_policies

    def submit(self, ctx, form):
        passwords = ctx.options.password_fields
        if len(passwords) == 2 and form[passwords[0].key].data != form[passwords[1].key].data:
            return Retry("The passwords do not match.", field=passwords[1].key)
        answers = {
            prompt_field.key: self._answer(prompt_field, form)
            for prompt_field in ctx.options.ordered_fields
        }
        refusal = check_answers(ctx, answers)
        if refusal is not None:
            field = passwords[0].key if passwords else None
            return Retry(refusal, field=field)
        # Passwords never travel in the readable cookie in clear.
        sealed = {
            key: seal(value) if key in {field.key for field in passwords} else value
            for key, value in answers.items()
        }
        return Advance({PROMPT_DATA: {**(ctx.data.get(PROMPT_DATA) or {}), **sealed}})

    @staticmethod
    def _answer(prompt_field, form) -> str:
        if prompt_field.type in ("static", "hidden"):
            # Never trust a value the visitor could have edited.
            return prompt_field.initial_value
        value = form[prompt_field.key].data or ""
        return value if prompt_field.type == "password" else value.strip()
