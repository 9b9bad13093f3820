"""Every role against every action, through the real screens: what Ghost's roles allow works,
everything else is a 403 (or a refusal) and changes nothing."""

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PIL import Image
from sqlalchemy import func, select

from blog.authors.permissions import RULES, can
from blog.extensions import db
from blog.models import ROLES, Invite, Post, Setting, Tag, User
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")

EVERYONE = set(ROLES)
AUTHOR_UP = {"owner", "administrator", "editor", "author"}
EDITOR_UP = {"owner", "administrator", "editor"}
ADMIN_UP = {"owner", "administrator"}


@dataclass
class World:
    client: object
    me: User
    owner: User
    other: User  # another author
    mine_draft: Post
    mine_published: Post
    their_draft: Post
    their_published: Post
    tag: Tag
    token: str

    def post(self, path, **data):
        return self.client.post(path, data={"csrf_token": self.token, **data})

    def save(self, post, **fields):
        data = {"title": post.title, "markdown": post.markdown, "action": "save", **fields}
        return self.post(f"/admin/posts/{post.id}/", **data)


@pytest.fixture
def world(request, client, login, make_user, make_post, make_tag):
    role = request.node.callspec.params["role"]
    owner = make_user(role="owner", name="The Owner")
    me = owner if role == "owner" else make_user(role=role, name=f"Me the {role}")
    other = make_user(role="author", name="Someone Else")
    posts = {
        "mine_draft": make_post("My draft", authors=[me], status="draft", published_at=None),
        "mine_published": make_post("My published post", authors=[me]),
        "their_draft": make_post("Their draft", authors=[other], status="draft", published_at=None),
        "their_published": make_post("Their published post", authors=[other]),
    }
    login(client, me)
    token = form_token(client, "/admin/")
    tag = make_tag("Gardening")
    return World(client=client, me=me, owner=owner, other=other, tag=tag, token=token, **posts)


def status_of(post: Post) -> str:
    db.session.expire_all()
    found = db.session.get(Post, post.id)
    return found.status if found else "deleted"


def png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(data, "PNG")
    data.seek(0)
    return data


@dataclass
class Action:
    name: str
    allowed: set[str]
    do: Callable[[World], object]
    done: Callable[[World], bool] | None = None  # None: a page to read, nothing changes
    ok: tuple[int, ...] = (200, 201, 303)
    refused: tuple[int, ...] = (403,)


def _title_of(post: Post) -> str:
    db.session.expire_all()
    return db.session.get(Post, post.id).title


def _role_of(user: User) -> str:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    return f"{found.role}/{'active' if found.is_active else 'inactive'}"


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


ACTIONS = [
    Action("see the post list", EVERYONE, lambda w: w.client.get("/admin/")),
    Action(
        "write a new draft",
        EVERYONE,
        lambda w: w.post("/admin/posts/new", title="Fresh", markdown="x", action="save"),
        lambda w: _count(Post, Post.title == "Fresh") == 1,
    ),
    Action(
        "edit own draft",
        EVERYONE,
        lambda w: w.save(w.mine_draft, title="Edited mine"),
        lambda w: _title_of(w.mine_draft) == "Edited mine",
    ),
    Action(
        "edit own published post",
        AUTHOR_UP,
        lambda w: w.save(w.mine_published, title="Edited live"),
        lambda w: _title_of(w.mine_published) == "Edited live",
    ),
    Action(
        "edit someone else's draft",
        EDITOR_UP,
        lambda w: w.save(w.their_draft, title="Hijacked"),
        lambda w: _title_of(w.their_draft) == "Hijacked",
    ),
    Action(
        "open someone else's draft in the editor",
        EDITOR_UP,
        lambda w: w.client.get(f"/admin/posts/{w.their_draft.id}/"),
    ),
    Action(
        "publish own draft",
        AUTHOR_UP,
        lambda w: w.save(w.mine_draft, action="publish"),
        lambda w: status_of(w.mine_draft) == "published",
    ),
    Action(
        "sneak status=published into a save",
        set(),  # mass assignment: never works
        lambda w: w.save(w.mine_draft, status="published", role="owner", author_id="1"),
        lambda w: (
            status_of(w.mine_draft) == "published"
            or _role_of(w.me).startswith("owner")
            and w.me.role != "owner"
        ),
        ok=(),
        refused=(303,),
    ),
    Action(
        "publish someone else's draft",
        EDITOR_UP,
        lambda w: w.save(w.their_draft, action="publish"),
        lambda w: status_of(w.their_draft) == "published",
    ),
    Action(
        "schedule own draft",
        AUTHOR_UP,
        lambda w: w.save(w.mine_draft, action="schedule", published_at="2999-01-01T10:00"),
        lambda w: status_of(w.mine_draft) == "scheduled",
    ),
    Action(
        "unpublish own post",
        AUTHOR_UP,
        lambda w: w.save(w.mine_published, action="unpublish"),
        lambda w: status_of(w.mine_published) == "draft",
    ),
    Action(
        "unpublish someone else's post",
        EDITOR_UP,
        lambda w: w.save(w.their_published, action="unpublish"),
        lambda w: status_of(w.their_published) == "draft",
    ),
    Action(
        "publish and email subscribers",
        ADMIN_UP,
        lambda w: w.save(w.mine_draft, action="email"),
        lambda w: status_of(w.mine_draft) == "published",
    ),
    Action(
        "delete own draft",
        EVERYONE,
        lambda w: w.post(f"/admin/posts/{w.mine_draft.id}/delete"),
        lambda w: status_of(w.mine_draft) == "deleted",
    ),
    Action(
        "delete own published post",
        AUTHOR_UP,
        lambda w: w.post(f"/admin/posts/{w.mine_published.id}/delete"),
        lambda w: status_of(w.mine_published) == "deleted",
    ),
    Action(
        "delete someone else's post",
        EDITOR_UP,
        lambda w: w.post(f"/admin/posts/{w.their_published.id}/delete"),
        lambda w: status_of(w.their_published) == "deleted",
    ),
    Action(
        "create a tag while writing",
        AUTHOR_UP,
        lambda w: w.save(w.mine_draft, tags="Brand New Tag"),
        lambda w: _count(Tag, Tag.name == "Brand New Tag") == 1,
        refused=(422,),
    ),
    Action(
        "set a post's authors",
        EDITOR_UP,
        lambda w: w.save(w.their_draft, authors=w.owner.slug),
        lambda w: [a.id for a in db.session.get(Post, w.their_draft.id).authors] == [w.owner.id],
    ),
    Action("open the tags screen", EDITOR_UP, lambda w: w.client.get("/admin/tags/")),
    Action(
        "rename a tag",
        EDITOR_UP,
        lambda w: w.post(f"/admin/tags/{w.tag.id}/", name="Plants", slug="plants"),
        lambda w: _count(Tag, Tag.slug == "plants") == 1,
    ),
    Action(
        "delete a tag",
        EDITOR_UP,
        lambda w: w.post(f"/admin/tags/{w.tag.id}/delete"),
        lambda w: _count(Tag, Tag.slug == "gardening") == 0,
    ),
    Action(
        "upload an image",
        EVERYONE,
        lambda w: w.client.post(
            "/admin/uploads", data={"csrf_token": w.token, "image": (png(), "a.png")}
        ),
    ),
    Action("see the staff list", EDITOR_UP, lambda w: w.client.get("/admin/staff/")),
    Action(
        "invite an author",
        EDITOR_UP,
        lambda w: w.post("/admin/staff/invite", email="new@example.com", role="author"),
        lambda w: _count(Invite) == 1,
    ),
    Action(
        "invite an editor",
        ADMIN_UP,
        lambda w: w.post("/admin/staff/invite", email="new@example.com", role="editor"),
        lambda w: _count(Invite) == 1,
    ),
    Action(
        "invite an administrator",
        ADMIN_UP,
        lambda w: w.post("/admin/staff/invite", email="new@example.com", role="administrator"),
        lambda w: _count(Invite) == 1,
    ),
    Action(
        "invite an owner",
        set(),
        lambda w: w.post("/admin/staff/invite", email="new@example.com", role="owner"),
        lambda w: _count(Invite) == 1,
    ),
    Action(
        "change an author's role",
        ADMIN_UP,
        lambda w: w.post(f"/admin/staff/{w.other.id}/role", role="editor"),
        lambda w: _role_of(w.other) == "editor/active",
    ),
    Action(
        "deactivate an author",
        ADMIN_UP,
        lambda w: w.post(f"/admin/staff/{w.other.id}/deactivate"),
        lambda w: _role_of(w.other) == "author/inactive",
    ),
    Action(
        "demote the owner",
        set(),
        lambda w: w.post(f"/admin/staff/{w.owner.id}/role", role="author"),
        lambda w: _role_of(w.owner) != "owner/active",
    ),
    Action(
        "deactivate the owner",
        set(),
        lambda w: w.post(f"/admin/staff/{w.owner.id}/deactivate"),
        lambda w: _role_of(w.owner) != "owner/active",
    ),
    Action(
        "make oneself owner",
        set(),
        lambda w: w.post(f"/admin/staff/{w.me.id}/role", role="owner"),
        lambda w: _role_of(w.me) == "owner/active" and w.me.id != w.owner.id,
        refused=(400, 403),
    ),
    Action("open the settings", ADMIN_UP, lambda w: w.client.get("/admin/settings/")),
    Action(
        "change the settings",
        ADMIN_UP,
        lambda w: w.post(
            "/admin/settings/", title="Taken Over", accent_color="#123456", language="en"
        ),
        lambda w: _count(Setting) > 0,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_each_role_may_do_exactly_what_it_is_allowed(world, role, action):
    response = action.do(world)
    if role in action.allowed:
        assert response.status_code in action.ok, response.text[:500]
        assert action.done is None or action.done(world)
    else:
        assert response.status_code in action.refused, response.text[:500]
        assert action.done is None or not action.done(world)


def test_the_permission_table_names_every_action_it_is_asked_about():
    assert {"post.edit", "post.publish", "post.email", "staff.manage", "settings.edit"} <= set(
        RULES
    )
    with pytest.raises(KeyError):
        can(None, "post.fly")


def test_anonymous_visitors_may_do_nothing(make_user):
    from flask_login import AnonymousUserMixin

    assert not any(can(AnonymousUserMixin(), action) for action in RULES)


@pytest.mark.parametrize(
    "path",
    ["/admin/staff/", "/admin/settings/"],
)
def test_htmx_requests_to_admin_only_screens_are_refused_too(client, login, make_user, path):
    login(client, make_user(role="author"))
    response = client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert "@example.com" not in response.text  # no staff addresses leak
