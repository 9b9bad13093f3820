"""Take the docs' screenshots: the home page, a post, search results and the subscribe dialog,
at desktop and phone widths, light and dark.

    .venv/bin/python bench/screenshots.py                  # writes docs/screenshots/*.png
    .venv/bin/python bench/screenshots.py --out /tmp/shots --full-page --color-scheme dark

Light files are <page>-<size>.png, dark ones <page>-<size>-dark.png.

It fills a throwaway instance folder with the demo content (`flask --app blog demo`), serves it
on a free 127.0.0.1 port from a thread, and drives Debian's Chromium (/usr/bin/chromium) with
Playwright. Nothing outside the temporary folder and --out is written.
"""

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_LAZY_IMAGES = """async () => {
  document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; });
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
}"""
# name: (viewport width, viewport height, device scale factor)
SIZES = {"desktop": (1280, 1400, 1), "phone": (390, 844, 2)}


def fill_demo(instance: Path, posts: int) -> None:
    """Write the demo content into a fresh instance folder with the project's own command."""
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "blog", "demo", "--posts", str(posts)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=300,
    )


def serve(instance: Path):
    """Serve the blog in a thread on a free loopback port; return (server, base URL)."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    os.environ["BLOG_INSTANCE_PATH"] = str(instance)
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    from blog import create_app

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def shoot(base: str, out: Path, full_page: bool, scheme: str) -> list[Path]:
    """Screenshot the home page, the newest post (its top, and its end: the closing subscribe
    box and "Read More"), a search and the subscribe dialog at each size; return the files."""
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, (width, height, scale) in SIZES.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    device_scale_factor=scale,
                    color_scheme=scheme,
                )
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.goto(base + "/", wait_until="networkidle")
                post_url = page.locator(".card__title a").first.get_attribute("href")
                suffix = "" if scheme == "light" else f"-{scheme}"
                pages = (("home", "/"), ("post", post_url), ("search", "/search/?q=notes"))
                for name, url in (*pages, ("post-end", post_url), ("subscribe", "/")):
                    page.goto(base + url, wait_until="networkidle")
                    if name == "subscribe":  # the header's button opens the dialog
                        page.get_by_role("link", name="Subscribe").first.click()
                        page.locator("#subscribe-dialog[open]").wait_for()
                    if name == "post-end":  # the closing subscribe box and "Read More"
                        page.evaluate(LOAD_LAZY_IMAGES)
                        page.evaluate("document.querySelector('.cta').scrollIntoView()")
                    if full_page and name not in ("subscribe", "post-end"):  # lazy images
                        page.evaluate(LOAD_LAZY_IMAGES)
                    target = out / f"{name}-{size}{suffix}.png"
                    whole = full_page and name not in ("subscribe", "post-end")
                    page.screenshot(path=str(target), full_page=whole)
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--posts", type=int, default=36, help="demo posts to write")
    parser.add_argument("--full-page", action="store_true", help="whole page, not the viewport")
    parser.add_argument("--color-scheme", choices=["light", "dark", "both"], default="both")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="blog-shots-") as temp:
        instance = Path(temp) / "instance"
        fill_demo(instance, args.posts)
        server, base = serve(instance)
        try:
            schemes = ["light", "dark"] if args.color_scheme == "both" else [args.color_scheme]
            for scheme in schemes:
                for path in shoot(base, args.out, args.full_page, scheme):
                    print(path)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
