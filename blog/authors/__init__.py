from blog.authors.sessions import init_app
from blog.authors.views import bp

__all__ = ["bp", "init_app"]
