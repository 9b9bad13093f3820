# Benchmark runs use gunicorn's defaults (no access log, no worker recycling) and set workers on
# the command line, so figures compare with earlier runs; the app is preloaded in the master as
# the production settings (../gunicorn.conf.py) do, for the blog and the hello baseline alike.
import os

preload_app = True
os.environ.setdefault("BLOG_WARM_BEFORE_FORK", "1")  # as ../gunicorn.conf.py does under preload
