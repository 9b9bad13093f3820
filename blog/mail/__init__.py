"""Every outgoing mail: composing (Flask-Mail's Message, blog.mail.message), the outbox
(blog.mail.outbox), delivering over Flask-Mail's connection (blog.mail.delivery,
blog.mail.transport), the sender thread and `flask worker` (blog.mail.sender,
blog.mail.commands), and the newsletter issue's composer (blog.mail.newsletter).

Callers queue mail with send_templated() (or queue() for a message already written); it
leaves once their transaction commits.
"""

from blog.mail.delivery import deliver_due
from blog.mail.outbox import queue, send_templated

__all__ = ["deliver_due", "queue", "send_templated"]
