"""Accessibility in the simulated user (issue 21), the fast half: the markup a screen reader and a keyboard rely on.

The browser half (tests/e2e/test_a11y_browser.py) runs axe-core, presses the keys and hears the stand's announcement.
"""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement
from nicegui.testing import User

from components.stand import Stand
from tests.markers import SQLITE_ONLY
from tests.test_ui_setlists import demo_setlist, enter_as, settle, stand_of

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]


def headings(user: User) -> list[str]:
    return [e.text for e in user.find(kind=TextElement).elements if e.tag == "h1"]


async def test_cards_rows_handles_menus_and_headings_for_keyboard_and_screen_reader(user: User) -> None:
    """One test (one app start per database): sign-in cards, a member's setlist and the stand, a leader's handles."""
    await user.open("/login")
    await user.should_see("Ava Brooks")
    assert headings(user) == ["SOLEil"]
    cards = [e for e in user.find(kind=ui.card).elements if e.props.get("role") == "button"]
    assert len(cards) >= 9
    for card in cards:
        assert card.props.get("tabindex") == "0" and "aria-label" not in card.props  # named by what it shows
        texts = [e.text for e in card.descendants() if isinstance(e, ui.label)]
        assert texts[0] == "Enter as" and "soleil-sr-only" in next(
            e for e in card.descendants() if isinstance(e, ui.label)).classes
    # a member's setlist: every song row opens by keyboard; the menus hold menu items
    await enter_as(user, "Ava Brooks")
    setlist_id = await demo_setlist()
    await user.open(f"/setlists/{setlist_id}")
    await user.should_see("Brass Tacks")
    assert headings(user) == ["Friday at the Blue Room"]
    items = user.find(kind=ui.menu_item).elements
    assert items and all(item.props.get("role") == "menuitem" for item in items)
    rows = [e for e in user.find(kind=ui.column).elements if e.props.get("data-testid") == "open-song"]
    assert rows and all(r.props.get("role") == "link" and r.props.get("tabindex") == "0" for r in rows)
    brass = next(r for r in rows if any(getattr(e, "text", "") == "Brass Tacks" for e in r.descendants()))
    keys = sorted(listener.type for listener in brass._event_listeners.values() if listener.type != "click")
    assert keys == ["keydown.enter.prevent", "keydown.space.prevent"]  # what Enter and Space on the focused row run
    user.find(marker=brass._markers[0]).trigger("keydown.enter.prevent")  # no pointer: Enter opens the song
    await settle()
    stand = stand_of(user)
    assert isinstance(stand, Stand) and stand.props["title"] == "Brass Tacks"

    await enter_as(user, "Morgan Lee")  # the leader's drag handles take focus (arrow keys move the row)
    await user.open(f"/setlists/{await demo_setlist()}")
    await user.should_see("Brass Tacks")
    handles = [e for e in user.find(kind=ui.element).elements if e.props.get("data-testid") == "drag-handle"]
    assert handles and all(h.props.get("tabindex") == "0" and h.props.get("role") == "button" for h in handles)
