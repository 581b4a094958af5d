"""The question editor: the questions a campaign's sign form asks, on the
organiser blueprint beside the campaign's other pages (member-only, every
change a POST with a CSRF token). The questions service keeps the rules."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import questions
from ..models import Campaign, CampaignStatus, SignQuestion
from .forms import ActionForm, QuestionForm
from .views import bp, member_campaign, posted_action, record_action


def _question(campaign: Campaign, question_id: int) -> SignQuestion:
    question = questions.question_of(campaign, question_id)
    if question is None:
        abort(404)
    return question


def _saved(form: QuestionForm, save, target, action: str) -> bool:
    """``save(target, ...)`` with what the form says, recorded in the audit
    log as ``action``; a rule the service refuses becomes the message beside
    the field concerned."""
    try:
        question = save(target, form.label.data or "", form.kind.data or "", choices=form.choice_list(),
                        required=form.required.data, in_export=form.in_export.data)
    except questions.QuestionError as refused:
        form[refused.field].errors = [refused.message]
        return False
    record_action(action, question.campaign, {"question": question.id}, now=True)
    return True


@bp.route("/c/<slug>/questions", methods=["GET", "POST"])
@member_campaign
def campaign_questions(campaign: Campaign):
    """Every question of the sign form, hidden ones too, and a form to add one."""
    form = QuestionForm()
    if form.validate_on_submit() and _saved(form, questions.add_question, campaign, "question.added"):
        flash(_("Question added: %(label)s", label=form.label.data))
        return redirect(url_for(".campaign_questions", slug=campaign.slug), 303)
    asked = questions.questions_of(campaign.id)
    page = render_template("organiser/questions.html", campaign=campaign, form=form, questions=asked,
                           action_form=ActionForm(), most=questions.MAX_QUESTIONS,
                           full=len(asked) >= questions.MAX_QUESTIONS)
    return page, 422 if form.errors else 200


@bp.route("/c/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@member_campaign
def edit_question(campaign: Campaign, question_id: int):
    """Change a question; its type only while the campaign is a draft."""
    question = _question(campaign, question_id)
    form = QuestionForm(obj=question)
    if request.method == "GET":
        form.choices.data = "\n".join(question.choices)
    elif form.validate() and _saved(form, questions.edit_question, question, "question.edited"):
        flash(_("Question saved: %(label)s", label=question.label))
        return redirect(url_for(".campaign_questions", slug=campaign.slug), 303)
    page = render_template("organiser/question_form.html", campaign=campaign, form=form, question=question,
                           type_locked=campaign.status != CampaignStatus.DRAFT)
    return page, 422 if form.errors else 200


@bp.post("/c/<slug>/questions/<int:question_id>/visibility")
@member_campaign
def question_visibility(campaign: Campaign, question_id: int):
    """Hide a question from the form, or show it again; answers stay."""
    question = _question(campaign, question_id)
    hide = posted_action(("hide", "show")) == "hide"
    record_action("question.hidden" if hide else "question.shown", campaign, {"question": question.id})
    questions.set_hidden(question, hide)
    flash(_("Hidden from the form: %(label)s", label=question.label) if question.hidden
          else _("Shown on the form again: %(label)s", label=question.label))
    return redirect(url_for(".campaign_questions", slug=campaign.slug), 303)


@bp.post("/c/<slug>/questions/<int:question_id>/move")
@member_campaign
def move_question(campaign: Campaign, question_id: int):
    """Move a question up or down the form."""
    question = _question(campaign, question_id)
    direction = posted_action(("up", "down"))
    record_action("question.moved", campaign, {"question": question.id, "direction": direction})
    questions.move(question, -1 if direction == "up" else 1)
    return redirect(url_for(".campaign_questions", slug=campaign.slug), 303)
