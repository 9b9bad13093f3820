"""The staff subscriber screen, and moving subscriber lists in and out as CSV."""

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import OutboxMessage, Subscriber, utcnow
from conftest import HX

ADDRESSES = ["=cmd@example.com", "+1+1@example.com", "-2+3@example.com"]


@pytest.fixture
def app_config(app_config):
    app_config["MAIL_BACKGROUND_SENDER"] = False
    return app_config


@pytest.fixture
def subscribers(app):
    now = utcnow()
    rows = [
        Subscriber(email="ada@example.com", name="Ada", status="confirmed", confirmed_at=now),
        Subscriber(email="sum@example.com", name="@SUM(1+1)", status="confirmed"),
        Subscriber(email="per_cent@example.com", status="pending"),
        Subscriber(email="perXcent@example.com", status="unsubscribed"),
        Subscriber(
            email="old@example.com", status="confirmed", created_at=now - timedelta(days=400)
        ),
        *(Subscriber(email=address, status="confirmed") for address in ADDRESSES),
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


@pytest.fixture
def editor(make_user, client, login):
    user = make_user(role="editor")
    assert login(client, user).status_code in (302, 303)
    return user


def emails_in(body: str) -> list[str]:
    return re.findall(r"<td>([^<]+@example\.com)</td>", body)


def test_editor_sees_every_subscriber_with_status_and_dates(client, editor, subscribers):
    page = client.get("/admin/subscribers")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert "no-store" in page.headers["Cache-Control"]
    assert len(emails_in(body)) == 8
    assert emails_in(body)[-1] == "old@example.com"  # newest first
    assert "Confirmed" in body and "Pending" in body and "Unsubscribed" in body
    assert "6 confirmed · 1 waiting to confirm · 1 unsubscribed" in body
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT", body)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("ADA", ["ada@example.com"]),
        ("per_cent", ["per_cent@example.com"]),  # "_" is literal, not "any character"
        ("%", []),  # so is "%"
        ("", None),
    ],
)
def test_search_matches_address_or_name_literally(client, editor, subscribers, query, expected):
    body = client.get("/admin/subscribers", query_string={"q": query}).get_data(as_text=True)
    assert emails_in(body) == (expected if expected is not None else emails_in(body))
    if expected == []:
        assert "No subscriber matches" in body


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_editor_removes_a_subscriber_and_the_mail_waiting_for_them(
    client, editor, subscribers, htmx
):
    # Requests in tests share the fixture's app context, so Flask-WTF's token cached in g
    # would outlive the session that sign-in replaced; a browser starts each request afresh.
    g.pop("csrf_token", None)
    page = client.get("/admin/subscribers")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    ada = subscribers[0]
    db.session.add(OutboxMessage(recipient=ada.email, subscriber_id=ada.id, subject="x"))
    db.session.commit()
    response = client.post(
        f"/admin/subscribers/{ada.id}/delete",
        data={"csrf_token": token},
        headers=HX if htmx else {},
    )
    assert response.status_code == (200 if htmx else 303)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert "ada@example.com" not in client.get("/admin/subscribers").get_data(as_text=True)


def test_remove_without_csrf_token_changes_nothing(client, editor, subscribers):
    response = client.post(f"/admin/subscribers/{subscribers[0].id}/delete")
    assert response.status_code == 400
    assert db.session.get(Subscriber, subscribers[0].id) is not None


def test_export_neutralises_cells_a_spreadsheet_would_run(client, editor, subscribers):
    response = client.get("/admin/subscribers/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    emails = {row["email"] for row in rows}
    assert {"'" + address for address in ADDRESSES} <= emails
    assert {row["name"] for row in rows} >= {"'@SUM(1+1)", "Ada"}
    assert not any(email.startswith(("=", "+", "-", "@")) for email in emails)
    assert len(rows) == 8


@pytest.mark.parametrize(
    "path", ["/admin/subscribers", "/admin/subscribers/export.csv", "/admin/subscribers?q=ada"]
)
def test_an_author_gets_403_and_sees_no_address(client, make_user, login, subscribers, path):
    login(client, make_user(role="author"))
    response = client.get(path)
    assert response.status_code == 403
    assert b"@example.com" not in response.data


def test_an_author_cannot_remove_subscribers(client, make_user, login, subscribers):
    login(client, make_user(role="author"))
    response = client.post(f"/admin/subscribers/{subscribers[0].id}/delete")
    assert response.status_code in (400, 403)
    assert db.session.get(Subscriber, subscribers[0].id) is not None


@pytest.mark.parametrize("path", ["/admin/subscribers", "/admin/subscribers/export.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, subscribers, path):
    response = client.get(path)
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    assert b"@example.com" not in response.data


# --- Command line ----------------------------------------------------------------------------

GHOST = """id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers
1,ghost.one@example.com,Ghost One,,true,,,2024-01-01T00:00:00.000Z,,,
2,Ghost.Two@EXAMPLE.com,Ghost Two,,true,,,2024-01-01T00:00:00.000Z,,,
3,ghost.off@example.com,Ghost Off,,false,,,2024-01-01T00:00:00.000Z,,,
4,not an address,Broken,,true,,,2024-01-01T00:00:00.000Z,,,
5,ghost.one@example.com,Ghost One Again,,true,,,2024-01-01T00:00:00.000Z,,,
"""
MAILCHIMP = """Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME
chimp@example.com,Mail,Chimp,2,2023-05-01 10:00:00
ada@example.com,Ada,Again,2,2023-05-01 10:00:00
"""
SUBSTACK = (
    "email,active_subscription,expiry,plan\nstack@example.com,false,,free\n'=cmd2@example.com,,,\n"
)


def import_csv(runner, tmp_path, text: str, name: str = "list.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return runner.invoke(args=["import-subscribers", str(path)])


def test_import_ghost_members_as_confirmed_without_mailing(runner, tmp_path, smtp_sink):
    result = import_csv(runner, tmp_path, GHOST)
    assert result.exit_code == 0, result.output
    assert "Imported 2 subscribers" in result.output
    assert "Skipped 1 repeated in the file" in result.output
    assert "Skipped 1 not subscribed" in result.output
    assert "Skipped 1 invalid address (line 5)" in result.output
    stored = {
        row.email: (row.status, row.name, row.source)
        for row in db.session.scalars(select(Subscriber))
    }
    assert stored == {
        "ghost.one@example.com": ("confirmed", "Ghost One", "import"),
        "ghost.two@example.com": ("confirmed", "Ghost Two", "import"),
    }
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert smtp_sink.messages == []


def test_import_mailchimp_and_substack_lists_and_keep_existing_states(
    runner, tmp_path, subscribers
):
    result = import_csv(runner, tmp_path, MAILCHIMP)
    assert (
        "Imported 1 subscriber as confirmed" in result.output
        and "Skipped 1 already on the list" in result.output
    )
    chimp = db.session.scalar(select(Subscriber).where(Subscriber.email == "chimp@example.com"))
    assert (chimp.name, chimp.status) == ("Mail Chimp", "confirmed")
    assert "Imported 2 subscribers" in import_csv(runner, tmp_path, SUBSTACK, "s.csv").output
    # Our own export's neutralised cell comes back as the real address.
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == "=cmd2@example.com"))


def test_an_unsubscribed_reader_stays_unsubscribed_after_an_import(runner, tmp_path, subscribers):
    import_csv(runner, tmp_path, "email\nperXcent@example.com\n")
    status = db.session.scalar(
        select(Subscriber.status).where(Subscriber.email == "perXcent@example.com")
    )
    assert status == "unsubscribed"


def test_import_refuses_a_file_without_an_email_column(runner, tmp_path):
    result = import_csv(runner, tmp_path, "name,phone\nAda,123\n")
    assert result.exit_code != 0 and "No email column" in result.output


def test_export_command_writes_neutralised_csv_and_filters_by_status(runner, tmp_path, subscribers):
    result = runner.invoke(args=["export-subscribers"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 8 and {"'=cmd@example.com", "'-2+3@example.com"} <= {
        r["email"] for r in rows
    }
    target = tmp_path / "pending.csv"
    result = runner.invoke(args=["export-subscribers", "--status", "pending", "-o", str(target)])
    assert result.exit_code == 0
    rows = list(csv.DictReader(target.open(newline="")))
    assert [(r["email"], r["status"]) for r in rows] == [("per_cent@example.com", "pending")]
    # An export imports back into an empty list with the same addresses.
    runner.invoke(
        args=["export-subscribers", "--status", "confirmed", "-o", str(tmp_path / "a.csv")]
    )
    db.session.execute(Subscriber.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["import-subscribers", str(tmp_path / "a.csv")])
    assert "Imported 6 subscribers" in result.output
    restored = set(db.session.scalars(select(Subscriber.email)))
    assert restored == {"ada@example.com", "sum@example.com", "old@example.com", *ADDRESSES}
