#!/bin/sh
# Set up a virtual environment, create the database with demo content, and serve the blog.
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/flask ]; then
  echo "Creating .venv and installing the blog (first run only)..."
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
fi
.venv/bin/flask --app blog demo
echo "Serving the blog at http://127.0.0.1:${PORT:-5000} (Ctrl+C stops it)"
exec .venv/bin/flask --app blog run --host 127.0.0.1 --port "${PORT:-5000}" "$@"
