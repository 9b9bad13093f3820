"""One address, one identity: every form and importer accepts the same addresses and stores
them in one form (blog.addresses), so a mailbox is one subscriber and one member of staff."""

import pytest
from sqlalchemy import func, select

from blog.addresses import AddressError, normalise_address
from blog.extensions import db
from blog.mail import deliver_due
from blog.models import Invite, OutboxMessage, Subscriber, User
from tests.conftest import HX, PASSWORD, form_token, received, received_mail

ACCEPTED = [
    ("alice@example.com", "alice@example.com"),
    ("Alice@Example.COM", "alice@example.com"),
    ("  alice@example.com\u00a0", "alice@example.com"),  # no-break space pasted from a page
    ("\talice@example.com\u2003", "alice@example.com"),
    ("ana@Bücher.de", "ana@xn--bcher-kva.de"),  # IDN domain: stored in ASCII
    ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
]
REFUSED = [
    "josé@example.com",  # needs SMTPUTF8, which most relays lack
    "a" * 65 + "@example.com",  # RFC 5321: at most 64 before the @
    "alice\u00a0smith@example.com",
    "alice @example.com",
    "alice@example.com\u200b",  # zero-width space is not whitespace, and not printable
    "not-an-address",
]


@pytest.mark.parametrize("raw, stored", ACCEPTED)
def test_accepted_addresses_have_one_stored_form(raw, stored):
    assert normalise_address(raw) == stored


@pytest.mark.parametrize("raw", REFUSED)
def test_refused_addresses_raise_a_message(raw):
    with pytest.raises(AddressError) as error:
        normalise_address(raw)
    assert str(error.value).startswith(("Enter", "Use", "The part before"))


# --- Every form applies the same rule ------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    app_config.update(
        MAIL_BACKGROUND_SENDER=False,
        NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP="1000 per minute",
        NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS="1000 per minute",
    )
    return app_config


def subscribe(client, email):
    data = {"email": email, "form_id": "subscribe-inline"}
    return client.post("/newsletter/", data=data, headers=HX)


def invite(client, email, role="author"):
    token = form_token(client, "/admin/staff/")
    return client.post(
        "/admin/staff/invite", data={"csrf_token": token, "email": email, "role": role}
    )


def stored(model) -> list[str]:
    emails = sorted(db.session.scalars(select(model.email)))
    db.session.commit()
    return emails


@pytest.fixture
def admin_client(fresh_requests, client, login, make_user):
    login(client, make_user(role="administrator", email="boss@example.com"))
    return client


@pytest.mark.parametrize("raw", REFUSED[:5])
def test_subscribe_and_invite_refuse_the_same_addresses(admin_client, raw):
    assert subscribe(admin_client, raw).status_code == 422
    assert invite(admin_client, raw).status_code == 422
    assert stored(Subscriber) == [] and stored(Invite) == []


@pytest.mark.parametrize("raw, expected", ACCEPTED[1:5])
def test_subscribe_and_invite_store_the_same_form(admin_client, raw, expected):
    assert subscribe(admin_client, raw).status_code == 200
    assert invite(admin_client, raw).status_code == 201
    assert stored(Subscriber) == [expected] and stored(Invite) == [expected]


def test_a_unicode_local_part_is_refused_with_the_reason(admin_client):
    for response in (
        subscribe(admin_client, "josé@example.com"),
        invite(admin_client, "josé@x.org"),
    ):
        assert "only ASCII letters before the @" in response.text


def test_an_invite_to_an_idn_address_is_mailed_to_its_ascii_form(app, admin_client, smtp_sink):
    assert invite(admin_client, "Ana@Bücher.de").status_code == 201
    message = received_mail(app, smtp_sink)[-1]
    assert smtp_sink.messages[-1][1] == ["ana@xn--bcher-kva.de"]
    assert message["To"] == "ana@xn--bcher-kva.de"


def test_staff_with_an_idn_address_sign_in_with_either_form(fresh_requests, app, make_user):
    make_user(email="ana@xn--bcher-kva.de")
    for typed in ("ANA@Bücher.de", "ana@xn--bcher-kva.de"):
        other = app.test_client()
        token = form_token(other, "/login")
        data = {"csrf_token": token, "email": typed, "password": PASSWORD}
        assert other.post("/login", data=data).status_code == 303


# --- One mailbox is one subscriber, one member of staff ---------------------------------------


def test_a_confirmed_reader_subscribing_in_capitals_gets_no_mail_and_no_new_row(client, smtp_sink):
    db.session.add(Subscriber(email="alice@example.com", status="confirmed", source="test"))
    db.session.commit()
    assert subscribe(client, "Alice@Example.com").status_code == 200
    deliver_due()
    assert smtp_sink.messages == []
    assert stored(Subscriber) == ["alice@example.com"]


def test_a_pending_reader_subscribing_in_capitals_stays_one_row(client, smtp_sink):
    subscribe(client, "alice@example.com")
    subscribe(client, "ALICE@EXAMPLE.COM")
    deliver_due()
    assert stored(Subscriber) == ["alice@example.com"]
    assert {tuple(m[1]) for m in smtp_sink.messages} == {("alice@example.com",)}
    assert len(received(smtp_sink)) == 2  # the second request re-sends the confirmation


def test_import_treats_capitals_as_the_address_already_present(runner, tmp_path):
    db.session.add(Subscriber(email="alice@example.com", status="unsubscribed", source="test"))
    db.session.commit()
    path = tmp_path / "list.csv"
    path.write_text("email\nALICE@example.com\nBob@Example.com\nbob@example.com\n")
    result = runner.invoke(args=["import-subscribers", str(path)])
    assert "Imported 1 subscriber " in result.output
    assert "Skipped 1 already on the list" in result.output
    assert "Skipped 1 repeated in the file" in result.output
    assert stored(Subscriber) == ["alice@example.com", "bob@example.com"]


def test_staff_in_other_capitals_cannot_be_invited_or_created_again(admin_client, runner):
    response = invite(admin_client, "BOSS@example.com")
    assert response.status_code == 422 and "already a member of staff" in response.text
    result = runner.invoke(
        args=["create-user", "Boss@Example.com", "--name", "Boss", "--role", "editor",
              "--password", PASSWORD]
    )  # fmt: skip
    assert result.exit_code != 0 and "already an account" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
