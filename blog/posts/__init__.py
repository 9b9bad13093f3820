from blog.posts import feeds  # noqa: F401 (registers the feed routes on bp)
from blog.posts.views import bp

__all__ = ["bp"]
