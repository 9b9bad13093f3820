#!/bin/sh
# Set up a virtual environment, create the database with demo content, and serve the blog.
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PORT=${PORT:-5000}
if [ ! -x .venv/bin/flask ] || [ pyproject.toml -nt .venv/.installed-app ]; then
  echo "Installing the blog into .venv (first run, or its dependencies changed)..."
  [ -d .venv ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  touch .venv/.installed-app
fi
# Links in mail, feeds and share cards use SITE_URL (default http://127.0.0.1:5000): on
# another port, make it this server's address unless it is set already.
if [ "$PORT" != 5000 ] && [ -z "${BLOG_SITE_URL:-}" ]; then
  export BLOG_SITE_URL="http://127.0.0.1:$PORT"
fi
.venv/bin/flask --app blog demo
echo "Serving the blog at http://127.0.0.1:$PORT (Ctrl+C stops it)"
exec .venv/bin/flask --app blog run --host 127.0.0.1 --port "$PORT" "$@"
