"""The settings screen (stored in the database, live without a restart), the theme stylesheet
it feeds, and each staff member's profile screen."""

import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Setting, User
from conftest import form_token
from fixtures.admin import GOOD

pytestmark = pytest.mark.usefixtures("fresh_requests")


@pytest.fixture
def admin(client, login, make_user):
    user = make_user(role="administrator", name="Ada Admin", slug="ada")
    login(client, user)
    client.token = form_token(client, "/admin/settings/")
    return client


def png(size=(60, 40)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "orange").save(data, "PNG")
    data.seek(0)
    return data


def save_settings(client, **fields):
    return client.post("/admin/settings/", data={"csrf_token": client.token, **GOOD, **fields})


def test_saved_settings_apply_to_the_next_page_without_a_restart(admin, app):
    assert save_settings(admin).status_code == 303
    home = app.test_client().get("/")
    assert '<html lang="de">' in home.text
    assert "Night Notes" in home.text and "Written after dark." in home.text
    assert '<a href="https://example.com/archive">Archive</a>' in home.text
    assert "/assets/theme.css?v=12ab34" in home.text
    from blog.site import settings

    with app.test_request_context("/"):
        stored = settings()
    assert stored["newsletter_sender_name"] == "The Night Desk"
    assert stored["newsletter_sender_email"] == "desk@example.com"
    assert stored["blocked_domains"] == ["spam.example", "junk.example"]


def test_the_settings_form_shows_what_is_stored(admin):
    save_settings(admin)
    page = admin.get("/admin/settings/")
    assert 'value="Night Notes"' in page.text and 'value="#12ab34"' in page.text
    assert "spam.example\njunk.example" in page.text


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": ""}, "Site title is required."),
        ({"accent_color": "red;}body{display:none"}, "Give the colour as #rrggbb."),
        ({"language": 'en"><script>'}, "Give a language code"),
        ({"nav_label": ["Evil"], "nav_url": ["javascript:alert(1)"]}, "is not a path on this site"),
        ({"nav_label": ["Evil"], "nav_url": ["//evil.example"]}, "is not a path on this site"),
        ({"nav_label": [""], "nav_url": ["/about/"]}, "Each link needs a label"),
        ({"newsletter_sender_email": "not an address"}, "Enter a valid sender address."),
        ({"blocked_domains": "bad domain!"}, "is not a domain name"),
        ({"newsletter_sender_name": "Evil\r\nBcc: victim@example.com"}, None),
    ],
)
def test_bad_settings_are_explained_and_nothing_is_stored(admin, fields, message):
    response = save_settings(admin, **fields)
    if message is None:  # line breaks are folded away: no header injection via the name
        assert response.status_code == 303
        stored = db.session.get(Setting, "newsletter_sender_name")
        assert "\n" not in json.loads(stored.value) and "\r" not in json.loads(stored.value)
        return
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(select(func.count()).select_from(Setting)) == 0


def test_the_theme_stylesheet_carries_only_a_checked_colour(admin, app):
    save_settings(admin, accent_color="#0000ff")
    reader = app.test_client()
    css = reader.get("/assets/theme.css?v=0000ff")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "--accent: #0000ff;" in css.text and "--accent-contrast: #ffffff;" in css.text
    assert "immutable" in css.headers["Cache-Control"] and "public" in css.headers["Cache-Control"]
    assert "max-age=300" in reader.get("/assets/theme.css").headers["Cache-Control"]
    # A value that slipped into the database some other way never reaches the stylesheet.
    app.config["SETTINGS_CACHE_SECONDS"] = 0  # read it at once, not after the cache expires
    row = db.session.get(Setting, "accent_color")
    row.value = json.dumps("red}body{background:url(//evil.example)")
    db.session.commit()
    css = reader.get("/assets/theme.css")
    assert "evil" not in css.text and "--accent: #ff1a75;" in css.text


def test_a_logo_is_uploaded_shown_and_removed(admin, app):
    response = admin.post(
        "/admin/settings/",
        data={"csrf_token": admin.token, **GOOD, "logo_file": (png(), "logo.png")},
    )
    assert response.status_code == 303
    home = app.test_client().get("/")
    logo = re.search(r'<img class="site-title__logo" src="(/uploads/[^"]+)" alt="Night Notes">',
                     home.text)  # fmt: skip
    assert logo and app.test_client().get(logo[1]).mimetype == "image/png"
    save_settings(admin, logo=logo[1], remove_logo="on")
    assert "site-title__logo" not in app.test_client().get("/").text


def test_a_bad_logo_is_refused_and_the_settings_are_not_saved(admin):
    response = admin.post(
        "/admin/settings/",
        data={"csrf_token": admin.token, **GOOD,
              "logo_file": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.svg")},
    )  # fmt: skip
    assert response.status_code == 415 and "JPEG, PNG, GIF or WebP" in response.text
    assert db.session.scalar(select(func.count()).select_from(Setting)) == 0


# --- Profiles -------------------------------------------------------------------------------


def save_profile(client, **fields):
    data = {"csrf_token": client.token, "name": "Ada Admin", "slug": "ada", "bio": "",
            "location": "", "website": "", **fields}  # fmt: skip
    return client.post("/admin/profile/", data=data)


def test_the_profile_is_saved_and_shown_on_the_author_page(admin, app, make_post):
    ada = db.session.scalar(select(User).where(User.slug == "ada"))
    make_post(authors=[ada])  # an author page is public once it has a published post
    response = save_profile(
        admin, name="Ada Lovelace", slug="ada-l", bio="Counts things.\nWrites notes.",
        location="London", website="https://ada.example",
        profile_image_file=(png((300, 300)), "me.png"),
    )  # fmt: skip
    assert response.status_code == 303
    page = app.test_client().get("/author/ada-l/")
    assert page.status_code == 200
    assert "Ada Lovelace" in page.text and "Counts things." in page.text and "London" in page.text
    assert 'href="https://ada.example"' in page.text
    assert re.search(r'src="/uploads/[0-9a-f]{32}-300x300\.png"', page.text)
    assert "Edit your profile" not in page.text  # readers get no edit link...
    assert 'href="/admin/profile/">Edit your profile' in admin.get("/author/ada-l/").text


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"website": "javascript:alert(1)"}, "starting with https:// or http://"),
        ({"website": "data:text/html,<script>alert(1)</script>"}, "starting with https://"),
        ({"website": "https://exa mple.com"}, "cannot contain spaces"),
        ({"name": ""}, "Name is required."),
        ({"slug": "taken"}, "Another staff member has that slug."),
        ({"bio": "b" * 501}, "Bio can be at most 500 characters."),
    ],
)
def test_bad_profile_input_is_explained(admin, make_user, fields, message):
    make_user(slug="taken")
    response = save_profile(admin, **fields)
    assert response.status_code == 422 and message in response.text
    db.session.expire_all()
    assert db.session.scalar(select(User.name).where(User.slug == "ada")) == "Ada Admin"


def test_line_breaks_in_a_display_name_are_folded(admin):
    save_profile(admin, name="Ada\r\nBcc: victim@example.com")
    db.session.expire_all()
    assert db.session.scalar(select(User.name).where(User.slug == "ada")) == (
        "Ada Bcc: victim@example.com"
    )


def test_a_wrong_current_password_changes_nothing(admin):
    response = admin.post(
        "/admin/profile/password",
        data={"csrf_token": admin.token, "current": "not it at all",
              "password": "new password 123", "confirm": "new password 123"},
    )  # fmt: skip
    assert response.status_code == 422 and "not your current password" in response.text


# --- Tags -----------------------------------------------------------------------------------


def test_editors_rename_and_delete_tags(client, login, make_user, make_tag, make_post, app):
    login(client, make_user(role="editor"))
    token = form_token(client, "/admin/tags/")
    garden, _ = make_tag("Garden"), make_tag("Kitchen")
    roses = make_post("Roses", tags=[garden]).url
    page = client.get("/admin/tags/")
    assert 'value="Garden"' in page.text and 'href="/tag/garden/">1</a>' in page.text
    taken = client.post(
        f"/admin/tags/{garden.id}/", data={"csrf_token": token, "name": "G", "slug": "kitchen"}
    )
    assert taken.status_code == 422 and "Another tag has that slug." in taken.text
    renamed = client.post(
        f"/admin/tags/{garden.id}/",
        data={"csrf_token": token, "name": "Gardens", "slug": "gardens", "description": "Green"},
    )
    assert renamed.status_code == 303
    reader = app.test_client()
    assert "Roses" in reader.get("/tag/gardens/").text
    assert reader.get("/tag/garden/").status_code == 404
    client.post(f"/admin/tags/{garden.id}/delete", data={"csrf_token": token})
    assert reader.get("/tag/gardens/").status_code == 404
    assert reader.get(roses).status_code == 200  # the post stays


def test_workers_pick_up_settings_saved_elsewhere_within_the_cache_time(admin, app, monkeypatch):
    reader = app.test_client()
    assert "Test Blog" in reader.get("/").text
    # Another worker saves: its commit starts a new content generation (blog.cache), so this
    # worker drops its copy of the settings at once, well within SETTINGS_CACHE_SECONDS.
    db.session.add(Setting(key="title", value=json.dumps("Saved Elsewhere")))
    db.session.commit()
    assert "Saved Elsewhere" in reader.get("/").text
