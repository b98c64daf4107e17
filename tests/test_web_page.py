"""The web page in a real headless chromium (Debian's package, driven by Playwright's Python API).

A person's path: open the login link, type a brief, see the storyboard cards, render, watch the cut,
give feedback on one shot and see only that card change. Screenshots of each step are saved under
the test's tmp_path (printed at the end) for a person to look at.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BRIEF = "A 4-second film in 2 shots at 8 fps: rain on a tin roof at night, then a child running outside into the rain."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install -y chromium"),
]




@pytest.fixture
def live(live_port):
    return f"http://127.0.0.1:{live_port}"


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1,
                                      bypass_csp=True)  # lets wait_for_function evaluate; the page itself needs no eval
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda err: page.problems.append(f"page error: {err}"))
        page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def wait_for(page, condition: str, timeout: float = 30_000) -> None:
    """Wait until the JS `condition` holds; fail at once with the page's words if an error shows in the chat."""
    page.wait_for_function(f"({condition}) || document.querySelector('.msg.error') !== null", timeout=timeout)
    errors = page.locator(".msg.error")
    if errors.count():
        raise AssertionError(f"the page shows an error: {errors.last.inner_text()}")


def card_takes(page) -> dict[str, str]:
    return page.evaluate("Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.dataset.shot, c.dataset.take]))")


@pytest.mark.timeout(300)
def test_brief_render_feedback_in_the_browser(live, env, page, tmp_path):
    ann = env[3]
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def snap(name):
        page.screenshot(path=str(shots / name), full_page=False)

    # 1. The login link: the token is kept and taken out of the address bar.
    page.goto(f"{live}/?token={ann}")
    page.wait_for_selector("#conn[data-state=open]")
    assert "token" not in page.url
    assert page.evaluate("localStorage.getItem('reel-director-token')") == ann
    assert page.locator("#disclosure").inner_text().startswith("AI-generated")
    assert page.locator("#user").inner_text() == "ann"

    # 2. A brief: the director answers and the storyboard appears as cards.
    page.fill("#chat-input", BRIEF)
    page.press("#chat-input", "Enter")
    page.wait_for_selector(".msg.director >> nth=0")
    wait_for(page, "document.querySelectorAll('.card').length === 2")
    assert page.locator(".msg.user").inner_text() == BRIEF
    cards = page.locator(".card")
    assert cards.nth(0).locator(".num").inner_text() == "#1"
    assert cards.nth(0).locator(".dur").inner_text() == "2 s"
    assert cards.nth(0).locator(".chip").count() >= 2        # camera and framing
    assert page.locator("#render").is_enabled()
    # A small frame for a fast test, said the way a person would.
    page.fill("#chat-input", "360p")
    page.press("#chat-input", "Enter")
    wait_for(page, "document.querySelector('#meta').textContent.startsWith('Version 2')")
    snap("1-storyboard.png")

    # 3. Render: progress, a thumbnail and scores on every card, then the cut in the player.
    page.click("#render")
    page.wait_for_selector("#overall:not([hidden])")
    wait_for(page, "!document.querySelector('#cut').hidden", timeout=240_000)
    wait_for(page, "document.querySelector('#player').readyState >= 1")
    duration = page.evaluate("document.querySelector('#player').duration")
    assert 3.5 < duration < 12, duration
    page.wait_for_function("[...document.querySelectorAll('.card .thumb img')].every(i => i.complete && i.naturalWidth > 0)"
                           " && document.querySelectorAll('.card .thumb img').length === 2")
    before = card_takes(page)
    assert all(before.values()), before
    assert page.locator(".card .scores .pill").count() == 2
    kinds = page.eval_on_selector_all("#downloads a", "as => as.map(a => a.dataset.kind)")
    assert {"mp4", "srt", "vtt", "otio"} <= set(kinds)
    for link in page.eval_on_selector_all("#downloads a", "as => as.map(a => a.href)"):
        assert page.request.get(link).status == 200, link
    assert page.locator("#cut .ai-label").inner_text().startswith("AI-generated")
    snap("2-cut.png")

    # 4. One shot: its details and takes in a dialog; feedback on it alone.
    second = cards.nth(1)
    shot_id = second.get_attribute("data-shot")
    second.click()
    page.wait_for_selector("#shot-dialog[open] .take")
    assert page.locator("#shot-dialog .take.selected").count() == 1
    snap("3-shot-dialog.png")
    old_cut = page.get_attribute("#player", "data-cut")
    page.fill("#shot-feedback-input", "darker, with lightning")
    page.click("#shot-feedback button[type=submit]")
    wait_for(page, f"document.querySelector('#player').dataset.cut !== {old_cut!r}", timeout=240_000)
    page.wait_for_function("document.querySelector('#player').readyState >= 1")
    after = card_takes(page)
    changed = {sid for sid in after if after[sid] != before.get(sid)}
    assert changed == {shot_id}, (before, after)
    page.wait_for_function("[...document.querySelectorAll('.card .thumb img')].every(i => i.complete && i.naturalWidth > 0)")
    snap("4-after-feedback.png")

    # 5. A reload keeps the project: the cards, their takes and the cut come back from the server.
    page.reload()
    page.wait_for_function("document.querySelectorAll('.card').length === 2")
    page.wait_for_function("document.querySelector('#player').readyState >= 1")
    assert card_takes(page) == after
    assert page.locator(".msg.director").count() >= 3
    snap("5-reloaded.png")

    # 6. Drag the second card before the first: the director reorders the storyboard.
    first_id, second_id = (cards.nth(i).get_attribute("data-shot") for i in range(2))
    cards.nth(1).drag_to(cards.nth(0), target_position={"x": 10, "y": 60})
    try:
        wait_for(page, f"document.querySelector('.card').dataset.shot === {second_id!r} "
                       "&& document.querySelector('#meta').textContent.startsWith('Version 4')", timeout=60_000)
    finally:
        snap("6-reordered.png")
    assert page.locator(".msg.user").last.inner_text() == f"move shot {second_id} to the start"
    assert cards.nth(1).get_attribute("data-shot") == first_id
    assert cards.nth(0).locator(".num").inner_text() == "#1"

    assert page.problems == [], page.problems
    print(f"\nscreenshots: {shots}")


@pytest.mark.timeout(120)
def test_a_refused_render_shows_the_safety_notice_plainly(live, env, page, tmp_path):
    page.goto(f"{live}/?token={env[3]}")
    page.wait_for_selector("#conn[data-state=open]")
    page.fill("#chat-input", "A 4-second film in 2 shots at 8 fps: Tom Hanks eating a sandwich on a beach.")
    page.press("#chat-input", "Enter")
    page.wait_for_function("document.querySelectorAll('.card').length === 2")
    page.click("#render")
    page.wait_for_selector("#safety:not([hidden])")
    notice = page.locator("#safety").inner_text()
    assert "needs consent" in notice.lower() and "Tom Hanks" in notice
    page.wait_for_selector(".msg.error")
    assert "(refused)" in page.locator(".msg.error").last.inner_text()
    assert page.locator("#render").is_enabled() and page.locator("#cut").is_hidden()
    page.screenshot(path=str(tmp_path / "safety-notice.png"))
    assert page.problems == [], page.problems
