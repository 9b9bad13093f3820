"""Reading posts: every reader of posts (reader pages, feeds, sitemaps, search, the newsletter)
reads them here, as Card and Article rows (rows.py) chosen by lists.py's queries; sitemaps
read their (path, lastmod) entries through sitemap.py. Writing is blog.posts.writing."""

from blog.posts.reading.lists import (
    Cursor,
    Page,
    count_posts,
    get_article,
    get_articles,
    get_author,
    get_post,
    get_tag,
    list_articles,
    list_cards,
    public_author,
    read_more,
    visible,
)
from blog.posts.reading.rows import (
    ARTICLE_COLUMNS,
    CARD_COLUMNS,
    Article,
    Byline,
    Card,
    TagLabel,
    read_records,
)

__all__ = [
    "ARTICLE_COLUMNS",
    "CARD_COLUMNS",
    "Article",
    "Byline",
    "Card",
    "Cursor",
    "Page",
    "TagLabel",
    "count_posts",
    "get_article",
    "get_articles",
    "get_author",
    "get_post",
    "get_tag",
    "list_articles",
    "list_cards",
    "public_author",
    "read_more",
    "read_records",
    "visible",
]
