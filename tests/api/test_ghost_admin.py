"""The Integrations screen: administrators create and revoke Content API keys."""

import re

import pytest

from blog.extensions import db
from blog.models import Integration
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")

API = "/ghost/api/content/posts/"


def test_an_administrator_adds_and_revokes_an_integration(client, login, make_user, make_post):
    make_post("Public", slug="public")
    login(client, make_user(role="administrator"))
    token = form_token(client, "/admin/integrations/")
    added = client.post("/admin/integrations/", data={"csrf_token": token, "name": "Static site"})
    assert added.status_code == 303
    page = client.get("/admin/integrations/").text
    assert "Static site" in page and "http://localhost" in page
    key = re.search(r"<code>([0-9a-f]{26})</code>", page)[1]
    assert client.get(API, query_string={"key": key}).status_code == 200
    integration = db.session.scalar(db.select(Integration))
    db.session.rollback()
    revoked = client.post(
        f"/admin/integrations/{integration.id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 303
    assert client.get(API, query_string={"key": key}).status_code == 401
    assert f"<code>{key}</code>" not in client.get("/admin/integrations/").text


def test_a_blank_name_is_refused_in_place(client, login, make_user):
    login(client, make_user(role="administrator"))
    token = form_token(client, "/admin/integrations/")
    refused = client.post("/admin/integrations/", data={"csrf_token": token, "name": "  "})
    assert refused.status_code == 422 and "Give the integration a name" in refused.text
    assert db.session.scalar(db.select(db.func.count()).select_from(Integration)) == 0


def test_only_administrators_see_integrations_and_writes_need_a_token(client, login, make_user):
    login(client, make_user(role="editor"))
    assert client.get("/admin/integrations/").status_code == 403
    token = form_token(client, "/admin/")
    assert (
        client.post("/admin/integrations/", data={"csrf_token": token, "name": "x"}).status_code
        == 403
    )
    assert "/admin/integrations/" not in client.get("/admin/").text
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Integration)) == 0


def test_without_a_csrf_token_nothing_is_created(client, login, make_user):
    login(client, make_user(role="administrator"))
    assert client.post("/admin/integrations/", data={"name": "Sneaky"}).status_code in (400, 403)
    assert db.session.scalar(db.select(db.func.count()).select_from(Integration)) == 0
