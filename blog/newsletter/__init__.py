from blog.newsletter.views import bp

__all__ = ["bp"]
