"""Pages that look finished: the 403 page, the subscribe boxes' words, button contrast with any
accent, demo content, and the Nu checker over the new pages (search, 403)."""

import re
import subprocess

import pytest
from sqlalchemy import func, select

from blog import demo
from blog.colours import contrast_ratio
from blog.extensions import db
from blog.models import Post, Tag
from blog.posts.search import search
from blog.settings import button_colors, theme_css
from conftest import HX, form_token
from fixtures.admin import GOOD
from fixtures.checks import validator_command


def test_403_speaks_plainly_and_offers_a_way_back(client, login, make_user):
    login(client, make_user(role="contributor"))
    response = client.get("/admin/settings/")
    assert response.status_code == 403
    assert "You can’t open this page" in response.text
    assert "does not have permission" in response.text
    assert 'href="/admin/"' in response.text and 'href="/"' in response.text
    assert "Forbidden" not in response.text  # not Werkzeug's developer wording


def test_403_for_a_visitor_offers_sign_in_and_says_why(client):
    response = client.post(
        "/newsletter/", data={"email": "a@example.com"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "Subscribe from this site&#39;s own pages." in response.text
    assert 'href="/login"' in response.text


def test_post_closes_with_never_miss_a_post_and_the_dialog_holds_the_other_box(client, make_post):
    page = client.get(make_post().url).text
    cta = re.search(r'<form[^>]*id="subscribe-cta".*?</form>', page, re.S)[0]
    assert "Never Miss a Post – Subscribe Now" in cta
    assert (
        "Sign up today to receive cutting-edge news and thought-provoking articles straight "
        "to your inbox" in cta
    )
    dialog = re.search(r'<dialog[^>]*id="subscribe-dialog".*?</dialog>', page, re.S)[0]
    assert "Subscribe to Our Newsletter" in dialog and 'id="subscribe-inline"' in dialog
    assert page.count("Subscribe to Our Newsletter") == 1  # no second box stacked on the post
    # Without JavaScript the header button is a link to the newsletter page.
    assert re.search(r'<a class="[^"]*site-header__cta" href="/newsletter/"', page)


def test_success_state_reads_word_for_word_with_ok_thanks(client):
    data = {"email": "reader@example.com", "form_id": "subscribe-cta"}
    body = client.post("/newsletter/", data=data, headers=HX).text
    assert "Success! Now Check Your Email" in body
    assert (
        "To complete Subscribe, click the confirmation link in your inbox. If it doesn't "
        "arrive within 3 minutes, check your spam folder." in body
    )
    assert re.search(r"<a [^>]*data-members-close[^>]*>Ok, Thanks</a>", body)


@pytest.mark.parametrize(
    "accent", ["#ff1a75", "#ff69b4", "#ffff00", "#00ff00", "#777777", "#ffffff", "#000000",
               "#1d4ed8", "#ff8c00", "#40e0d0"],
)  # fmt: skip
def test_buttons_keep_4_5_to_1_contrast_with_any_accent(accent):
    background, text = button_colors(accent)
    assert contrast_ratio(background, text) >= 4.5
    css = theme_css(accent)
    assert f"--button-bg: {background};" in css and f"--button-text: {text};" in css


def test_pink_accent_gets_white_button_text():
    background, text = button_colors("#ff1a75")
    assert text == "#ffffff" and background != "#ff1a75"


def test_demo_content_has_distinct_titles_sensible_tags_and_raster_images(app):
    demo.fill(300)
    rows = db.session.execute(select(Post.title, Post.slug, Post.feature_image)).all()
    titles = [title for title, _, _ in rows]
    assert len(titles) == len(set(titles)) == 301
    assert not [slug for _, slug, _ in rows if re.search(r"-\d+$", slug)]
    images = [image for _, _, image in rows if image]
    assert images and all(image.endswith(".jpg") for image in images)
    # Tags fit the subject: a post about soups is in Kitchen, one about trails in Outdoors.
    soups = db.session.scalars(select(Post).where(Post.title.like("%slow soups%"))).all()
    assert soups and all([tag.name for tag in post.tags] == ["Kitchen"] for post in soups)
    assert db.session.scalar(select(func.count()).select_from(Tag)) == len(demo.TAGS)
    # The demo writes rows without the ORM; it indexes them for search itself.
    found = search("slow soups", limit=20).hits  # 20 of them: the demo writes more than that
    assert {hit.title for hit in found} == {post.title for post in soups[:20]}


def test_search_and_error_pages_are_valid_html(client, make_post, tmp_path):
    command = validator_command()
    make_post("Harbour", body="Harbour <b>walls</b>.")
    files = []
    for name, path, status in [
        ("search-empty", "/search/", 200),
        ("search-hits", "/search/?q=harbour", 200),
        ("search-none", "/search/?q=zzzz", 200),
        ("search-bad", '/search/?q="', 400),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        target = tmp_path / f"{name}.html"
        target.write_bytes(response.data)
        files.append(str(target))
    result = subprocess.run(
        [*command, "--ignore-re", "Attribute .hx-", "--", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("fresh_requests")
def test_site_icon_is_set_on_the_settings_screen_and_served_as_favicon(app, login, make_user):
    import io

    from PIL import Image

    admin = app.test_client()
    login(admin, make_user(role="administrator"))
    token = form_token(admin, "/admin/settings/")
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "#123456").save(picture, "PNG")
    picture.seek(0)
    data = {"csrf_token": token, **GOOD, "icon_file": (picture, "icon.png")}
    assert admin.post("/admin/settings/", data=data).status_code == 303
    icon = app.test_client().get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/png"
    data = {"csrf_token": token, **GOOD, "icon": "", "remove_icon": "on"}
    assert admin.post("/admin/settings/", data=data).status_code == 303
    assert app.test_client().get("/favicon.ico").mimetype == "image/vnd.microsoft.icon"
