"""The web page in a real headless chromium (Debian's package, driven by Playwright's Python API).

A person's path, on a laptop (1440x900) and a phone (390x844): a brief, card edits, a reference image,
render, the critic's reasons and fixes, takes played and compared, cancel, history and going back, and a
reload in the middle of a render. Screenshots are saved under the test's tmp_path; three of them are
copied to docs/ for the README when DIRECTOR_DOCS_SCREENSHOTS=1.
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


VIEWPORT = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def viewport():
    return VIEWPORT


@pytest.fixture
def page(tmp_path, viewport):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport=viewport, device_scale_factor=1, has_touch=viewport is PHONE,
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


def write_png(path, w=480, h=320):
    """A photo-like test picture: a gradient sky over a field of coloured blocks (texture to move over)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w]
    img = np.dstack([x * 255 // w, y * 255 // h, np.full_like(x, 180)]).astype(np.uint8)
    for _ in range(60):
        cx, cy, r = int(rng.integers(0, w)), int(rng.integers(h // 3, h)), int(rng.integers(4, 24))
        cv2.circle(img, (cx, cy), r, [int(v) for v in rng.integers(0, 255, 3)], -1)
    cv2.imwrite(str(path), img)
    return path


def keep_for_docs(src, name):
    """Copy a screenshot to docs/ for the README (only when asked: tests do not write into the tree)."""
    import os
    from pathlib import Path

    if os.environ.get("DIRECTOR_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(src, Path(__file__).resolve().parents[1] / "docs" / name)


# A file put into the page as a person's drop or paste would: a real File in a real DataTransfer.
GIVE_FILE = """async ([b64, selector, how]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], "given.png", { type: "image/png" }));
    const target = document.querySelector(selector);
    if (how === "paste") { target.focus(); target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })); return; }
    for (const type of ["dragenter", "dragover", "drop"])
        target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


def give_file(page, path, selector, how):
    import base64

    page.evaluate(GIVE_FILE, [base64.b64encode(path.read_bytes()).decode(), selector, how])


def meta_version(n: int) -> str:
    return f"document.querySelector('#meta').textContent.startsWith('Version {n} ')"


@pytest.mark.timeout(300)
def test_direct_a_film_from_the_page(live, env, page, tmp_path, monkeypatch):
    director, store, _, ann, _ = env
    director.settings.attempts_per_shot = 1   # one take per shot keeps the test's clock short
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def snap(name):
        page.screenshot(path=str(shots / name), full_page=False)
        return shots / name

    # The login link: the token is kept and taken out of the address bar.
    page.goto(f"{live}/?token={ann}")
    page.wait_for_selector("#conn[data-state=open]")
    assert "token" not in page.url
    assert page.locator("#disclosure").inner_text().startswith("AI-generated")
    assert page.locator("#user").inner_text() == "ann"
    assert page.locator("#approve").count() == 0          # no button without a purpose

    # A brief: the storyboard as cards named by position, "Shot N" and nothing else.
    page.fill("#chat-input", BRIEF)
    page.press("#chat-input", "Enter")
    wait_for(page, "document.querySelectorAll('.card').length === 2")
    cards = page.locator(".card")
    ids = [cards.nth(i).get_attribute("data-shot") for i in range(2)]
    assert [cards.nth(i).locator(".num").inner_text() for i in range(2)] == ["Shot 1", "Shot 2"]
    assert not any(f"#{n}" in cards.nth(n - 1).inner_text() for n in (1, 2))
    page.fill("#chat-input", "360p")
    page.press("#chat-input", "Enter")
    wait_for(page, meta_version(2))
    pid = page.evaluate("localStorage.getItem('reel-director-project')")
    assert " · " in page.locator(f"#project-select option[value='{pid}']").inner_text()   # titles carry a date

    # 4. A card edit is a new version; keyboard reorder; undo.
    cards.nth(1).locator(".edit").click()
    page.wait_for_selector("#shot-dialog[open]")
    page.fill("#shot-edit [name=subject]", "a red kite")
    page.select_option("#shot-edit [name=camera]", "orbit")
    page.click("#shot-edit button[type=submit]")
    wait_for(page, meta_version(3))
    assert "a red kite" in cards.nth(1).locator(".subject").inner_text()
    assert store.get_version(pid).storyboard.shot(ids[1]).camera == "orbit"
    cards.nth(1).focus()
    page.keyboard.press("Alt+ArrowLeft")
    wait_for(page, f"{meta_version(4)} && document.querySelector('.card').dataset.shot === {ids[1]!r}")
    assert page.evaluate("document.activeElement.dataset.shot") == ids[1]     # focus stays on the moved card
    page.click("#undo")
    wait_for(page, f"{meta_version(5)} && document.querySelector('.card').dataset.shot === {ids[0]!r}")
    cards.nth(1).drag_to(cards.nth(0), target_position={"x": 10, "y": 60})         # and with the mouse
    wait_for(page, f"{meta_version(6)} && document.querySelector('.card').dataset.shot === {ids[1]!r}")
    assert page.locator(".msg.user").last.inner_text() == "move shot 2 to position 1"
    page.click("#undo")
    wait_for(page, f"{meta_version(7)} && document.querySelector('.card').dataset.shot === {ids[0]!r}")

    # 2. An image on card 1: the shot becomes image-to-video from it.
    cards.nth(0).locator("input.card-file").set_input_files(str(write_png(tmp_path / "kite.png")))
    wait_for(page, meta_version(8))
    assert cards.nth(0).locator(".mode").inner_text() == "from your image"
    give_file(page, tmp_path / "kite.png", ".card:nth-child(2)", "drop")           # dropped from the desktop
    wait_for(page, meta_version(9))
    assert cards.nth(1).locator(".mode").inner_text() == "from your image"
    snap("1-edited.png")

    # 3. Render with a critic strict about sharpness, so both takes fail: the reasons in words, labelled chips, the fixes.
    monkeypatch.setenv("DIRECTOR_CRITIC_SHARPNESS_MIN", "400")   # our test picture measures ~175
    page.click("#render")
    wait_for(page, "!document.querySelector('#cut').hidden", timeout=240_000)
    assert store.selected_take(pid, ids[0]).params["reference_size"] == [480, 320]   # made from our image
    assert page.locator(".card .progress[role=progressbar][aria-valuenow='100']").count() == 2
    assert page.get_attribute("#overall .progress", "role") == "progressbar"
    problems = cards.nth(0).locator(".problems li").all_inner_texts()
    assert problems and all(p.startswith("Shot 1: ") for p in problems), problems
    assert any("sharp" in p.lower() or "blur" in p.lower() for p in problems), problems
    chip = cards.nth(0).locator(".metric.fail").first
    assert chip.inner_text().startswith("✗")                       # not by colour alone
    label = chip.get_attribute("aria-label")
    assert "failed" in label and ("higher is better" in label or "lower is better" in label), label
    assert page.locator("#cut-verdict").inner_text() == "✗ critic: fail"
    assert page.locator("#cut-problems li").count() == 2
    assert cards.nth(0).locator(".regen").inner_text() == "Regenerate shot 1"
    page.wait_for_function("[...document.querySelectorAll('.card .thumb img')].every(i => i.complete && i.naturalWidth > 0)")
    keep_for_docs(snap("2-critique.png"), "studio-critique.png")

    cards.nth(1).locator(".accept").click()
    wait_for(page, "document.querySelectorAll('#cut-problems li').length === 1")
    assert cards.nth(1).locator(".pill.accepted").inner_text() == "✓ accepted as it is"
    monkeypatch.delenv("DIRECTOR_CRITIC_SHARPNESS_MIN")
    old_cut = page.get_attribute("#player", "data-cut")
    cards.nth(0).locator(".regen").click()
    wait_for(page, f"document.querySelector('#player').dataset.cut !== {old_cut!r}", timeout=120_000)
    assert len(store.takes_for_shot(pid, ids[0])) == 2

    # 5. Takes: play one, and two side by side on the same frame.
    cards.nth(0).click()
    page.wait_for_function("document.querySelectorAll('#shot-takes .take video').length === 2")
    page.evaluate("document.querySelector('#shot-takes video').play()")
    page.wait_for_function("document.querySelector('#shot-takes video').currentTime > 0.2")
    for box in page.locator("#shot-takes .compare-pick input").all():
        box.check()
    page.wait_for_selector("#compare-takes:not([hidden]) video >> nth=1")
    page.click("#compare-takes .compare-play")
    page.wait_for_function("[...document.querySelectorAll('#compare-takes video')].every(v => v.currentTime > 0.3)")
    drift = page.evaluate("(() => { const [a, b] = document.querySelectorAll('#compare-takes video');"
                          " return Math.abs(a.currentTime - b.currentTime); })()")
    assert drift < 0.3, drift
    page.locator("#shot-takes details.plot summary").first.click()                  # the critique plot
    page.wait_for_function("(i => i && i.complete && i.naturalWidth > 200)(document.querySelector('#shot-takes details.plot img'))")
    snap("3-takes.png")
    page.keyboard.press("Escape")

    # 1. Cancel a re-render started from the chat (the path that used to ignore it).
    cut_before = page.get_attribute("#player", "data-cut")
    page.fill("#chat-input", "make it darker")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#cancel:enabled")
    page.click("#cancel")
    wait_for(page, "[...document.querySelectorAll('.msg.director')].some(m => m.textContent.includes('was cancelled'))")
    assert page.get_attribute("#player", "data-cut") == cut_before
    page.wait_for_selector("#cancel:disabled")

    # 5. History: every version with its reason; go back to the one with the image (a new version).
    page.click("#history")
    page.wait_for_function("document.querySelectorAll('#versions .version').length >= 10")
    assert "shot 1: made from your image" in page.locator("#versions .version[data-version='8']").inner_text()
    cuts = page.locator("#versions .compare-pick input")
    assert cuts.count() >= 2
    cuts.nth(0).check()
    cuts.nth(1).check()
    page.wait_for_selector("#compare-versions:not([hidden]) video >> nth=1")
    page.click("#versions .version[data-version='8'] .restore")
    wait_for(page, "document.querySelector('#meta').textContent.includes('back to version 8')")
    # Shot 1 looks as it did in version 8, whose take exists: it shows at once; shot 2 (no take yet) says so.
    assert cards.nth(0).locator(".thumb img").count() == 1
    assert cards.nth(1).locator(".stage").inner_text() == "changed: render to update"
    snap("4-history.png")

    # 6. A vertical re-render: cards drop their 16:9 pictures at once; a reload mid-render restores it.
    page.fill("#chat-input", "make it vertical, 16 seconds")
    page.press("#chat-input", "Enter")
    page.wait_for_function("document.querySelector('.card .stage').textContent.startsWith('generating')", timeout=60_000)
    assert page.locator(".card .thumb img").count() == 0
    page.reload()
    page.wait_for_function("document.querySelectorAll('.card').length === 2")
    assert page.locator("#cancel").is_enabled() and page.locator("#overall").is_visible()
    assert page.locator("#overall .label").inner_text().strip() != ""
    wait_for(page, "!document.querySelector('#cancel').disabled && document.querySelector('#player').dataset.cut", timeout=5_000)
    wait_for(page, "document.querySelector('#cancel').disabled", timeout=240_000)
    page.wait_for_function("[...document.querySelectorAll('.card .thumb img')].length === 2 && "
                           "[...document.querySelectorAll('.card .thumb img')].every(i => i.complete && i.naturalHeight > i.naturalWidth)")
    keep_for_docs(snap("5-desktop.png"), "studio-desktop.png")
    assert page.problems == [], page.problems
    print(f"\nscreenshots: {shots}")


def controls_off_screen(page, width: int) -> list[str]:
    return page.evaluate("""(w) => [...document.querySelectorAll('button, select, input:not([type=file]):not([type=checkbox]), textarea, label.tool, a')]
        .filter(n => n.offsetParent !== null && !n.closest('dialog:not([open])'))
        .map(n => [n, n.getBoundingClientRect()])
        .filter(([n, r]) => r.width > 0 && (r.left < -1 || r.right > w + 1))
        .map(([n, r]) => `${n.tagName.toLowerCase()}#${n.id}.${n.className} ${Math.round(r.left)}..${Math.round(r.right)}`)""", width)


@pytest.mark.parametrize("viewport", [PHONE])
@pytest.mark.timeout(180)
def test_the_studio_on_a_phone(live, env, page, tmp_path, viewport):
    director, store, _, ann, _ = env
    director.settings.attempts_per_shot = 1
    pid = director.user_message("ann", BRIEF)
    director.feedback("ann", pid, "360p", render=False)
    director.render("ann", pid)
    width = viewport["width"]

    page.goto(f"{live}/?token={ann}")
    page.wait_for_selector("#conn[data-state=open]")
    page.select_option("#project-select", pid)
    page.wait_for_selector("#messages .msg.director")

    def fits():
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        assert controls_off_screen(page, width) == []

    assert page.locator("#chat-input").is_visible() and page.locator("#cards").is_hidden()   # the chat tab
    fits()
    page.click("#tab-board")
    page.wait_for_selector(".card .thumb img")
    assert page.locator("#new-film").is_visible() and page.locator("#cancel").is_visible()
    fits()
    page.wait_for_function("[...document.querySelectorAll('.card .thumb img')].every(i => i.complete && i.naturalWidth > 0)")
    keep_for_docs(page.screenshot(path=str(tmp_path / "phone.png")) and tmp_path / "phone.png", "studio-phone.png")

    page.locator(".card").nth(1).locator(".edit").click()
    page.wait_for_selector("#shot-dialog[open]")
    box = page.locator("#shot-dialog").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] <= viewport["height"], box
    assert controls_off_screen(page, width) == []
    page.fill("#shot-edit [name=lighting]", "neon glow")
    page.click("#shot-edit button[type=submit]")
    wait_for(page, meta_version(3))

    # The chat takes an attachment ("use this for shot 2"); a card takes a pasted image.
    picture = write_png(tmp_path / "picture.png")
    page.click("#tab-chat")
    page.set_input_files("#chat-file", str(picture))
    assert "picture.png" in page.locator("#attachment").inner_text()
    page.fill("#chat-input", "use this for shot 2")
    page.click("#send")
    wait_for(page, meta_version(4))
    page.click("#tab-board")
    assert page.locator(".card").nth(1).locator(".mode").inner_text() == "from your image"
    give_file(page, picture, ".card:nth-child(1)", "paste")
    wait_for(page, meta_version(5))
    assert page.locator(".card").nth(0).locator(".mode").inner_text() == "from your image"
    # Add a shot, then remove it again.
    page.click("#add-shot")
    wait_for(page, f"{meta_version(6)} && document.querySelectorAll('.card').length === 3")
    fits()
    page.locator(".card").nth(2).locator(".remove").click()
    wait_for(page, f"{meta_version(7)} && document.querySelectorAll('.card').length === 2")
    page.click("#history")
    page.wait_for_selector("#versions .version >> nth=6")
    box = page.locator("#history-dialog").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert controls_off_screen(page, width) == []
    page.screenshot(path=str(tmp_path / "phone-history.png"))
    assert page.problems == [], page.problems

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


def test_the_storyboard_header_says_the_delivered_length(live, env, page):
    """A 6 s film with a title card is 6 s on the page, though its shots add up to 4 s; crossfades then
    share frames between shots, and the header follows the film, not the sum of its shots."""
    store = env[1]
    page.goto(f"{live}/?token={env[3]}")
    page.wait_for_selector("#conn[data-state=open]")
    page.fill("#chat-input", "A 6-second film in 2 shots at 8 fps with a title card: rain on a tin roof at night, "
                             "then a child running outside into the rain.")
    page.press("#chat-input", "Enter")
    wait_for(page, meta_version(1))
    pid = page.evaluate("localStorage.getItem('reel-director-project')")

    def header_length() -> str:
        from agent.planner.length import film_seconds

        seconds = film_seconds(store.get_version(pid).storyboard)
        return f"{seconds:g}" if seconds == int(seconds) else f"{seconds:.2f}"   # the page's fmt()

    sb = store.get_version(pid).storyboard
    assert sb.title_card and sum(s.duration for s in sb.shots) < 5
    assert header_length() == "6" and " · 6 s · " in page.locator("#meta").inner_text()
    page.fill("#chat-input", "crossfades between the shots")
    page.press("#chat-input", "Enter")
    wait_for(page, meta_version(2))
    assert store.get_version(pid).storyboard.shots[0].transition == "crossfade"
    assert f" · {header_length()} s · " in page.locator("#meta").inner_text()
    page.reload()                                   # a reloaded page says the same, from the project's state
    wait_for(page, meta_version(2))
    assert f" · {header_length()} s · " in page.locator("#meta").inner_text()
    assert page.problems == [], page.problems
