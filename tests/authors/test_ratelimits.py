"""blog.ratelimits: one limit, counted where every worker sees it (the database, or Redis when
REDIS_URL is set), never in one process's memory."""

import uuid

import pytest
from sqlalchemy import func, select

from blog import create_app, ratelimits
from blog.extensions import db
from blog.models import RateLimitHit
from conftest import HX


@pytest.fixture
def store(request, app_config):
    """Run a test once on the database store and once on Redis."""
    app_config["NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP"] = "4 per minute"
    app_config["MAIL_BACKGROUND_SENDER"] = False  # confirmation mail stays in the outbox
    if request.param == "database":
        yield "database"
        return
    import redis

    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex}"
    app_config.update(REDIS_URL=url, RATELIMIT_KEY_PREFIX=prefix)
    yield "redis"
    client = redis.Redis.from_url(url)
    keys = [*client.scan_iter(f"{prefix}*")]
    if keys:
        client.delete(*keys)


def hits_in_database() -> int:
    return db.session.scalar(select(func.count()).select_from(RateLimitHit))


@pytest.mark.parametrize("store", ["database", "redis"], indirect=True)
def test_two_app_instances_share_one_subscribe_limit(store, app_config, app):
    """Two create_app() on one database (like two gunicorn workers, or two machines sharing
    Redis): four subscribes a minute from one address in all, not four each."""
    other = create_app(app_config)  # the `app` fixture made the schema
    clients = [app.test_client(), other.test_client()]
    statuses = [
        clients[n % 2]
        .post("/newsletter/", data={"email": f"reader{n}@example.com"}, headers=HX)
        .status_code
        for n in range(8)
    ]
    assert statuses == [200] * 4 + [429] * 4
    refused = clients[1].post("/newsletter/", data={"email": "late@example.com"}, headers=HX)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    db.session.remove()
    assert hits_in_database() == (8 if store == "database" else 0)  # 4 per IP, 4 per address


@pytest.mark.parametrize("store", ["database", "redis"], indirect=True)
def test_check_hit_record_and_forget(store, app):
    rules = ratelimits.parse("2 per minute; 3 per hour")
    with app.test_request_context():
        assert ratelimits.hit("test", "who", rules) == 0
        assert ratelimits.hit("test", "who", rules) == 0
        wait = ratelimits.hit("test", "who", rules)
        assert 0 < wait <= 60  # refused, and not counted
        assert ratelimits.check("test", "someone else", rules) == 0
        ratelimits.record("test", "1.2.3.4|me@example.com")
        ratelimits.record("test", "5.6.7.8|me@example.com")
        one = (ratelimits.Rule(1, 60),)
        assert ratelimits.check("test", "1.2.3.4|me@example.com", one) > 0
        ratelimits.forget("test", "|me@example.com", suffix=True)
        assert ratelimits.check("test", "1.2.3.4|me@example.com", one) == 0
        assert ratelimits.check("test", "5.6.7.8|me@example.com", one) == 0
        ratelimits.forget("test", "who")
        assert ratelimits.check("test", "who", rules) == 0
        db.session.commit()


def test_rules_read_as_flask_limiter_wrote_them():
    assert ratelimits.parse("10 per minute; 100 per day") == (
        ratelimits.Rule(10, 60),
        ratelimits.Rule(100, 86400),
    )
    assert ratelimits.parse("5/hour, 3 per 10 minutes") == (
        ratelimits.Rule(5, 3600),
        ratelimits.Rule(3, 600),
    )
    for wrong in ("ten per minute", "5 per fortnight", "5 per 2 days"):
        with pytest.raises(ValueError):
            ratelimits.parse(wrong)
