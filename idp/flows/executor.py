"""The executor: runs a flow one stage at a time at /flow/<slug>/.

It alone validates forms, calls a stage's submit(), writes the plan, commits, and picks a
full page, an HTMX fragment or a redirect. It holds no code for any one stage type.
"""

import copy
import json
import logging
import time
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from idp.core import metrics
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.fetch_metadata import may_act_on_get
from idp.core.forms import Form
from idp.core.http import VARY_ON_HTMX, is_htmx, leave_site, redirect_to, safe_next
from idp.core.i18n import N_, translated
from idp.core.network import client_ip
from idp.core.options import OptionsError
from idp.flows import handoff, planner, steps
from idp.flows.context import (
    NO_ONE_TO_SIGN_IN,
    PASSWORD_CHANGED_MEANWHILE,
    PENDING_USER_ID,
    StageContext,
    forget_pending_users,
    password_changed_since_proved,
)
from idp.flows.loading import bindings_by_id, flow_fingerprint, load_running_flow
from idp.flows.once import EffectRepeated
from idp.flows.outcomes import Advance, Deny, EndSession, Redirect, Retry, StartSession, Stay
from idp.flows.plan import drop_plan, load_plan, plan_to_dict, save_plan
from idp.identity import sessions
from idp.models import User
from idp.policies.engine import PolicyFailure
from idp.policies.types import PolicyRequest
from idp.stages.base import StageType
from idp.stages.registry import STAGE_TYPES

bp = Blueprint("flow", __name__)
log = logging.getLogger("idp.flows")

DEFAULT_NEXT = "/"
STEP_DONE = N_("That step was already done; here is where you are now.")
# What the #stage fragment names when it shows no stage of its own (a message, a confirmation).
MESSAGE = "message"
# The flash category of a stage's success notice (Advance.notice).
NOTICE_CATEGORY = "success"
OUTCOME_NAMES = {
    Advance: "advance",
    Retry: "retry",
    Stay: "stay",
    Deny: "deny",
    Redirect: "redirect",
}
# What policies are given when no enabled binding will read anything.
NO_FACTS = PolicyRequest()


class FlowStopped(Exception):
    """The flow cannot go on; the message is for the visitor."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class PlanReplayed(FlowStopped):
    """This plan signed a session in before: its cookie was replayed. Nothing the request did
    may stay, not even the work of the stages that ran before the sign-in (a new password)."""


class FlowLeft(Exception):
    """The visitor is sent away (a denied flow whose action is to continue to `next`)."""

    def __init__(self, target: str, is_off_site: bool = False):
        self.target = target
        self.is_off_site = is_off_site
        super().__init__(target)


@dataclass
class Step:
    stage_type: StageType
    ctx: StageContext
    needs_confirmation: bool = False


@dataclass
class Answer:
    """The form answered in this request, and the plan as it was before it was accepted."""

    step: Step
    form: Form
    position: int
    context: dict


class AnswerRefused(Exception):
    """A later stage refused a field of the form just answered (a name taken meanwhile)."""

    def __init__(self, outcome: Retry):
        self.outcome = outcome
        super().__init__(outcome.message)


def _signed_in_user() -> User | None:
    return current_user if current_user.is_authenticated else None


def _default_destination(user) -> str:
    """Where a flow started without `next` ends: the account page for a user it leaves signed
    in (where "/" would send them, one request sooner), else "/" (the sign-in page)."""
    return url_for("account.me") if user is not None else DEFAULT_NEXT


def push_step_address(response, url: str) -> None:
    """A new step swapped in: a history entry of its own, so Back returns here."""
    response.headers["HX-Push-Url"] = url

    @after_this_request
    def load_the_step_whole(answer):
        # A stage that needs a whole page (HX-Refresh: a captcha provider's script must run
        # under the page's policy) is loaded at the new step's address; a reload would load
        # the step before.
        if answer.headers.get("HX-Refresh") == "true":
            del answer.headers["HX-Refresh"]
            del answer.headers["HX-Push-Url"]
            answer.headers["HX-Redirect"] = url
        return answer


@bp.get("/flow/<slug>/restart")
def restart(slug: str):
    """Forget this browser's plan for the flow ("Not you?") and begin again; a link from
    another site cannot make a browser forget its plan."""
    if may_act_on_get():
        drop_plan(slug)
    return redirect(url_for("flow.execute", slug=slug), code=303)


@bp.route("/flow/<slug>/", methods=["GET", "POST"])
def execute(slug: str):
    flow = load_running_flow(slug)
    if flow is None:
        abort(404, description=N_("There is no flow at this address."))
    run = FlowRun(flow)
    try:
        response = run.handle()
    except (PlanReplayed, EffectRepeated) as replayed:
        db.session.rollback()
        sessions.forget_user_deleted_meanwhile()
        record_event("plan_replayed", ip=client_ip(), flow_slug=flow.slug)
        response = run.stopped(str(replayed))
    except FlowStopped as stopped:
        response = run.stopped(stopped.message)
    except FlowLeft as left:
        response = run.redirect_out(left.target, left.is_off_site)
    db.session.commit()
    response.headers.update(VARY_ON_HTMX)
    response.headers["Cache-Control"] = "no-store"
    return response


class FlowRun:
    """One request's work on one flow."""

    def __init__(self, flow):
        self.flow = flow
        self.fingerprint = flow_fingerprint(flow)
        self.bindings = bindings_by_id(flow)
        self.plan = None
        self.answer: Answer | None = None
        self._policy_requests = {}
        # Success notices this request's stages gave (Advance.notice).
        self.notices: list[str] = []

    def handle(self):
        is_post = request.method == "POST"
        self.plan = load_plan(self.flow.slug, self.fingerprint)
        if self.plan is None:
            self.plan = self.new_plan()
            if is_post:
                # The form belonged to a plan that is gone (expired, tampered with, or made
                # from an older version of this flow): start again rather than trust it.
                flash(_("That step had expired, so we started again."), "warning")
            if handoff.lost_its_seed(self.flow, self.plan.context) and self.plan.next_url:
                # Run for no application (its seed went with a plan that expired): the
                # application's request it came from seeds it again, rather than a consent
                # page that names no application.
                return self.redirect_out(self.plan.next_url)
        else:
            self.check_access()
            earlier = self.earlier_step_asked()
            if earlier is not None and not is_post:
                return self.show_earlier(earlier)  # Back: shown as asked, nothing changes
            if is_post:
                response = self.answer_step(earlier)
                if response is not None:
                    return response
        try:
            step = self.next_step(may_act=is_post or may_act_on_get())
        except AnswerRefused as refused:
            return self.ask_again(refused.outcome)
        if step is None:
            return self.finish()
        save_plan(self.plan)
        if is_post and not is_htmx():
            return redirect(self.step_url(step), code=303)
        response = self.show(step)
        if is_post and step.ctx.binding.id != steps.asked_step():
            push_step_address(response, self.step_url(step))
        return response

    # -- going back (idp.flows.steps) --------------------------------------------------------

    def earlier_step_asked(self):
        asked = steps.asked_step()
        if asked is None or asked == self.plan.current_binding_id:
            return None
        return steps.earlier_step(self.plan, asked)

    def answer_step(self, earlier):
        """The POST's answer, to the current step or to an earlier one gone back to: a
        response to show again, or None."""
        if earlier is not None:
            steps.go_back(self.plan, earlier)  # saved only if the answer is accepted
        elif self.answers_another_step():
            flash(translated(STEP_DONE), "warning")  # a form for a step that is done: not taken
            return None
        return self.submit_current()

    def answers_another_step(self) -> bool:
        """A form for a step that is neither the current one nor one to go back to."""
        asked = steps.asked_step()
        return asked is not None and asked != self.plan.current_binding_id

    def show_earlier(self, entry):
        binding = self.bindings.get(entry[0])
        if binding is None:
            raise FlowStopped(N_("This flow changed while you were using it. Please start again."))
        stage_type, ctx = self.stage_context(binding, data=entry[2])
        return self.show(Step(stage_type, ctx))

    def step_url(self, step) -> str:
        return self.flow_url(step=step.ctx.binding.id)

    # -- plan and gate ---------------------------------------------------------------------

    def new_plan(self):
        self.check_access(data={})
        # Another feature may have seeded this plan (an application's authorization).
        seed = handoff.take_seed(self.flow.slug) or {}
        next_url = safe_next(seed.get("next")) or safe_next(request.args.get("next"))
        try:
            plan = planner.make_plan(
                self.flow,
                self.policy_request({}),
                self.fingerprint,
                current_app.config["FLOW_PLAN_LIFETIME"],
                next_url,
                current_user=_signed_in_user(),
            )
        except PolicyFailure as failure:
            raise self.policy_failed(failure) from failure
        plan.context.update(seed.get("context") or {})
        metrics.FLOW_STARTS.labels(self.flow.slug).inc()
        log.info("flow started", extra=self.log_fields())
        return plan

    def policy_request(self, data=None):
        """The facts policies see, built once per state of the plan context: passing over
        many stages costs no more queries than passing over one."""
        data = self.plan.context if data is None else data
        key = json.dumps(data, sort_keys=True, default=str)
        if key not in self._policy_requests:
            self._policy_requests[key] = planner.build_policy_request(
                self.flow, data, _signed_in_user()
            )
        return self._policy_requests[key]

    def facts_for(self, policy_bindings, data=None) -> PolicyRequest:
        """The policy request for these bindings; when none is enabled the engine asks it
        nothing, so the user and their groups are not even looked up."""
        if not any(binding.enabled for binding in policy_bindings):
            return NO_FACTS
        return self.policy_request(data)

    def check_access(self, data=None):
        """The flow's own gate, checked when the flow starts and again at every step."""
        try:
            denial = planner.check_access(
                self.flow, self.facts_for(self.flow.policy_bindings, data), _signed_in_user()
            )
        except PolicyFailure as failure:
            raise self.policy_failed(failure) from failure
        if denial is None:
            return
        self.record("flow_denied", message=denial.message)
        next_url = self.plan.next_url if self.plan else safe_next(request.args.get("next"))
        action = self.flow.denied_action
        if action == "continue" or (action == "message_continue" and next_url):
            drop_plan(self.flow.slug)
            raise FlowLeft(next_url or DEFAULT_NEXT)
        raise FlowStopped(denial.message)

    def policy_failed(self, failure: PolicyFailure) -> FlowStopped:
        self.record("policy_error", binding=failure.binding.subject_label, reason=failure.reason)
        return FlowStopped(planner.POLICY_ERROR_MESSAGE)

    def record(self, action: str, **detail):
        record_event(
            action, user=_signed_in_user(), ip=client_ip(), flow_slug=self.flow.slug, **detail
        )

    # -- moving through the plan ---------------------------------------------------------------

    def stage_context(self, binding, data=None) -> tuple[StageType, StageContext]:
        stage_type = STAGE_TYPES.get(binding.stage.type)
        if stage_type is None:
            raise FlowStopped(
                f"The step {binding.stage.name!r} uses a stage type that is not installed."
            )
        try:
            options = stage_type.options_of(binding.stage)
        except OptionsError as error:
            raise FlowStopped(
                f"The step {binding.stage.name!r} is misconfigured ({error})."
            ) from None
        ctx = StageContext(
            flow=self.flow,
            binding=binding,
            options=options,
            data=dict(self.plan.context if data is None else data),
            plan_id=self.plan.plan_id,
            current_user=_signed_in_user(),
            plan_snapshot=plan_to_dict(self.plan),
        )
        return stage_type, ctx

    def current_binding(self):
        binding_id = self.plan.current_binding_id
        if binding_id is None:
            return None
        if binding_id not in self.bindings:
            # A matching fingerprint rules this out; refuse rather than guess.
            raise FlowStopped(N_("This flow changed while you were using it. Please start again."))
        return self.bindings[binding_id]

    def next_step(self, may_act: bool) -> Step | None:
        """Run forward to the next stage that needs the visitor; None at the end."""
        restarts = 0
        while (binding := self.current_binding()) is not None:
            try:
                runs = planner.runs_now(
                    binding, lambda binding=binding: self.facts_for(binding.policy_bindings)
                )
            except PolicyFailure as failure:
                raise self.policy_failed(failure) from failure
            if not runs:
                self.plan.advance()
                continue
            stage_type, ctx = self.stage_context(binding)
            if stage_type.is_satisfied(ctx):
                self.plan.advance()
                continue
            if stage_type.is_interactive:
                if may_act:
                    self.reach(stage_type, ctx)
                return Step(stage_type, ctx)
            if not may_act:
                return Step(stage_type, ctx, needs_confirmation=True)
            outcome = self.submit(stage_type, ctx, None)
            if isinstance(outcome, Retry):
                if self.is_answer_refused(binding, outcome):
                    raise AnswerRefused(outcome)
                restarts += 1
                if binding.invalid_response_action == "retry" or restarts > 1:
                    raise FlowStopped(outcome.message)
                self.restart(binding, outcome.message)
                continue
            self.apply(ctx, outcome)
            steps.forget_answers(self.plan)  # it acted by itself: no going back past it
        return None

    def reach(self, stage_type, ctx) -> None:
        updates = stage_type.on_reach(ctx)
        if updates:
            self.plan.context.update(updates)
            ctx.data = dict(self.plan.context)

    def submit_current(self):
        """Handle the answer to the current stage: a response to show again, or None."""
        binding = self.current_binding()
        if binding is None:
            return None
        stage_type, ctx = self.stage_context(binding)
        if not stage_type.is_interactive:
            return None  # a confirmation click: next_step runs it
        form = stage_type.build_form(ctx)
        if not form.validate_on_submit():
            self.note_outcome(ctx, "invalid")
            return self.show(Step(stage_type, ctx), form, invalid=True)
        outcome = self.submit(stage_type, ctx, form)
        if isinstance(outcome, Stay):
            self.plan.context.update(outcome.updates)
            ctx.data = dict(self.plan.context)
            flash(translated(outcome.notice), "info")
            save_plan(self.plan)
            if not is_htmx():
                return redirect(self.flow_url(step=binding.id), code=303)
            return self.show(Step(stage_type, ctx))
        if isinstance(outcome, Retry):
            if binding.invalid_response_action == "retry":
                errors = form[outcome.field].errors if outcome.field else form.form_errors
                errors.append(translated(outcome.message))
                return self.show(Step(stage_type, ctx), form, invalid=True)
            self.restart(binding, outcome.message)
            return None
        self.answer = Answer(
            Step(stage_type, ctx), form, self.plan.position, copy.deepcopy(self.plan.context)
        )
        self.apply(ctx, outcome)
        steps.remember_answer(self.plan, binding.id, self.answer.position, self.answer.context)
        return None

    def is_answer_refused(self, binding, outcome: Retry) -> bool:
        """A stage that would send the visitor back names a field of the form answered in
        this request: that form is asked again, with the error at the field and the other
        answers kept, rather than the flow starting over with a message at the top."""
        return (
            binding.invalid_response_action != "retry"
            and self.answer is not None
            and outcome.field is not None
            and outcome.field in self.answer.form
        )

    def ask_again(self, outcome: Retry):
        answer = self.answer
        self.plan.position, self.plan.context = answer.position, answer.context
        answered = answer.step.ctx.binding.id
        self.plan.history = [entry for entry in self.plan.history if entry[0] != answered]
        save_plan(self.plan)
        answer.form[outcome.field].errors.append(translated(outcome.message))
        return self.show(answer.step, answer.form, invalid=True)

    def submit(self, stage_type, ctx, form):
        started = time.perf_counter()
        try:
            outcome = stage_type.submit(ctx, form)
        finally:
            forget_pending_users()
        metrics.STAGE_SECONDS.labels(stage_type.name).observe(time.perf_counter() - started)
        self.note_outcome(ctx, OUTCOME_NAMES.get(type(outcome), "other"))
        return outcome

    def note_outcome(self, ctx, outcome: str):
        """One log line and one count per answer to a stage."""
        metrics.STAGE_OUTCOMES.labels(ctx.binding.stage.type, outcome).inc()
        fields = {"stage": ctx.binding.stage.name, "stage_type": ctx.binding.stage.type}
        log.info("stage answered", extra=self.log_fields(outcome=outcome, **fields))

    def log_fields(self, **fields) -> dict:
        """Who and where, for the flow's log lines; never anything anyone typed."""
        user = _signed_in_user()
        context = self.plan.context if self.plan else {}
        return {
            "flow": self.flow.slug,
            "user": user.username if user else None,
            "pending_user_id": context.get(PENDING_USER_ID),
            **fields,
        }

    def apply(self, ctx, outcome):
        if isinstance(outcome, Deny):
            self.record("flow_denied", stage=ctx.binding.stage.name, message=outcome.message)
            raise FlowStopped(outcome.message)
        if isinstance(outcome, Redirect):
            raise self.leave(ctx, outcome)
        self.plan.context.update(outcome.updates)
        if isinstance(outcome.session, StartSession):
            user = self.user_still_proved(outcome.session.user_id)
            try:
                sessions.sign_in(user, outcome.session.lifetime, self.plan.plan_id)
            except sessions.PlanAlreadyUsed:
                raise PlanReplayed(
                    N_("This sign-in was already used. Please start again.")
                ) from None
            # A new session starts empty: what this request's stages did is still to be said.
            for notice in self.notices:
                flash(translated(notice), NOTICE_CATEGORY)
            metrics.SIGN_INS.inc()
        elif isinstance(outcome.session, EndSession):
            sessions.end_current_session()
        if outcome.notice:
            self.notices.append(outcome.notice)
            flash(translated(outcome.notice), NOTICE_CATEGORY)
        self.plan.advance()

    def user_still_proved(self, user_id: int) -> User:
        """The user to sign in, read again under a lock the sign-in holds until it commits. A
        password change, a disabling or a deletion that committed while the stages checked
        (the password's bcrypt check takes a while) is seen here and stops the sign-in; one
        that comes later waits for it, then ends the new session with the user's others."""
        user = sessions.hold_user_to_sign_in(user_id)
        if user is None or not user.is_active:
            raise FlowStopped(NO_ONE_TO_SIGN_IN)
        if password_changed_since_proved(user, self.plan.context):
            raise FlowStopped(PASSWORD_CHANGED_MEANWHILE)
        return user

    def leave(self, ctx, outcome: Redirect) -> FlowLeft:
        """A stage sends the visitor away: this flow's plan ends here, unfinished."""
        drop_plan(self.flow.slug)
        self.record("flow_redirected", stage=ctx.binding.stage.name)
        if outcome.flow_slug:
            target = handoff.seed_flow(outcome.flow_slug, dict(outcome.context), self.plan.next_url)
            return FlowLeft(target)
        return FlowLeft(outcome.url, is_off_site=True)

    def restart(self, binding, message: str):
        self.plan.restart(keep_context=binding.invalid_response_action == "restart_with_context")
        flash(translated(message), "error")

    def finish(self):
        drop_plan(self.flow.slug)
        user = _signed_in_user()
        handoff.flow_finished(self.plan.context, user)
        self.record("flow_completed")
        metrics.FLOW_COMPLETIONS.labels(self.flow.slug).inc()
        log.info("flow completed", extra=self.log_fields())
        return self.redirect_out(self.plan.next_url or _default_destination(user))

    # -- answers -------------------------------------------------------------------------------

    def flow_url(self, step: int | None = None) -> str:
        """The flow's address; with `step`, the address of that step's page."""
        next_url = self.plan.next_url if self.plan else ""
        return url_for("flow.execute", slug=self.flow.slug, next=next_url or None, step=step)

    def redirect_out(self, target: str, is_off_site: bool = False):
        if is_off_site and not is_htmx():
            return leave_site(target)
        return redirect_to(target)

    def page(
        self,
        stage_template: str,
        status: int = 200,
        stage_name: str = MESSAGE,
        step_url: str = "",
        **variables,
    ):
        """The full page, or for HTMX the #stage fragment alone; `stage_name` is what the
        fragment says it shows (data-stage): a stage type's name, else "message"."""
        template = "flow/stage_frame.html" if is_htmx() else "flow/page.html"
        body = render_template(
            template,
            flow=self.flow,
            stage_template=stage_template,
            stage_name=stage_name,
            step_url=step_url,
            action_url=step_url or self.flow_url(),
            **variables,
        )
        return make_response(body, status)

    def show(self, step: Step, form=None, invalid=False):
        if step.needs_confirmation:
            return self.page("flow/confirm.html", form=Form(), label=step.stage_type.confirm_label)
        form = form if form is not None else step.stage_type.build_form(step.ctx)
        # An invalid answer: 400 for a plain form, 200 for HTMX (which does not swap a 4xx).
        status = 400 if invalid and not is_htmx() else 200
        extra = step.stage_type.render(step.ctx)
        return self.page(
            step.stage_type.template,
            status,
            stage_name=step.stage_type.name,
            step_url=self.step_url(step),
            form=form,
            ctx=step.ctx,
            **extra,
        )

    def stopped(self, message: str):
        drop_plan(self.flow.slug)
        next_url = self.plan.next_url if self.plan else ""
        return self.page(
            "flow/message.html",
            200 if is_htmx() else 403,
            message=translated(message),
            next_url=next_url,
        )
