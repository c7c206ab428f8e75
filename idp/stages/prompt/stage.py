from idp.core.i18n import N_
from idp.core.sealing import seal
from idp.flows.context import PROMPT_DATA
from idp.flows.outcomes import Advance
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
from idp.stages.prompt.validation import check_answers, rules_by_field

MISMATCH = N_("The passwords do not match.")


class PromptStage(StageType):
    """Asks for the fields its options define and keeps the answers in `prompt_data`."""

    name = "prompt"
    label = N_("Prompt")
    description = N_("Asks for configured fields (text, choices, dates, passwords, ...).")
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
        form.check_answers = lambda form: _check_answers(ctx, form)
        return form

    def render(self, ctx) -> dict:
        return {
            "prompt_fields": ctx.options.ordered_fields,
            "input_attributes": input_attributes(ctx.options),
            "initial_values": initial_values(ctx),
            # Shown before the first try, beside the field they are about.
            "rules_by_field": rules_by_field(ctx),
        }

    def referenced_policies(self, options) -> tuple[str, ...]:
        return options.validation_policies

    def submit(self, ctx, form):
        # The answers were checked with the form (_check_answers).
        passwords = ctx.options.password_fields
        answers = answers_of(form, ctx.options, initial_values(ctx))
        # Passwords never travel in the readable cookie in clear.
        password_keys = {field.key for field in passwords}
        sealed = {
            key: seal(value) if key in password_keys else value for key, value in answers.items()
        }
        return Advance({PROMPT_DATA: {**(ctx.data.get(PROMPT_DATA) or {}), **sealed}})


def _check_answers(ctx, form) -> bool:
    """The checks that need the whole form (the repeat matches, the validation policies),
    run beside the fields' own so that every problem is reported at once."""
    passwords = [prompt_field.key for prompt_field in ctx.options.password_fields]
    valid = True
    repeated = len(passwords) == 2 and not any(form[key].errors for key in passwords)
    if repeated and form[passwords[0]].data != form[passwords[1]].data:
        form[passwords[1]].errors.append(MISMATCH)
        valid = False
    # The rules are about the new password: checked when there is one, whatever else is
    # wrong; a prompt without a password is checked once its fields are right.
    checked_field = passwords[0] if passwords else None
    if checked_field is not None and form[checked_field].errors:
        return valid
    if checked_field is None and not valid_fields(form):
        return valid
    refusal = check_answers(ctx, answers_of(form, ctx.options, initial_values(ctx)))
    if refusal is None:
        return valid
    errors = form[checked_field].errors if checked_field else form.form_errors
    errors.append(refusal)
    return False


def valid_fields(form) -> bool:
    return not any(field.errors for field in form)
