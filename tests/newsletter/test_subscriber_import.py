"""import-subscribers keeps what the old platform knew: Ghost's deleted members stay out, and
each reader's name and sign-up date come across; the report reads right for 1 and for many."""

from datetime import datetime

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Subscriber

HEADER = "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
HEADER += "created_at,deleted_at,labels,tiers\n"
GHOST = HEADER + (
    "1,kept@example.com,Kept Reader,,true,,,2021-03-04T05:06:07.000Z,,,\n"
    "2,gone@example.com,Gone Reader,,true,,,2020-01-01T00:00:00.000Z,2022-02-02T00:00:00.000Z,,\n"
    "3,Second@Example.com,Ünïcode Näme,,true,,,2019-12-31T23:30:00.000+01:00,,,\n"
    "4,gone.too@example.com,,,false,,,2020-01-01T00:00:00.000Z,2022-02-02T00:00:00.000Z,,\n"
)


def run_import(runner, tmp_path, text: str):
    path = tmp_path / "members.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-subscribers", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_ghost_deleted_members_are_skipped_and_counted(runner, tmp_path):
    output = run_import(runner, tmp_path, GHOST)
    assert "Imported 2 subscribers as confirmed" in output
    assert "Skipped 2 deleted in the export." in output
    emails = set(db.session.scalars(select(Subscriber.email)))
    assert emails == {"kept@example.com", "second@example.com"}


def test_names_and_sign_up_dates_are_kept(runner, tmp_path):
    run_import(runner, tmp_path, GHOST)
    rows = {s.email: s for s in db.session.scalars(select(Subscriber))}
    kept, second = rows["kept@example.com"], rows["second@example.com"]
    assert (kept.name, kept.created_at) == ("Kept Reader", datetime(2021, 3, 4, 5, 6, 7))
    assert kept.confirmed_at == datetime(2021, 3, 4, 5, 6, 7)
    # +01:00 is converted to UTC, as every column stores it.
    assert (second.name, second.created_at) == ("Ünïcode Näme", datetime(2019, 12, 31, 22, 30))


def test_mailchimp_opt_in_time_is_the_sign_up_date(runner, tmp_path):
    text = "Email Address,First Name,Last Name,OPTIN_TIME\nchimp@example.com,Mail,Chimp,"
    run_import(runner, tmp_path, text + "2023-05-01 10:00:00\n")
    chimp = db.session.scalar(select(Subscriber))
    assert (chimp.name, chimp.created_at) == ("Mail Chimp", datetime(2023, 5, 1, 10))


def test_a_missing_or_unreadable_date_becomes_the_import_time(runner, tmp_path):
    before = datetime.now()
    run_import(runner, tmp_path, "email,created_at\na@example.com,yesterday\nb@example.com,\n")
    for subscriber in db.session.scalars(select(Subscriber)):
        assert subscriber.created_at.year == before.year  # now, not a made-up date


@pytest.mark.parametrize(
    "rows, expected",
    [
        ("one@example.com\n", ["Imported 1 subscriber as confirmed"]),
        ("one@example.com\ntwo@example.com\n", ["Imported 2 subscribers as confirmed"]),
        ("bad\n", ["Imported 0 subscribers", "Skipped 1 invalid address (line 2)."]),
        ("bad\nworse\n", ["Skipped 2 invalid addresses (lines 2, 3)."]),
    ],
)
def test_the_report_reads_right_for_one_and_many(runner, tmp_path, rows, expected):
    output = run_import(runner, tmp_path, "email\n" + rows)
    for line in expected:
        assert line in output
    assert "1 subscribers" not in output and "1 invalid addresses" not in output
