from blog.authors.views import bp

__all__ = ["bp"]
