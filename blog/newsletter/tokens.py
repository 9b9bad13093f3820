"""Signed tokens for newsletter links (blog.security.signed_tokens): confirming expires after
NEWSLETTER_CONFIRM_HOURS, unsubscribing never does.

A token's payload is [subscriber id, fingerprint of the address]. Unsubscribe links mailed
before tokens carried a time (itsdangerous' URLSafeSerializer, same salt and payload) still
verify: an unsubscribe link in a sent mail must work forever.
"""

import hashlib

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeSerializer

from blog.extensions import db
from blog.models import Subscriber
from blog.security import signed_tokens

CONFIRM_SALT = "newsletter-confirm"
UNSUBSCRIBE_SALT = "newsletter-unsubscribe"


def _fingerprint(email: str) -> str:
    """Tie a token to the address, so a row id given out again never matches an old link."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:12]


def confirm_token(subscriber: Subscriber) -> str:
    """Return a signed token that confirms this subscriber for NEWSLETTER_CONFIRM_HOURS."""
    return signed_tokens(CONFIRM_SALT).dumps([subscriber.id, _fingerprint(subscriber.email)])


def unsubscribe_token(subscriber_id: int, email: str) -> str:
    """Return a signed token (HMAC) that unsubscribes this subscriber; it does not expire."""
    return signed_tokens(UNSUBSCRIBE_SALT).dumps([subscriber_id, _fingerprint(email)])


def _subscriber(payload) -> Subscriber | None:
    """Return the subscriber a verified payload names, if the address still matches."""
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        return None
    subscriber = db.session.get(Subscriber, payload[0])
    if subscriber is None or _fingerprint(subscriber.email) != payload[1]:
        return None
    return subscriber


def read_confirm_token(token: str) -> tuple[Subscriber | None, str | None]:
    """Return (subscriber, None), or (None, "expired" or "invalid") for a link that cannot work."""
    max_age = current_app.config["NEWSLETTER_CONFIRM_HOURS"] * 3600
    try:
        payload = signed_tokens(CONFIRM_SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        return None, "expired"
    except BadData:
        return None, "invalid"
    subscriber = _subscriber(payload)
    return (subscriber, None) if subscriber else (None, "invalid")


def read_unsubscribe_token(token: str) -> Subscriber | None:
    """Return the subscriber an unsubscribe token names, or None if it is forged or stale.

    Accepts the timed tokens made now and the untimed ones in mail sent before them.
    """
    try:
        payload = signed_tokens(UNSUBSCRIBE_SALT).loads(token)
    except BadData:
        try:
            payload = _untimed_unsubscribe().loads(token)
        except BadData:
            return None
    return _subscriber(payload)


def _untimed_unsubscribe() -> URLSafeSerializer:
    """The serializer unsubscribe links were signed with before they carried a time."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)
