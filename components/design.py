"""The design constants: every colour the app paints with, and the base CSS built from them, in one place.

Each pair of text and background colour used together meets WCAG 2.1 AA (4.5:1 for text, 3:1 for the focus ring
and for other things one must see); the ratios are noted beside them so a change can be checked at a glance. Pages
use Quasar's colour names (``primary``, ``text-grey-7``, ``bg-other-part``…); ``apply()`` (called by
``layout.theme()`` on every page) binds those names to the values here. The stand (``static/stand.css``) reads the
focus colours from the custom properties ``apply()`` sets.
"""

from __future__ import annotations

from nicegui import app, ui
from nicegui.elements.mixins.text_element import TextElement

PRIMARY = "#b3541e"  # white on it 5.0:1; as text on the page background 4.6:1
SECONDARY = "#2f4858"  # the top bar; white on it 9.6:1
ACCENT = "#f2a541"  # a fill only: dark text on it (8.2:1), never white (2.0:1)
ON_ACCENT = "#1d1d1d"
POSITIVE = "#3a7d44"  # white on it 5.0:1
NEGATIVE = "#b00020"  # white on it 7.9:1
WARNING = "#8a5300"  # warning *text* on white 6.3:1 (Quasar's #f2c037 was 1.7:1)
OTHER_PART = "#a34700"  # the "other part" badge; white on it 6.1:1 (orange-9 was 3.1:1)
BACKGROUND = "#f6f5f2"  # the page
MUTED = "#5c5c5c"  # secondary text ("text-grey-7"); 6.1:1 on the page, 6.7:1 on white (Quasar's #757575: 4.2:1)
LINK = "#1d4ed8"  # links; 6.2:1 on the page, 6.7:1 on white (NiceGUI's #3b82f6: 3.4:1)
FOCUS = "#1d4ed8"  # the focus ring on light surfaces (6.2:1 against the page)
FOCUS_ON_DARK = "#fbbf24"  # the focus ring on the top bar and the stand's toolbars (5.8:1 on the bar)

TAP_MIN_PX = 44  # the smallest tap target anywhere (WCAG 2.5.5, Apple's HIG); measured on a phone by a browser test
TAP_CSS = f"""
.q-btn, .q-btn.q-btn--dense, .q-btn--round {{ min-height: {TAP_MIN_PX}px; min-width: {TAP_MIN_PX}px; }}
.q-tab, .q-item, .q-item.q-item--dense, .q-chip--clickable, .q-checkbox, .q-toggle, .q-radio {{
  min-height: {TAP_MIN_PX}px; }}
.q-field__control, .q-field__marginal, .q-field--dense .q-field__control, .q-field--dense .q-field__marginal {{
  min-height: {TAP_MIN_PX}px; }}
.q-field--dense .q-field__control, .q-field--dense .q-field__marginal {{ height: auto; }}
.q-field--dense .q-field__native {{ min-height: {TAP_MIN_PX}px; }}
.q-field__focusable-action {{ min-width: {TAP_MIN_PX}px; min-height: {TAP_MIN_PX}px; justify-content: center; }}
a.soleil-link {{ display: inline-flex; align-items: center; min-height: {TAP_MIN_PX}px; min-width: {TAP_MIN_PX}px; }}
"""

CSS = f"""
:root {{ --soleil-focus: {FOCUS}; --soleil-focus-on-dark: {FOCUS_ON_DARK}; }}
html, body {{ overflow-x: hidden; }}
body {{ background: {BACKGROUND}; }}
.soleil-main {{ max-width: 960px; margin: 0 auto; width: 100%; }}
.q-footer .q-tab {{ min-height: 56px; }}
/* one visible focus ring for every control reached by keyboard (Quasar's own is a faint tint) */
:focus-visible {{ outline: 3px solid var(--soleil-focus); outline-offset: 2px; }}
.q-header :focus-visible, .bg-secondary :focus-visible {{ outline-color: var(--soleil-focus-on-dark); }}
.q-item:focus-visible, .q-tab:focus-visible {{ outline-offset: -3px; }}
.q-field__native:focus-visible, .q-field input:focus-visible {{ outline: none; }} /* the field's own border shows it */
a.nicegui-link, a.nicegui-link:visited {{ color: {LINK}; }}
/* below Tailwind's utilities, so a page sizes its heading with text-2xl and the like; above Quasar's 6rem h1 */
@layer components {{
  h1.soleil-h1 {{ margin: 0; font-size: 1.125rem; line-height: 1.75rem; font-weight: 500; letter-spacing: normal; }}
}}
.soleil-sr-only {{ position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }}
"""
# Quasar's important colour classes sit in a late cascade layer; the earliest layer's !important wins over them.
PALETTE_CSS = f"""
@layer theme {{
  .text-grey-7 {{ color: {MUTED} !important; }}
  .text-warning {{ color: {WARNING} !important; }}
}}
"""


def install() -> None:
    """Once, when the app is built: defaults every page needs for assistive technology."""
    # Quasar renders a menu's items as list items, inside role=menu: screen readers then found no items at all
    ui.menu_item.default_props("role=menuitem")
    # Quasar's loading bar (shown while a page talks to the server) is a progress bar: it needs a name
    app.config.quasar_config.setdefault("loadingBar", {})["aria-label"] = "Loading"


def apply() -> None:
    """Bind Quasar's colour names to the design and add the base CSS (focus ring, links, headings)."""
    ui.colors(primary=PRIMARY, secondary=SECONDARY, accent=ACCENT, positive=POSITIVE, negative=NEGATIVE,
              warning=WARNING, other_part=OTHER_PART)
    ui.add_css(CSS + PALETTE_CSS + TAP_CSS)


def heading(text: str) -> TextElement:
    """The page's level-one heading (every page has exactly one); sized like the top bar's title unless classed."""
    return TextElement(tag="h1", text=text).classes("soleil-h1")
