"""Screenshots of the web channel for the README: `python -m kbase.bench.web_screenshots [--out docs]`.

Starts `bot.py serve` over the knowledge base of the current environment (POLICYBOT_DATA_DIR, …) with a throwaway
staff token, then drives Debian's chromium with Playwright (a test dependency): the citizen page at phone width with
an answer and an expanded citation, and the staff page's deadline timeline.
"""
from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from kbase.bench.webserver import REPO_DIR, ServeProcess, serve_env

CHROMIUM = "/usr/bin/chromium"
QUESTION = "煤电结构优化升级由哪个部门牵头？"


def take(out: Path, today: str) -> list[Path]:
    from playwright.sync_api import sync_playwright
    token = secrets.token_urlsafe(24)
    out.mkdir(parents=True, exist_ok=True)
    citizen, timeline = out / "web-citizen.png", out / "web-staff-timeline.png"
    with ServeProcess(serve_env(inherit=True, staff_tokens=token, today=today)) as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, base_url=server.url)
        phone.goto("/")
        phone.get_by_label("您的问题").fill(QUESTION)
        phone.get_by_label("您的问题").press("Enter")
        phone.locator("article.turn .citation").first.wait_for()
        phone.get_by_text("展开完整条款原文").first.click()
        phone.locator(".clause-text").first.wait_for()
        phone.get_by_label("您的问题").blur()
        phone.screenshot(path=str(citizen), full_page=True)
        desk = browser.new_page(viewport={"width": 1100, "height": 900}, base_url=server.url)
        desk.goto("/staff")
        desk.get_by_label("工作人员令牌").fill(token)
        desk.get_by_role("button", name="登录").click()
        desk.locator("article.task").first.wait_for()
        desk.wait_for_load_state("networkidle")
        desk.locator("section.timeline").screenshot(path=str(timeline))
        browser.close()
    return [citizen, timeline]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_DIR / "docs")
    parser.add_argument("--today", default="2025-03-01", help="pinned date, so deadlines show both states")
    args = parser.parse_args(argv)
    for path in take(args.out, args.today):
        print(path)


if __name__ == "__main__":
    main()
