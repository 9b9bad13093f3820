from blog.posts import favicon, feeds, search, share, sitemaps  # noqa: F401 (routes on bp)
from blog.posts.views import bp

__all__ = ["bp", "search"]
