#!/bin/sh
# Set up a virtual environment with the test tools and run the whole test suite, in parallel:
# one pytest-xdist worker per CPU (BLOG_TEST_WORKERS=N to choose; `-n 0` runs in one process).
# Browser tests need /usr/bin/chromium, PostgreSQL tests a server at BLOG_TEST_POSTGRES_URL;
# each group skips with a reason when its part is missing (CI makes them fail instead).
set -e
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "Installing the blog and its test tools into .venv..."
  [ -d .venv ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch .venv/.installed
fi
exec .venv/bin/python -m pytest -n "${BLOG_TEST_WORKERS:-auto}" --dist loadgroup "$@"
