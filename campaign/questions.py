"""Questions an organiser adds to a campaign's sign form ("Organisation",
"Are you a member?"): adding, editing, hiding and ordering them, with the
rules that keep stored answers meaningful. Owns its commits; the organiser
editor and the command line both call it."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from . import translations
from .extensions import db
from .models import Campaign, CampaignStatus, QuestionKind, SignQuestion
from .validation import has_control_characters

MAX_QUESTIONS = 5
MAX_LABEL = 200
MIN_CHOICES, MAX_CHOICES, MAX_CHOICE = 2, 20, 100


class QuestionError(ValueError):
    """A change the rules refuse; ``field`` names what is wrong (label,
    kind or choices) and the message is ready to show."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Question:
    """A question as the sign form asks it: hashable, so a form class can be
    built once per set of questions."""
    id: int
    label: str
    kind: str
    required: bool
    choices: tuple[str, ...] = ()
    # Its label and choices in other languages (see translations.frozen).
    translations: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def field_name(self) -> str:
        return f"question_{self.id}"


_ASKED = (SignQuestion.id, SignQuestion.label, SignQuestion.kind, SignQuestion.required, SignQuestion.choices,
          SignQuestion.translations)


def visible_questions(campaign_id: int, connection=None) -> tuple[Question, ...]:
    """The questions the sign form asks, in order; on ``connection`` if given."""
    query = (select(*_ASKED)
             .where(SignQuestion.campaign_id == campaign_id, SignQuestion.hidden.is_(False))
             .order_by(SignQuestion.position, SignQuestion.id))
    rows = (connection or db.session).execute(query).all()
    return tuple(Question(row.id, row.label, QuestionKind(row.kind).value, bool(row.required),
                          tuple(row.choices or ()), translations.frozen(row.translations)) for row in rows)


def questions_of(campaign_id: int) -> list[SignQuestion]:
    """Every question of a campaign, hidden ones too, in order."""
    return list(db.session.execute(
        select(SignQuestion).where(SignQuestion.campaign_id == campaign_id)
        .order_by(SignQuestion.position, SignQuestion.id)
    ).scalars())


def exported_questions(campaign_id: int) -> list[SignQuestion]:
    """The questions the signer list has a column for, hidden ones included:
    their answers were given and stay part of the record."""
    return [q for q in questions_of(campaign_id) if q.in_export]


def question_of(campaign: Campaign, question_id: int) -> SignQuestion | None:
    question = db.session.get(SignQuestion, question_id)
    return question if question is not None and question.campaign_id == campaign.id else None


def add_question(campaign: Campaign, label: str, kind: str, choices=(), required: bool = False,
                 in_export: bool = True) -> SignQuestion:
    """Add a question at the end of the form."""
    # Holding the campaign's row, two organisers adding at once cannot take
    # it past the limit between them (PostgreSQL; SQLite writes one at a time).
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    existing = db.session.scalar(
        select(func.count()).select_from(SignQuestion).where(SignQuestion.campaign_id == campaign.id))
    if existing >= MAX_QUESTIONS:
        raise QuestionError("label", _l("A campaign can have at most %(n)s questions", n=MAX_QUESTIONS))
    kind = _checked_kind(kind)
    question = SignQuestion(
        campaign_id=campaign.id, position=_next_position(campaign.id), label=_checked_label(label),
        kind=kind, choices=_checked_choices(kind, choices), required=bool(required), in_export=bool(in_export),
    )
    db.session.add(question)
    db.session.commit()
    return question


def edit_question(question: SignQuestion, label: str, kind: str, choices=(), required: bool = False,
                  in_export: bool = True) -> SignQuestion:
    """Change a question. Its type is fixed once the campaign has left
    draft: answers already given were answers to that type."""
    kind = _checked_kind(kind)
    if kind != question.kind and question.campaign.status != CampaignStatus.DRAFT:
        raise QuestionError("kind", _l("The type of a question cannot change once the campaign is published"))
    question.label = _checked_label(label)
    question.choices = _checked_choices(kind, choices)
    question.kind, question.required, question.in_export = kind, bool(required), bool(in_export)
    db.session.commit()
    return question


def set_hidden(question: SignQuestion, hidden: bool) -> None:
    """Take a question off the form (or put it back); its answers stay."""
    question.hidden = bool(hidden)
    db.session.commit()


def move(question: SignQuestion, step: int) -> None:
    """Swap a question with its neighbour above (step -1) or below (+1)."""
    ordered = questions_of(question.campaign_id)
    at = ordered.index(question)
    other = at + step
    if 0 <= other < len(ordered):
        ordered[at], ordered[other] = ordered[other], ordered[at]
    for position, each in enumerate(ordered):
        each.position = position
    db.session.commit()


def _next_position(campaign_id: int) -> int:
    last = db.session.scalar(select(func.max(SignQuestion.position)).where(SignQuestion.campaign_id == campaign_id))
    return 0 if last is None else last + 1


def _checked_kind(kind: str) -> QuestionKind:
    try:
        return QuestionKind(kind)
    except ValueError:
        raise QuestionError("kind", _l("Choose a type of question")) from None


def _checked_label(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise QuestionError("label", _l("Enter the question"))
    if len(label) > MAX_LABEL:
        raise QuestionError("label", _l("The question must be %(n)s characters or fewer", n=MAX_LABEL))
    if has_control_characters(label):
        raise QuestionError("label", _l("The question contains characters we cannot accept"))
    return label


def _checked_choices(kind: QuestionKind, choices) -> list[str]:
    """The answers to choose from: only a ``choice`` question has them."""
    if kind != QuestionKind.CHOICE:
        return []
    cleaned = [c.strip() for c in choices if c and c.strip()]
    if not MIN_CHOICES <= len(cleaned) <= MAX_CHOICES:
        raise QuestionError("choices", _l("Give between %(least)s and %(most)s answers to choose from",
                                          least=MIN_CHOICES, most=MAX_CHOICES))
    if any(len(c) > MAX_CHOICE for c in cleaned):
        raise QuestionError("choices", _l("Each answer to choose from must be %(n)s characters or fewer",
                                          n=MAX_CHOICE))
    if any(has_control_characters(c) for c in cleaned):
        raise QuestionError("choices", _l("The answers to choose from contain characters we cannot accept"))
    if len(set(cleaned)) != len(cleaned):
        raise QuestionError("choices", _l("Each answer to choose from must be different"))
    return cleaned
