"""Keyframes first on the web page, on a phone (390x844) in Debian's chromium: ask for stills, re-roll
one, approve them, render; the cards show the stills, then the takes animated from them."""

from __future__ import annotations

import pytest
import test_web_page as web
from test_keyframes_ws import BOARD
from test_web_page import PHONE, controls_off_screen, wait_for

from storyboards.schema import Storyboard

# The browser fixtures and marks of the page's own test (Debian chromium, browser + slow).
live, page, pytestmark = web.live, web.page, web.pytestmark

STILLS_LOADED = ("[...document.querySelectorAll('.card .thumb img.still')].filter(i => i.complete && i.naturalWidth > 0)"
                 ".length === 2")


def still_url(page, n: int) -> str:
    return page.locator(".card").nth(n).locator("img.still").get_attribute("data-url")


@pytest.mark.parametrize("viewport", [PHONE])
@pytest.mark.timeout(240)
def test_keyframes_rerolled_approved_and_rendered_from_the_page(live, env, page, tmp_path, viewport):
    director, store, _, ann, _ = env
    director.settings.attempts_per_shot = 1
    pid = director.start_project("ann", Storyboard.parse(BOARD), "made by the test")
    page.goto(f"{live}/?token={ann}")
    page.wait_for_selector("#conn[data-state=open]")
    page.select_option("#project-select", pid)
    page.click("#tab-board")
    page.wait_for_selector(".card >> nth=1")

    page.click("#keyframes")
    wait_for(page, f"{STILLS_LOADED} && document.querySelectorAll('.card[data-still=proposed]').length === 2")
    assert page.locator("#approve-keyframes").is_visible()
    first = [still_url(page, 0), still_url(page, 1)]
    assert all(url.startswith(f"/media/{pid}/stills/") for url in first)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], "the page scrolls sideways"
    assert controls_off_screen(page, viewport["width"]) == []
    page.screenshot(path=str(tmp_path / "keyframes.png"))

    page.locator(".card").nth(1).locator(".reroll").click()
    wait_for(page, f"document.querySelectorAll('.card img.still')[1].dataset.url !== {first[1]!r} && {STILLS_LOADED}")
    assert still_url(page, 0) == first[0]

    page.click("#approve-keyframes")
    wait_for(page, "document.querySelectorAll('.card[data-still=approved]').length === 2 && "
                   "document.querySelector('#meta').textContent.startsWith('Version 2')")
    assert page.locator("#approve-keyframes").is_hidden()
    assert [page.locator(".card").nth(i).locator(".mode").inner_text() for i in (0, 1)] == ["from its still"] * 2
    assert all(s.mode == "i2v" for s in store.get_version(pid).storyboard.shots)
    page.reload()                                                    # the approved stills come back
    page.wait_for_selector("#conn[data-state=open]")
    page.click("#tab-board")
    wait_for(page, f"{STILLS_LOADED} && document.querySelectorAll('.card[data-still=approved]').length === 2")

    page.click("#render")
    wait_for(page, "!document.querySelector('#cut').hidden && "
                   "[...document.querySelectorAll('.card')].every(c => c.dataset.take)", timeout=180_000)
    assert page.locator(".card img.still:visible").count() == 0      # the takes replaced the stills
    assert store.list_cuts(pid)[-1] is not None
    page.screenshot(path=str(tmp_path / "rendered.png"))
    assert page.problems == [], page.problems
