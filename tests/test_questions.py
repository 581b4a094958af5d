"""Custom questions: an organiser adds up to five questions of their own to
a campaign's sign form ("Organisation", "Are you a member?"). A person
answers them like any other field; the answers are kept with the signature,
shown in the organiser's search and exported with the signer list."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from campaign import exports, questions, signing
from campaign.extensions import db
from campaign.models import CampaignStatus, QuestionKind, Signature, SignQuestion

from .builders import csrf_token, log_in, make_campaign, make_organiser, valid_pledge
from .test_forms import assert_field_error, nothing_stored, page

SLUG = "members-pledge"
ORGANISATION, WHY, MEMBER, SIZE = "Organisation", "Why do you sign?", "Are you a member?", "Team size"


@pytest.fixture
def asking(app):
    """A live campaign asking four questions, one of each type; the field
    name of each question by its label."""
    with app.app_context():
        campaign = make_campaign(slug=SLUG)
        made = [
            questions.add_question(campaign, ORGANISATION, "text"),
            questions.add_question(campaign, WHY, "long", in_export=False),
            questions.add_question(campaign, MEMBER, "yesno", required=True),
            questions.add_question(campaign, SIZE, "choice", choices=["Just me", "2-10", "More"], required=True),
        ]
        return {q.label: f"question_{q.id}" for q in made}


def answered(fields: dict, **answers) -> dict:
    """Form data answering the questions by label (keyword names below)."""
    by_name = {"organisation": ORGANISATION, "why": WHY, "member": MEMBER, "size": SIZE}
    return {fields[by_name[key]]: value for key, value in answers.items() if value is not None}


def post_sign(client, data: dict, slug=SLUG, **pledge):
    form = {k: v for k, v in valid_pledge(**pledge).items() if v is not None}
    form.update(data)
    form["csrf_token"] = csrf_token(client.get(f"/c/{slug}").get_data(as_text=True))
    return client.post(f"/c/{slug}/sign", data=form)


def stored_answers(app, email="ada@example.com"):
    with app.app_context():
        return db.session.execute(select(Signature.answers).where(Signature.email == email)).scalar_one()


# --- Adding questions -----------------------------------------------------------------------


def test_an_organiser_adds_questions_from_the_command_line_and_lists_them(ctx, runner):
    """`flask campaign question add` adds at the end of the form; `list` shows them in order."""
    make_campaign(slug=SLUG, status=CampaignStatus.DRAFT)
    for args in (["Organisation"], ["Are you a member?", "--type", "yesno", "--required"],
                 ["Team size", "--type", "choice", "--choice", "Just me", "--choice", "More", "--no-export"]):
        result = runner.invoke(args=["campaign", "question", "add", SLUG, *args])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Added question ")

    listed = runner.invoke(args=["campaign", "question", "list", SLUG])
    assert listed.exit_code == 0
    assert [line.split("\t", 1)[1] for line in listed.output.splitlines()] == [
        "Organisation (text, optional)",
        "Are you a member? (yesno, required)",
        "Team size (choice, optional, not exported) [Just me | More]",
    ]
    stored = questions.questions_of(db.session.scalar(select(SignQuestion.campaign_id).limit(1)))
    assert [(q.position, q.kind, q.required, q.in_export) for q in stored] == [
        (0, QuestionKind.TEXT, False, True), (1, QuestionKind.YESNO, True, True),
        (2, QuestionKind.CHOICE, False, False)]


@pytest.mark.parametrize(("args", "message"), [
    (["Size", "--type", "choice"], "Give between 2 and 20 answers to choose from"),
    (["Size", "--type", "choice", "--choice", "Only one"], "Give between 2 and 20 answers to choose from"),
    (["Size", "--type", "choice", "--choice", "A", "--choice", "A"], "Each answer to choose from must be different"),
    (["Size", "--type", "choice", "--choice", "A", "--choice", "B" * 101],
     "Each answer to choose from must be 100 characters or fewer"),
    (["   "], "Enter the question"),
    (["Q" * 201], "The question must be 200 characters or fewer"),
    (["Bell\x07"], "The question contains characters we cannot accept"),
    (["Size", "--type", "number"], "Invalid value for '--type'"),
], ids=["choice-without-choices", "one-choice", "same-choice-twice", "choice-101-chars", "empty-label",
        "label-201-chars", "label-control-character", "unknown-type"])
def test_the_command_line_refuses_what_the_rules_refuse(ctx, runner, args, message):
    """A question that breaks a rule is not added, and the command says why."""
    make_campaign(slug=SLUG)
    result = runner.invoke(args=["campaign", "question", "add", SLUG, *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.execute(select(SignQuestion)).first() is None


def test_the_command_line_names_a_missing_campaign(ctx, runner):
    result = runner.invoke(args=["campaign", "question", "list", "nowhere"])
    assert result.exit_code != 0 and "No campaign with slug 'nowhere'" in result.output
    assert runner.invoke(args=["campaign", "question", "list", make_campaign().slug]).output.endswith(
        "asks no questions of its own.\n")


def test_a_campaign_asks_at_most_five_questions(ctx):
    """The sixth is refused; hidden questions still count, as their answers do."""
    campaign = make_campaign()
    made = [questions.add_question(campaign, f"Question {n}", "text") for n in range(1, 6)]
    questions.set_hidden(made[0], True)
    with pytest.raises(questions.QuestionError, match="at most 5 questions") as refused:
        questions.add_question(campaign, "Question 6", "text")
    assert refused.value.field == "label"
    assert len(questions.questions_of(campaign.id)) == 5


def test_a_question_keeps_its_type_once_the_campaign_is_published(ctx):
    """In a draft anything may change; once live, the type may not (answers were
    given to it) but the wording may, and the question may be hidden."""
    campaign = make_campaign(status=CampaignStatus.DRAFT)
    question = questions.add_question(campaign, "Member?", "text")
    questions.edit_question(question, "Are you a member?", "yesno", required=True)
    assert (question.kind, question.required) == (QuestionKind.YESNO, True)

    campaign.status = CampaignStatus.LIVE
    db.session.commit()
    with pytest.raises(questions.QuestionError, match="cannot change once the campaign is published") as refused:
        questions.edit_question(question, "Are you a member?", "text")
    assert refused.value.field == "kind"
    db.session.refresh(question)
    assert question.kind == QuestionKind.YESNO

    questions.edit_question(question, "Are you a paid-up member?", "yesno", required=False, in_export=False)
    questions.set_hidden(question, True)
    db.session.refresh(question)
    assert (question.label, question.required, question.in_export, question.hidden) == (
        "Are you a paid-up member?", False, False, True)


def test_questions_move_up_and_down_the_form(ctx):
    campaign = make_campaign()
    first, _, third = (questions.add_question(campaign, label, "text") for label in ("A", "B", "C"))
    questions.move(third, -1)
    assert [q.label for q in questions.questions_of(campaign.id)] == ["A", "C", "B"]
    questions.move(first, -1)  # already first: nothing changes
    questions.move(first, 1)
    assert [q.label for q in questions.questions_of(campaign.id)] == ["C", "A", "B"]
    assert [q.label for q in questions.visible_questions(campaign.id)] == ["C", "A", "B"]


# --- The sign form ----------------------------------------------------------------------------


def test_the_sign_form_asks_each_question_by_its_label_and_type(client, asking):
    """A text box, a paragraph box, yes/no radios in a fieldset whose legend is
    the question, and a select of the choices; optional ones say so."""
    doc = page(client.get(f"/c/{SLUG}"))
    labels = {e["attrs"].get("for"): " ".join(e["text"].split()) for e in doc.elements if e["tag"] == "label"}
    organisation, why, member, size = (asking[label] for label in (ORGANISATION, WHY, MEMBER, SIZE))

    assert labels[organisation] == "Organisation (optional)"
    assert doc.by_id(organisation)["tag"] == "input" and doc.attrs(organisation)["type"] == "text"
    assert labels[why] == "Why do you sign? (optional)"
    assert doc.by_id(why)["tag"] == "textarea"

    assert doc.by_id(member)["tag"] == "fieldset"
    [legend] = [e for e in doc.elements if e["tag"] == "legend" and member in e["inside"]]
    assert " ".join(legend["text"].split()) == MEMBER
    radios = [e["attrs"] for e in doc.elements if e["tag"] == "input" and member in e["inside"]]
    assert [(r["type"], r["value"], "required" in r) for r in radios] == [("radio", "yes", True), ("radio", "no", True)]
    assert [labels[r["id"]] for r in radios] == ["Yes", "No"]

    assert labels[size] == SIZE
    assert doc.by_id(size)["tag"] == "select" and "required" in doc.attrs(size)
    options = [e["attrs"]["value"] for e in doc.elements if e["tag"] == "option" and size in e["inside"]]
    assert options == ["", "Just me", "2-10", "More"]
    assert doc.selected(size) == []


def test_a_question_is_shown_as_text_never_as_markup(app, client):
    """An organiser's label with markup in it is shown as typed: on the form,
    in its message, and on the organiser's pages."""
    with app.app_context():
        campaign = make_campaign(slug="markup")
        made = questions.add_question(campaign, "<b>Bold</b> & <script>x()</script>", "yesno", required=True)
        question = f"question_{made.id}"
        make_organiser(campaigns=[campaign])
    response = post_sign(client, {}, slug="markup")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<script>x()</script>" not in html and "<b>Bold</b>" not in html
    doc = page(response)
    assert list(doc.summary_links().values()) == ["Answer “<b>Bold</b> & <script>x()</script>”"]
    assert post_sign(client, {question: "yes"}, slug="markup").status_code == 200

    log_in(client)
    added = editor_post(client, "/organiser/c/markup/questions", "markup", label="<i>Also</i>", kind="text")
    for path in ("/organiser/c/markup/questions", f"/organiser/c/markup/questions/{question.split('_')[1]}/edit",
                 "/organiser/c/markup/signatures?email_domain=example.com"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>x()</script>" not in html and "<i>Also</i>" not in html, path
        assert "&lt;script&gt;x()&lt;/script&gt;" in html, path
    assert added.status_code == 303


def test_answers_are_stored_with_the_signature(app, client, asking):
    """Answers are kept by question; an optional question left empty is not stored."""
    response = post_sign(client, answered(asking, organisation="  Friends of the Earth ", why="Because\r\nof it",
                                          member="yes", size="2-10"))
    assert response.status_code == 200
    stored = stored_answers(app)
    assert stored == {asking[ORGANISATION].split("_")[1]: "Friends of the Earth",
                      asking[WHY].split("_")[1]: "Because\nof it",
                      asking[MEMBER].split("_")[1]: "yes", asking[SIZE].split("_")[1]: "2-10"}

    post_sign(client, answered(asking, member="no", size="More"), email="grace@example.com")
    assert set(stored_answers(app, "grace@example.com").values()) == {"no", "More"}


def test_a_campaign_without_questions_stores_no_answers(app, client):
    with app.app_context():
        make_campaign(slug="plain")
    assert post_sign(client, {}, slug="plain").status_code == 200
    assert stored_answers(app) is None


UNACCEPTABLE = "The answer to “{}” contains characters we cannot accept"


def _question_rows():
    long_text = "x" * 2001
    return [
        pytest.param(MEMBER, None, f"Answer “{MEMBER}”", id="yesno-required-missing"),
        pytest.param(MEMBER, "", f"Answer “{MEMBER}”", id="yesno-required-empty"),
        pytest.param(MEMBER, "maybe", f"Answer “{MEMBER}” with yes or no", id="yesno-maybe"),
        pytest.param(MEMBER, "YES", f"Answer “{MEMBER}” with yes or no", id="yesno-upper-case"),
        pytest.param(SIZE, None, f"Answer “{SIZE}”", id="choice-required-missing"),
        pytest.param(SIZE, "   ", f"Answer “{SIZE}”", id="choice-required-blank"),
        pytest.param(SIZE, "Thousands", f"Choose an answer to “{SIZE}” from the list", id="choice-not-offered"),
        pytest.param(SIZE, "just me", f"Choose an answer to “{SIZE}” from the list", id="choice-other-case"),
        pytest.param(ORGANISATION, "O" * 201, f"The answer to “{ORGANISATION}” must be 200 characters or fewer",
                     id="text-201-chars"),
        pytest.param(ORGANISATION, "Acme\x00Ltd", UNACCEPTABLE.format(ORGANISATION), id="text-nul"),
        pytest.param(ORGANISATION, "Acme\nLtd", UNACCEPTABLE.format(ORGANISATION), id="text-newline"),
        pytest.param(ORGANISATION, "Acme\u202eLtd", UNACCEPTABLE.format(ORGANISATION), id="text-bidi-override"),
        pytest.param(WHY, long_text, f"The answer to “{WHY}” must be 2,000 characters or fewer", id="long-2001-chars"),
        pytest.param(WHY, "Because\x1b[31m", UNACCEPTABLE.format(WHY), id="long-escape"),
    ]


@pytest.mark.parametrize(("label", "value", "message"), _question_rows())
def test_a_bad_answer_is_refused_with_a_message_beside_the_question(app, client, asking, label, value, message):
    """422, the exact message beside the question and in the summary, nothing stored."""
    data = answered(asking, member="yes", size="More")
    data.pop(asking[label], None)
    if value is not None:
        data[asking[label]] = value
    response = post_sign(client, data)
    assert response.status_code == 422
    doc = page(response)
    field_id = asking[label]
    assert list(doc.summary_links()) == [f"#{field_id}"], "only the bad answer is in error"
    if label == MEMBER:  # radios: the fieldset carries the message, each radio is marked invalid
        assert doc.summary_links()[f"#{field_id}"] == message
        assert doc.text(f"{field_id}-error") == f"Error: {message}"
        assert doc.attrs(field_id)["aria-describedby"] == f"{field_id}-error"
        assert all(e["attrs"].get("aria-invalid") == "true"
                   for e in doc.elements if e["tag"] == "input" and field_id in e["inside"])
    else:
        assert_field_error(doc, field_id, message)
    assert nothing_stored(app)


def test_a_long_answer_keeps_its_line_breaks_within_the_limit(app, client, asking):
    """2,000 characters with line breaks (sent as CRLF) are accepted."""
    answer = ("y" * 99 + "\r\n") * 20
    assert len(answer.replace("\r\n", "\n")) == 2000
    assert post_sign(client, answered(asking, why=answer, member="no", size="More")).status_code == 200
    assert stored_answers(app)[asking[WHY].split("_")[1]] == answer.replace("\r\n", "\n").strip()


def test_a_refused_form_keeps_the_answers_given(client, asking):
    """Another field in error: the answers are still there to send again."""
    response = post_sign(client, answered(asking, organisation="Acme", why="Clean air", member="no", size="2-10"),
                         email="not-an-address")
    assert response.status_code == 422
    doc = page(response)
    assert doc.attrs(asking[ORGANISATION])["value"] == "Acme"
    assert doc.text(asking[WHY]) == "Clean air"
    assert [e["attrs"]["value"] for e in doc.elements
            if e["tag"] == "input" and asking[MEMBER] in e["inside"] and "checked" in e["attrs"]] == ["no"]
    assert doc.selected(asking[SIZE]) == ["2-10"]


def test_a_hidden_question_leaves_the_form_but_its_answers_stay_exported(app, client, asking):
    """Hidden: no longer asked nor required; answers already given stay in the signer list."""
    post_sign(client, answered(asking, organisation="Acme", member="yes", size="More"))
    with app.app_context():
        member = db.session.get(SignQuestion, int(asking[MEMBER].split("_")[1]))
        questions.set_hidden(member, True)
        make_organiser(campaigns=[member.campaign])
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert MEMBER not in html and asking[MEMBER] not in html
    assert post_sign(client, answered(asking, size="More"), email="grace@example.com").status_code == 200

    log_in(client)
    rows = signer_list(client)
    assert rows[0][-3:] == [ORGANISATION, MEMBER, SIZE]  # "Why" is not exported
    assert [row[-3:] for row in rows[1:]] == [["Acme", "yes", "More"], ["", "", "More"]]


# --- The signer list --------------------------------------------------------------------------


def signer_list(client, slug=SLUG) -> list[list[str]]:
    response = client.get(f"/organiser/c/{slug}/export/signers.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    response.close()
    return list(csv.reader(io.StringIO(body, newline="")))


FORMULA_ANSWERS = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1:A9)", "=HYPERLINK(\"https://evil.example\")"]


def test_answers_in_the_signer_list_cannot_run_as_formulas(app, client, asking):
    """A formula-like answer and a formula-like question come out with a leading quote."""
    with app.app_context():
        campaign = db.session.get(SignQuestion, int(asking[ORGANISATION].split("_")[1])).campaign
        formula_field = f"question_{questions.add_question(campaign, '=cmd', 'text').id}"
        make_organiser(campaigns=[campaign])
    for n, answer in enumerate(FORMULA_ANSWERS):
        data = answered(asking, organisation=answer, member="yes", size="Just me")
        data[formula_field] = "=1+1"
        assert post_sign(client, data, email=f"f{n}@example.com").status_code == 200
    log_in(client)
    rows = signer_list(client)
    assert rows[0][-4:] == [ORGANISATION, MEMBER, SIZE, "'=cmd"]
    assert [row[-4] for row in rows[1:]] == ["'" + answer for answer in FORMULA_ANSWERS]
    assert {row[-1] for row in rows[1:]} == {"'=1+1"}


def test_both_ways_of_writing_the_signer_list_give_the_same_bytes(app, client, asking, backend):
    """On PostgreSQL the list is written by the server (COPY), elsewhere by
    Python: the same header and cells, answers and neutralisation included."""
    post_sign(client, answered(asking, organisation="=cmd", why="Not exported", member="no", size="2-10"))
    post_sign(client, answered(asking, member="yes", size="More"), email="grace@example.com",
              given_name="Grace", family_name="Hopper")
    with app.app_context():
        campaign_id = db.session.scalar(select(SignQuestion.campaign_id).limit(1))
        exported = questions.exported_questions(campaign_id)
        follow_through = exports._follow_through_columns(campaign_id)
        header = exports.SIGNER_COLUMNS + [q.label for q in exported] + follow_through
        python = "".join(exports._signers_in_batches(campaign_id, 1, header, [q.id for q in exported],
                                                     follow_through))
        streamed = exports.stream_signers(campaign_id)
        whole = "".join(c.decode() if isinstance(c, bytes) else c for c in streamed)
        db.session.rollback()
    as_cells = [row for row in csv.reader(io.StringIO(python, newline=""))]
    assert as_cells[0][-3:] == [ORGANISATION, MEMBER, SIZE]
    assert [row[-3:] for row in as_cells[1:]] == [["'=cmd", "no", "2-10"], ["", "yes", "More"]]
    assert list(csv.reader(io.StringIO(whole, newline=""))) == as_cells
    # Byte for byte the same, but for the row ending: the server's COPY ends
    # rows with LF, the portable path with CRLF (no cell here has a line break).
    assert whole == (python if backend == "sqlite" else python.replace("\r\n", "\n"))


# --- The organiser's pages --------------------------------------------------------------------


def test_answers_show_in_the_organisers_signature_search(app, client, asking):
    post_sign(client, answered(asking, organisation="Acme Housing Co-op", member="yes", size="2-10"))
    with app.app_context():
        make_organiser(campaigns=[db.session.get(SignQuestion, int(asking[SIZE].split("_")[1])).campaign])
    log_in(client)
    html = client.get(f"/organiser/c/{SLUG}/signatures?email_domain=example.com").get_data(as_text=True)
    results = html.split('id="results-title"')[1]
    for text in (f'<th scope="col">{ORGANISATION}</th>', f'<th scope="col">{SIZE}</th>',
                 f'<td data-label="{ORGANISATION}">Acme Housing Co-op</td>', f'<td data-label="{SIZE}">2-10</td>'):
        assert text in results
    assert re.search(r'<td data-label="[^"]+">yes</td>', results)


@pytest.fixture
def organiser_draft(ctx, client):
    campaign = make_campaign(slug=SLUG, status=CampaignStatus.DRAFT)
    make_organiser(campaigns=[campaign])
    log_in(client)
    return campaign


def editor_post(client, path: str, slug: str = SLUG, **data):
    """POST to the editor with the token from the campaign's Questions page."""
    data["csrf_token"] = csrf_token(client.get(f"/organiser/c/{slug}/questions").get_data(as_text=True))
    return client.post(path, data=data)


def test_the_editor_adds_edits_hides_and_moves_questions(organiser_draft, client):
    """Every change is a POST with a token; each lands back on the list."""
    response = editor_post(client, f"/organiser/c/{SLUG}/questions", label="Organisation", kind="text",
                           in_export="y")
    assert response.status_code == 303
    response = editor_post(client, f"/organiser/c/{SLUG}/questions", label="Size", kind="choice",
                           choices="Small\r\n\r\nLarge\r\n", required="y")
    assert response.status_code == 303
    organisation, size = questions.questions_of(organiser_draft.id)
    assert (size.choices, size.required, size.in_export) == (["Small", "Large"], True, False)

    assert editor_post(client, f"/organiser/c/{SLUG}/questions/{organisation.id}/edit", label="Your organisation",
                       kind="long", in_export="y").status_code == 303
    assert editor_post(client, f"/organiser/c/{SLUG}/questions/{size.id}/move", action="up").status_code == 303
    assert editor_post(client, f"/organiser/c/{SLUG}/questions/{size.id}/visibility",
                       action="hide").status_code == 303
    db.session.expire_all()
    assert [(q.label, q.kind, q.hidden) for q in questions.questions_of(organiser_draft.id)] == [
        ("Size", QuestionKind.CHOICE, True), ("Your organisation", QuestionKind.LONG, False)]
    html = client.get(f"/organiser/c/{SLUG}/questions").get_data(as_text=True)
    assert "hidden from the form" in html and "Show<span" in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"label": "", "kind": "text"}, "label", "Enter the question"),
    ({"label": "Size", "kind": "choice", "choices": "Only one"}, "choices",
     "Give between 2 and 20 answers to choose from"),
    ({"label": "Size", "kind": "number"}, "kind", "Choose a type of question"),
], ids=["empty-label", "one-choice", "unknown-type"])
def test_the_editor_refuses_a_bad_question_with_a_message_beside_the_field(organiser_draft, client, data, field,
                                                                           message):
    response = editor_post(client, f"/organiser/c/{SLUG}/questions", **data)
    assert response.status_code == 422
    assert_field_error(page(response), field, message)
    assert questions.questions_of(organiser_draft.id) == []


def test_the_editor_refuses_a_new_type_once_published(organiser_draft, client):
    question = questions.add_question(organiser_draft, "Member?", "yesno")
    organiser_draft.status = CampaignStatus.LIVE
    db.session.commit()
    response = editor_post(client, f"/organiser/c/{SLUG}/questions/{question.id}/edit", label="Member?",
                           kind="text")
    assert response.status_code == 422
    assert_field_error(page(response), "kind",
                       "The type of a question cannot change once the campaign is published")
    db.session.expire_all()
    assert db.session.get(SignQuestion, question.id).kind == QuestionKind.YESNO


def test_the_editor_is_for_members_only_and_needs_the_token(organiser_draft, client):
    """No token: 400. Someone else's campaign, or another campaign's question: 404."""
    question = questions.add_question(organiser_draft, "Member?", "yesno")
    assert client.post(f"/organiser/c/{SLUG}/questions", data={"label": "X", "kind": "text"}).status_code == 400
    assert client.post(f"/organiser/c/{SLUG}/questions/{question.id}/visibility",
                       data={"action": "hide"}).status_code == 400
    other = make_campaign(slug="not-mine")
    assert client.get("/organiser/c/not-mine/questions").status_code == 404
    make_organiser("other@example.com", campaigns=[other])
    log_in(client, "other@example.com")
    assert client.get(f"/organiser/c/{SLUG}/questions").status_code == 404
    assert editor_post(client, f"/organiser/c/not-mine/questions/{question.id}/edit", "not-mine",
                       label="Mine now", kind="yesno").status_code == 404
    db.session.expire_all()
    assert db.session.get(SignQuestion, question.id).label == "Member?"


def test_signing_terms_carry_the_visible_questions(ctx, asking):
    """The sign POST learns the questions from the cached terms, not a campaign row."""
    terms = signing.signing_terms(SLUG)
    assert [q.label for q in terms.questions] == [ORGANISATION, WHY, MEMBER, SIZE]
    assert terms.questions[3].choices == ("Just me", "2-10", "More")
