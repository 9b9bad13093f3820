"""Deactivating a member of staff locks the admin only: while their posts are up, the author
page those posts link to, and its feed, stay public."""

import re

import feedparser

from blog.extensions import db
from tests.conftest import PASSWORD, form_token


def deactivate(app, login, admin, user) -> None:
    staff = app.test_client()
    login(staff, admin)
    token = form_token(staff, "/admin/staff/")
    response = staff.post(f"/admin/staff/{user.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.is_active is False


def test_a_deactivated_authors_page_and_feed_stay_while_their_posts_link_there(
    fresh_requests, app, client, login, make_user, make_post
):
    admin = make_user(role="administrator", email="boss@example.com")
    mary = make_user(name="Mary Shelley", slug="mary", email="mary@example.com")
    make_post("Frankenstein", slug="frankenstein", authors=[mary])
    deactivate(app, login, admin, mary)

    post = client.get("/frankenstein/").text
    link = re.search(r'href="(?:http://localhost)?(/author/mary/)"', post)
    assert link, "the post no longer links to its author"
    page = client.get(link[1])
    assert page.status_code == 200 and "Mary Shelley" in page.text and "Frankenstein" in page.text
    feed = feedparser.parse(client.get("/author/mary/rss/").data)
    assert feed.bozo == 0 and [e.title for e in feed.entries] == ["Frankenstein"]
    assert "/author/mary/" in client.get("/sitemap-authors.xml").text

    # The admin stays locked.
    token = form_token(client, "/login")
    data = {"csrf_token": token, "email": "mary@example.com", "password": PASSWORD}
    assert client.post("/login", data=data).status_code != 303


def test_a_deactivated_author_with_only_drafts_has_no_public_page(client, make_user, make_post):
    ghost = make_user(name="Ghost Writer", slug="ghostwriter", is_active=False)
    make_post("Unfinished", slug="unfinished", authors=[ghost], status="draft")
    assert client.get("/author/ghostwriter/").status_code == 404
    assert client.get("/author/ghostwriter/rss/").status_code == 404
    assert "/author/ghostwriter/" not in client.get("/sitemap-authors.xml").text
