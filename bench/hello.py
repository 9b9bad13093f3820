"""The baseline for bench/run.py: the smallest Flask app, served the same way as the blog."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
