"""The pages in a real headless browser: Playwright driving Debian's chromium at phone width (390 x 844).

Playwright's own browser download cannot run here, so the tests use /usr/bin/chromium (`.ci/run` installs it);
without it they fail, they do not skip.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.channels.conftest import STAFF_TOKEN

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
EXPECTED_REFUSALS = ("status of 401", "status of 429")  # a wrong login and the rate limit are what some tests do


def problems_of(page) -> list[str]:
    """Script errors and console errors (CSP violations, missing files) other than the refusals tests provoke."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and not any(
        expected in message.text for expected in EXPECTED_REFUSALS) and problems.append(message.text))
    return problems


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium fonts-noto-cjk` "
                    "(.ci/run does this)", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, web_server):
    context = browser.new_context(viewport=PHONE, base_url=web_server.url, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    problems = problems_of(tab)
    yield tab
    context.close()
    assert problems == []


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_question_submitted_with_enter_shows_the_answer_and_a_citation_that_expands(page):
    page.goto("/")
    box = page.get_by_label("您的问题")
    box.fill("开封市2025年细颗粒物浓度目标是多少？")
    box.press("Enter")
    turn = page.locator("article.turn").first
    turn.locator(".citation").first.wait_for()
    assert "40微克/立方米" in turn.locator(".answer-text").inner_text()
    assert "开封市环境质量提升行动方案" in turn.locator(".citation-title").first.inner_text()
    assert page.evaluate("document.activeElement.id") == "question" and box.input_value() == ""
    turn.get_by_text("展开完整条款原文").first.click()
    clause = turn.locator(".clause-text").first
    clause.wait_for()
    assert "优良天数比例达到70%" in clause.inner_text()  # the whole clause, beyond the quoted words
    assert fits_the_phone(page)


def test_an_example_question_can_be_tapped_and_not_found_is_said_plainly(page):
    page.goto("/")
    page.get_by_role("button", name="煤电结构优化升级由哪个部门牵头？").click()
    page.locator("article.turn .citation").first.wait_for()
    assert "市发展改革委" in page.locator("article.turn .answer-text").first.inner_text()
    page.get_by_label("您的问题").fill("开封市的出租车起步价是多少？")
    page.get_by_label("您的问题").press("Enter")
    page.locator("article.status-not_found").wait_for()
    assert page.locator("article.status-not_found .badge").inner_text() == "未找到明确依据"
    assert fits_the_phone(page)


def test_a_question_carrying_html_is_shown_as_text_and_runs_nothing(page):
    hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>开封市2025年细颗粒物浓度目标是多少？'
    page.goto("/")
    page.get_by_label("您的问题").fill(hostile)
    page.get_by_label("您的问题").press("Enter")
    asked = page.locator("article.turn .asked").first
    asked.wait_for()
    page.locator("article.turn .answer-text").first.wait_for()
    assert asked.inner_text() == hostile
    assert page.locator("#answers img, #answers script").count() == 0
    assert page.evaluate("window.pwned") is None


def test_the_rate_limit_message_is_plain(browser, web_env):
    from kbase.bench.webserver import ServeProcess
    with ServeProcess(web_env(public_questions_per_minute="1")) as server:
        context = browser.new_context(viewport=PHONE, base_url=server.url)
        page = context.new_page()
        problems = problems_of(page)
        page.goto("/")
        for asked in (1, 2):
            page.get_by_label("您的问题").fill("开封市2025年细颗粒物浓度目标是多少？")
            page.get_by_label("您的问题").press("Enter")
            expect(page.locator("article.turn")).to_have_count(asked)
        alert = page.locator("article.status-error .error")
        alert.wait_for()
        assert "提问太频繁了" in alert.inner_text() and "秒后再试" in alert.inner_text()
        context.close()
    assert problems == []


def test_staff_log_in_and_see_the_ledger_and_the_timeline(page):
    page.goto("/staff")
    page.get_by_label("工作人员令牌").fill("wrong-token")
    page.get_by_role("button", name="登录").click()
    assert "令牌不正确" in page.get_by_role("alert").inner_text()
    page.get_by_label("工作人员令牌").fill(STAFF_TOKEN)
    page.get_by_role("button", name="登录").click()
    page.locator("article.task").first.wait_for()
    assert STAFF_TOKEN not in page.url
    assert page.locator("article.task").count() == 4
    assert "开封市生态环境局内部督办工作安排" in page.locator("#ledger").inner_text()  # internal documents too
    assert page.locator(".state-overdue").count() == 2 and page.locator(".state-upcoming").count() == 1
    timeline = page.locator("img#timeline")
    expect(timeline).to_have_js_property("complete", True)
    assert timeline.evaluate("img => img.naturalWidth") > 0
    page.get_by_label("部门（可用简称，如 发改委、环保局）").fill("发改委")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("article.task")).to_have_count(1)
    assert "推进煤电结构优化升级" in page.locator("article.task").inner_text() and "dept=" in page.url
    page.get_by_label("只看期限已过的任务").check()
    page.get_by_label("部门（可用简称，如 发改委、环保局）").fill("")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("article.task")).to_have_count(2)
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("工作人员令牌").wait_for()


def test_the_page_works_from_the_keyboard_with_a_visible_focus(page):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到提问框"
    for _ in range(6):  # skip link, question box, submit button, then the first example
        if page.evaluate("document.activeElement.className") == "example":
            break
        page.keyboard.press("Tab")
    focused = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                            " return [document.activeElement.textContent, s.outlineStyle, s.outlineWidth]; })()")
    assert focused == ["开封市2025年PM2.5目标是多少？", "solid", "3px"]
    page.keyboard.press("Enter")
    page.locator("article.turn .citation").first.wait_for()
    assert "40微克/立方米" in page.locator("article.turn .answer-text").inner_text()


def test_leads_are_shown_as_leads_not_as_an_answer(page):
    page.goto("/")
    page.get_by_label("您的问题").fill("饮用水水源地保护的联系电话是多少？")  # the clause states no number
    page.get_by_label("您的问题").press("Enter")
    turn = page.locator("article.status-related")
    turn.wait_for()
    assert turn.locator(".badge").inner_text().startswith("未找到直接答案")
    assert turn.locator(".answer-text").inner_text().startswith("未找到直接规定")
    assert turn.locator(".citations h3").inner_text().startswith("相关条款（不是答案")
    assert "加强饮用水水源地保护" in turn.locator(".citation").first.inner_text()
    assert fits_the_phone(page)
