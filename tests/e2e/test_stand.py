"""The music stand in a real browser: page turns by key, tap and swipe, preloading, zoom, two-up, night mode, pedal
keys the reader maps, half-page turns and the song's recording."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

APP = ["tests/e2e/stand_app.py"]
SHOWN = "[data-testid=stand-slot] img"


@pytest.fixture
def stand_url(session_live_server) -> str:
    return session_live_server(APP)


def open_stand(context: Any, url: str, query: str = "") -> Page:
    page = context.new_page()
    page.goto(url + "/" + query)
    expect(page.get_by_test_id("stand")).to_have_attribute("data-ready", re.compile(r"\d"))
    return page


def stand(page: Page):
    return page.get_by_test_id("stand")


def expect_page(page: Page, index: int, chart: str = "a") -> None:
    expect(stand(page)).to_have_attribute("data-page", str(index))
    image = page.locator(SHOWN).first
    expect(image).to_have_attribute("data-index", str(index))
    expect(image).to_have_attribute("src", re.compile(rf"/charts/{chart}/{index}\?"))


def viewport(page: Page) -> tuple[float, float]:
    size = page.viewport_size
    assert size
    return size["width"], size["height"]


def touch(page: Page, kind: str, points: list[tuple[float, float]]) -> None:
    cdp = page.context.new_cdp_session(page)
    touch_points = [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})
    cdp.detach()


def swipe(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 6) -> None:
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def pinch(page: Page, center: tuple[float, float], from_gap: float, to_gap: float, steps: int = 6) -> None:
    cdp = page.context.new_cdp_session(page)
    cx, cy = center

    def points(gap: float) -> list[dict[str, float]]:
        return [{"x": cx - gap / 2, "y": cy, "id": 0}, {"x": cx + gap / 2, "y": cy, "id": 1}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(from_gap)})
    for step in range(1, steps + 1):
        gap = from_gap + (to_gap - from_gap) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points(gap)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def open_toolbar(page: Page) -> None:
    width, height = viewport(page)
    page.touchscreen.tap(width / 2, height / 2)
    expect(page.get_by_test_id("stand-toolbar")).to_be_visible()


def test_pedal_and_keyboard_keys_turn_pages(phone, stand_url):
    page = open_stand(phone, stand_url)
    expect_page(page, 0)
    for key, index in [
        ("ArrowRight", 1),
        ("Space", 2),
        ("PageDown", 3),
        ("ArrowLeft", 2),
        ("PageUp", 1),
        ("ArrowDown", 2),
        ("ArrowUp", 1),
        ("Enter", 2),
        ("Backspace", 1),
        ("Shift+Space", 0),
        ("End", 4),
        ("ArrowRight", 4),
        ("Home", 0),
        ("ArrowLeft", 0),
    ]:
        page.keyboard.press(key)
        expect_page(page, index)
    expect(page.locator(SHOWN)).to_have_count(1)


def test_keys_are_left_alone_while_typing(phone, stand_url):
    page = open_stand(phone, stand_url)
    notes = page.locator("input[data-testid=notes], [data-testid=notes] input")
    notes.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    expect(notes).to_have_value(" ")
    notes.blur()
    page.keyboard.press("ArrowRight")
    expect_page(page, 1)  # not 3: the keys typed into the input did not turn


def test_tapping_the_side_thirds_turns_and_the_middle_shows_the_toolbar(phone, stand_url):
    page = open_stand(phone, stand_url)
    width, height = viewport(page)
    page.touchscreen.tap(width * 0.9, height / 2)
    expect_page(page, 1)
    page.touchscreen.tap(width * 0.8, height * 0.2)
    expect_page(page, 2)
    page.touchscreen.tap(width * 0.1, height * 0.8)
    expect_page(page, 1)
    open_toolbar(page)
    expect(page.get_by_test_id("stand-count")).to_have_text("2 / 5")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stand-toolbar")).to_be_hidden()


def test_swipes_turn_but_vertical_drags_do_not(phone, stand_url):
    page = open_stand(phone, stand_url)
    width, height = viewport(page)
    swipe(page, (width * 0.8, height / 2), (width * 0.2, height / 2 + 10))
    expect_page(page, 1)
    swipe(page, (width * 0.8, height / 2), (width * 0.2, height / 2))
    expect_page(page, 2)
    swipe(page, (width * 0.2, height / 2), (width * 0.8, height / 2))
    expect_page(page, 1)
    swipe(page, (width * 0.5, height * 0.8), (width * 0.55, height * 0.2))  # vertical: no turn
    page.keyboard.press("ArrowRight")
    expect_page(page, 2)


def test_next_page_is_decoded_ahead_and_turning_fetches_nothing(phone, stand_url):
    page = open_stand(phone, stand_url)
    root = stand(page)
    expect(root).to_have_attribute("data-ready", "0,1,2")  # shown page plus the next two, decoded
    fetched = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in fetched if "/charts/a/1?" in url], fetched
    assert not [url for url in fetched if "/charts/a/3?" in url], "preloads only two pages ahead"

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # Turn and look at the shown image in the same task: it is the preloaded, already decoded node.
    shown = page.evaluate(
        """() => {
            document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
            const img = document.querySelector('[data-testid=stand-slot] img');
            return { index: img.dataset.index, complete: img.complete, width: img.naturalWidth, src: img.currentSrc };
        }"""
    )
    assert shown["index"] == "1" and shown["complete"] and shown["width"] > 0, shown
    expect_page(page, 1)
    expect(root).to_have_attribute("data-ready", "0,1,2,3")  # and the next one is on its way
    assert not [url for url in requests if "/charts/a/1?" in url], requests
    after = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert len([url for url in after if "/charts/a/1?" in url]) == 1
    assert [url for url in requests if "/charts/a/3?" in url], "turning preloads the page after next"


def test_double_tap_and_pinch_zoom_reset_on_turn(phone, stand_url):
    page = open_stand(phone, stand_url)
    root = stand(page)
    width, height = viewport(page)
    page.touchscreen.tap(width / 2, height / 2)
    page.touchscreen.tap(width / 2, height / 2)
    expect(root).to_have_attribute("data-zoom", "2.00")
    expect(page.get_by_test_id("stand-toolbar")).to_be_hidden()
    swipe(page, (width * 0.6, height / 2), (width * 0.4, height / 2))  # pans while zoomed, no turn
    expect(root).to_have_attribute("data-zoom", "2.00")
    expect(root).to_have_attribute("data-page", "0")
    page.keyboard.press("ArrowRight")
    expect_page(page, 1)
    expect(root).to_have_attribute("data-zoom", "1.00")

    pinch(page, (width / 2, height / 2), 60, 180)
    expect(root).to_have_attribute("data-zoom", "3.00")
    page.touchscreen.tap(width / 2, height / 2)
    page.touchscreen.tap(width / 2, height / 2)  # double tap while zoomed: back to fit
    expect(root).to_have_attribute("data-zoom", "1.00")


def test_night_mode_inverts_the_pages(phone, stand_url):
    page = open_stand(phone, stand_url)
    root = stand(page)
    image = page.locator(SHOWN).first
    assert "invert" not in image.evaluate("img => getComputedStyle(img).filter")
    open_toolbar(page)
    night = page.get_by_test_id("stand-night")
    expect(night).to_have_attribute("aria-pressed", "false")
    night.click()
    expect(root).to_have_class(re.compile(r"\bsl-night\b"))
    expect(night).to_have_attribute("aria-pressed", "true")
    assert "invert(1)" in image.evaluate("img => getComputedStyle(img).filter")
    assert root.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(0, 0, 0)"
    expect(page.get_by_test_id("night")).to_have_text("True")  # the server heard it
    night.click()
    expect(root).not_to_have_class(re.compile(r"\bsl-night\b"))


def test_server_can_start_in_night_mode(phone, stand_url):
    page = open_stand(phone, stand_url, "?night=1&start=3")
    expect(stand(page)).to_have_class(re.compile(r"\bsl-night\b"))
    expect_page(page, 3)


def test_landscape_tablet_shows_two_pages_and_turns_by_two(tablet_landscape, stand_url):
    page = open_stand(tablet_landscape, stand_url)
    root = stand(page)
    expect(root).to_have_attribute("data-per-view", "2")
    shown = page.locator(SHOWN)
    expect(shown).to_have_count(2)
    left, right = shown.nth(0).bounding_box(), shown.nth(1).bounding_box()
    assert left and right
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 1
    page.keyboard.press("ArrowRight")
    expect_page(page, 2)
    expect(shown.nth(1)).to_have_attribute("data-index", "3")
    page.keyboard.press("PageDown")
    expect_page(page, 4)
    expect(shown).to_have_count(1)
    page.keyboard.press("PageUp")
    expect_page(page, 2)
    open_toolbar(page)
    expect(page.get_by_test_id("stand-count")).to_have_text("3–4 / 5")
    expect(page.get_by_test_id("stand-half")).to_be_disabled()  # two pages side by side turn whole
    page.get_by_test_id("stand-two-up").click()  # force one page
    expect(root).to_have_attribute("data-per-view", "1")
    expect(shown).to_have_count(1)


def test_portrait_tablet_shows_one_page(tablet, stand_url):
    page = open_stand(tablet, stand_url)
    expect(stand(page)).to_have_attribute("data-per-view", "1")
    expect(page.locator(SHOWN)).to_have_count(1)


def test_fit_to_width_scrolls_within_the_page(tablet_landscape, stand_url):
    page = open_stand(tablet_landscape, stand_url)
    open_toolbar(page)
    page.get_by_test_id("stand-two-up").click()
    page.get_by_test_id("stand-fit").click()
    expect(page.get_by_test_id("stand-fit")).to_have_attribute("aria-pressed", "true")
    width, _ = viewport(page)
    image = page.locator(SHOWN).first
    expect(image).to_have_js_property("offsetWidth", width)
    scroller = page.get_by_test_id("stand-viewport")
    assert scroller.evaluate("el => el.scrollHeight > el.clientHeight")
    scroller.evaluate("el => { el.scrollTop = 300 }")
    page.keyboard.press("ArrowRight")
    expect_page(page, 1)
    expect(scroller).to_have_js_property("scrollTop", 0)


def test_page_change_reaches_the_server(phone, stand_url):
    page = open_stand(phone, stand_url)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect_page(page, 2)
    expect(page.get_by_test_id("last-page")).to_have_text("2")


def test_next_song_swaps_the_chart_in_place(phone, stand_url):
    page = open_stand(phone, stand_url)
    page.keyboard.press("ArrowRight")
    expect_page(page, 1)
    open_toolbar(page)
    page.get_by_test_id("stand-next-song").click()
    expect(page.get_by_test_id("last-song-request")).to_have_text("next")
    root = stand(page)
    expect(root).to_have_attribute("data-pages", "3")
    expect(root).to_have_attribute("aria-label", "Chart: Blue Bossa")
    expect_page(page, 0, chart="b")
    expect(page.locator(SHOWN)).to_have_attribute("alt", "Blue Bossa, page 1 of 3")
    page.keyboard.press("End")
    expect_page(page, 2, chart="b")


def test_close_tells_the_server_and_unmounting_releases_the_wake_lock(phone, stand_url):
    phone.add_init_script(
        """(() => {
            window.__wakeLocks = [];
            const request = navigator.wakeLock?.request?.bind(navigator.wakeLock);
            if (request) navigator.wakeLock.request = async (type) => {
                const lock = await request(type);
                window.__wakeLocks.push(lock);
                return lock;
            };
        })()"""
    )
    page = open_stand(phone, stand_url)
    expect(stand(page)).to_have_attribute("data-wake-lock", "active")
    assert page.evaluate("() => window.__wakeLocks.map(lock => lock.released)") == [False]
    open_toolbar(page)
    page.get_by_test_id("stand-close").click()
    expect(page.get_by_test_id("closed")).to_have_text("yes")
    expect(stand(page)).to_have_count(0)
    assert page.evaluate("() => window.__wakeLocks.map(lock => lock.released)") == [True]
    assert page.evaluate("() => document.documentElement.classList.contains('sl-stand-open')") is False


def test_pages_turn_with_the_network_gone(phone, stand_url):
    page = open_stand(phone, stand_url)
    expect(stand(page)).to_have_attribute("data-ready", "0,1,2")
    phone.set_offline(True)
    page.keyboard.press("ArrowRight")
    expect_page(page, 1)
    page.keyboard.press("ArrowRight")
    expect_page(page, 2)
    assert page.locator(SHOWN).evaluate("img => img.complete && img.naturalWidth > 0")
    phone.set_offline(False)


def test_fits_the_phone_and_is_accessible(phone, stand_url):
    page = open_stand(phone, stand_url)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    width, height = viewport(page)
    box = stand(page).bounding_box()
    assert box == {"x": 0, "y": 0, "width": width, "height": height}
    expect(page.get_by_role("region", name="Chart: Autumn Leaves")).to_be_visible()
    expect(page.locator(SHOWN)).to_have_attribute("alt", "Autumn Leaves, page 1 of 5")
    expect(page.get_by_test_id("stand-indicator")).to_have_text("1 / 5")
    expect(stand(page)).to_have_attribute("data-wake-lock", re.compile("active|denied|unsupported"))
    open_toolbar(page)
    buttons = page.get_by_test_id("stand").get_by_role("button")
    expect(buttons).to_have_count(11)  # the toolbar's ten (crop too), and "Stand controls" (hidden until focused)
    for label in buttons.evaluate_all("els => els.map(b => b.getAttribute('aria-label'))"):
        assert label
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_the_server_moves_a_setlist_by_index_and_an_edit_keeps_the_song_shown(phone, stand_url):
    """Live calls send only an index (``showSong``); a setlist edit that removes the song on the stand leaves it
    there, with its new neighbours, until the reader moves on."""
    page = open_stand(phone, stand_url, "songs")
    root = stand(page)
    expect(root).to_have_attribute("data-song", "0")
    page.keyboard.press("ArrowRight")
    expect_page(page, 1)
    page.get_by_test_id("server-show-1").dispatch_event("click")  # under the stand
    expect(root).to_have_attribute("data-song", "1")
    expect(root).to_have_attribute("aria-label", "Chart: Blue Bossa")
    expect_page(page, 0, chart="b")
    expect(page.get_by_test_id("last-song-change")).to_have_text("")  # the server's own move isn't echoed back

    page.get_by_test_id("server-drop-1").dispatch_event("click")  # the leader takes Blue Bossa out of the set
    expect(root).to_have_attribute("data-pages", "3")
    expect(root).to_have_attribute("aria-label", "Chart: Blue Bossa")
    open_toolbar(page)
    expect(page.get_by_test_id("stand-next-song")).to_contain_text("Autumn Leaves (reprise)")
    page.get_by_test_id("stand-next-song").click()
    expect(root).to_have_attribute("aria-label", "Chart: Autumn Leaves (reprise)")
    expect(root).to_have_attribute("data-song", "1")
    expect(page.get_by_test_id("last-song-change")).to_have_text("1:3")
    page.get_by_test_id("server-show-0").dispatch_event("click")  # under the stand
    expect(root).to_have_attribute("data-song", "0")
    expect_page(page, 0)


def test_learnt_pedal_keys_turn_pages_and_are_kept_on_the_device(phone, stand_url):
    page = open_stand(phone, stand_url)
    root = stand(page)
    open_toolbar(page)
    expect(page.get_by_test_id("stand-recording")).to_have_count(0)  # this chart has no recording
    page.get_by_test_id("stand-pedal").click()
    text = page.get_by_test_id("stand-pedal-text")
    expect(text).to_contain_text("Default keys")
    page.get_by_test_id("stand-pedal-learn").click()
    expect(text).to_have_text("Press your pedal's forward key")
    page.keyboard.press("j")
    expect(text).to_contain_text("Forward: J. Now press its back key")
    page.keyboard.press("j")
    expect(text).to_contain_text("J is the forward key")
    page.keyboard.press("k")
    expect(text).to_have_text("Saved. Forward: J · Back: K")
    expect(root).to_have_attribute("data-pedal", "j|k")
    expect_page(page, 0)  # learning turned nothing
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect_page(page, 1)
    page.keyboard.press("PageDown")  # the default keys keep working
    expect_page(page, 2)
    page.keyboard.press("k")
    expect_page(page, 1)
    notes = page.locator("input[data-testid=notes], [data-testid=notes] input")
    notes.focus()
    page.keyboard.press("j")
    expect(notes).to_have_value("j")  # typed, not turned
    notes.blur()
    page.keyboard.press("j")
    expect_page(page, 2)

    again = open_stand(phone, stand_url)  # the same device: the keys are kept
    expect(stand(again)).to_have_attribute("data-pedal", "j|k")
    open_toolbar(again)
    again.get_by_test_id("stand-pedal").click()
    expect(again.get_by_test_id("stand-pedal-text")).to_have_text("Forward: J · Back: K")
    again.get_by_test_id("stand-pedal-reset").click()
    expect(stand(again)).to_have_attribute("data-pedal", "")
    again.keyboard.press("Escape")
    again.keyboard.press("j")
    again.keyboard.press("ArrowRight")
    expect_page(again, 1)  # "j" is no key of the stand's any more


HALF = "[data-testid=stand-slot] > .sl-half"


def test_half_page_turns_show_the_next_top_first_and_a_call_opens_whole(phone, stand_url):
    page = open_stand(phone, stand_url)
    root = stand(page)
    open_toolbar(page)
    page.get_by_test_id("stand-half").click()
    expect(page.get_by_test_id("stand-half")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")
    expect(root).to_have_attribute("data-half", "1")
    expect_page(page, 0)  # this page's bottom half stays...
    expect(page.locator(HALF + " img")).to_have_attribute("data-index", "1")  # ...under the next page's top half
    expect(page.get_by_test_id("stand-indicator")).to_have_text("1½ / 5")
    # the pencil's canvases (one per slot): the next page's lies on its own page, this page's shows below the cut
    geometry = page.evaluate("""() => {
        const slot = document.querySelector('[data-testid=stand-slot]'), half = slot.querySelector('.sl-half');
        for (const host of [slot, half]) {
            const c = document.createElement('canvas'); c.className = 'sp-canvas'; host.appendChild(c);
            c.style.cssText = 'position: absolute; inset: 0; width: 100%; height: 100%; z-index: 1';  // pencil.css
        }
        const box = (el) => el.getBoundingClientRect().toJSON();
        return {slot: box(slot), half: box(half), halfImg: box(half.querySelector('img')),
                halfCanvas: box(half.querySelector('.sp-canvas')), halfClip: getComputedStyle(half).clipPath,
                slotClip: getComputedStyle(slot.querySelector(':scope > .sp-canvas')).clipPath};
    }""")
    assert geometry["halfCanvas"] == geometry["halfImg"] == geometry["half"]
    assert geometry["half"]["y"] == geometry["slot"]["y"]
    half_cut = geometry["half"]["height"] - float(re.findall(r"[\d.]+", geometry["halfClip"])[-1])  # inset's bottom
    slot_cut = float(re.findall(r"[\d.]+", geometry["slotClip"])[0])  # inset's top
    assert half_cut == slot_cut and abs(slot_cut - geometry["slot"]["height"] / 2) <= 1  # one cut, mid-page
    page.keyboard.press("ArrowRight")  # completes the turn
    expect(root).to_have_attribute("data-half", "0")
    expect_page(page, 1)
    expect(page.locator(HALF)).to_have_count(0)
    width, height = viewport(page)
    page.touchscreen.tap(width * 0.1, height / 2)  # previous reverses: first the half...
    expect(root).to_have_attribute("data-half", "1")
    expect_page(page, 0)
    swipe(page, (width * 0.2, height / 2), (width * 0.8, height / 2))  # ...then the whole previous page
    expect(root).to_have_attribute("data-half", "0")
    expect_page(page, 0)
    page.touchscreen.tap(width * 0.9, height / 2)
    expect(root).to_have_attribute("data-half", "1")

    songs = open_stand(phone, stand_url, "songs")  # the same device: half turns stay on
    songs_root = stand(songs)
    songs.keyboard.press("PageDown")
    expect(songs_root).to_have_attribute("data-half", "1")
    songs.get_by_test_id("server-show-1").dispatch_event("click")  # a leader's call: the song opens whole
    expect(songs_root).to_have_attribute("data-song", "1")
    expect(songs_root).to_have_attribute("data-half", "0")
    expect_page(songs, 0, chart="b")


def test_the_recording_plays_in_its_own_band_and_follows_the_song(phone, stand_url):
    page = open_stand(phone, stand_url, "songs")
    root = stand(page)
    open_toolbar(page)
    page.get_by_test_id("stand-recording").click()
    player = page.get_by_test_id("stand-player")
    expect(player).to_be_visible()
    page.keyboard.press("Escape")
    player_box, slot_box = player.bounding_box(), page.locator("[data-testid=stand-slot]").first.bounding_box()
    assert player_box and slot_box
    assert slot_box["y"] + slot_box["height"] <= player_box["y"] + 0.5  # the music lays out above the player
    for control in ("stand-play", "stand-speed", "stand-seek"):
        box = page.get_by_test_id(control).bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, control
    page.get_by_test_id("stand-play").click()
    expect(page.get_by_test_id("stand-play")).to_have_attribute("aria-label", "Pause recording")
    audio = page.get_by_test_id("stand-audio")
    assert audio.evaluate("a => new URL(a.src).pathname") == "/audio/take.wav"
    page.get_by_test_id("stand-speed").click()
    expect(page.get_by_test_id("stand-speed")).to_have_text("0.75×")
    assert audio.evaluate("a => a.playbackRate") == 0.75
    page.keyboard.press("ArrowRight")  # pages still turn while it plays
    expect_page(page, 1)

    page.get_by_test_id("server-show-1").dispatch_event("click")  # a song without a recording: no player
    expect(root).to_have_attribute("data-song", "1")
    expect(player).to_have_count(0)
    page.get_by_test_id("server-show-0").dispatch_event("click")  # back: the player is there again, stopped
    expect(player).to_be_visible()
    expect(page.get_by_test_id("stand-play")).to_have_attribute("aria-label", "Play recording")


def test_a_follower_applies_each_live_call_once_and_is_never_dragged_back(phone, stand_url):
    """The live room's call (``heardCall``, the same message for every follower): an attached stand moves; a call
    replayed or older than the one shown is ignored; after the reader browses away, calls leave them there; a new
    session takes them along again."""
    page = open_stand(phone, stand_url, "follow")
    root = stand(page)
    expect(root).to_have_attribute("data-song", "0")
    page.get_by_test_id("call-2").dispatch_event("click")  # under the stand
    expect(root).to_have_attribute("data-song", "1")
    page.keyboard.press("ArrowRight")
    expect_page(page, 1, chart="b")
    page.get_by_test_id("replay-2").dispatch_event("click")  # the same call again (a reconnect's catch-up)
    page.get_by_test_id("stale-1").dispatch_event("click")  # an older one
    page.get_by_test_id("sync").dispatch_event("click")  # a message sent after both: once it shows, they arrived
    expect(root).to_have_class(re.compile("sl-night"))
    expect(root).to_have_attribute("data-song", "1")
    expect_page(page, 1, chart="b")  # neither moved the stand (a second application would reopen page 1)
    page.get_by_test_id("call-3").dispatch_event("click")
    expect(root).to_have_attribute("data-song", "2")
    open_toolbar(page)
    page.get_by_test_id("stand-prev-song").click()  # the reader browses away
    expect(root).to_have_attribute("data-song", "1")
    page.get_by_test_id("replay-2").dispatch_event("click")  # heard already: ignored, not a reason to move
    page.get_by_test_id("new-session").dispatch_event("click")  # a new session starts: the follower goes along
    expect(root).to_have_attribute("data-song", "0")
    expect_page(page, 0)
    page.get_by_test_id("turn-1").dispatch_event("click")  # "turn their pages with mine": the leader turned
    expect_page(page, 1)
