"""The "who are you and what do you play" form, shared by the first visit (/welcome) and the profile.

Several instruments, each with an optional chair (1–9); the first is the primary one (a star moves another to
the top). The form only collects; ``services.members.save_profile`` validates and stores.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from soleil_ui.parts import INSTRUMENTS, MAX_CHAIR
from soleil_ui.services.members import MAX_INSTRUMENTS

INSTRUMENT_OPTIONS = {key: instrument.name for key, instrument in INSTRUMENTS.items()}
CHAIR_OPTIONS = {0: "No chair", **{n: f"Chair {n}" for n in range(1, MAX_CHAIR + 1)}}


def member_form(name: str, instruments: list[dict[str, Any]], *, submit_label: str,
                on_submit: Callable[[str, list[dict[str, Any]]], Awaitable[None]]) -> None:
    """Name, instruments (primary first) and a submit button calling ``on_submit(name, instruments)``."""
    rows: list[dict[str, Any]] = [{"instrument": i.get("instrument"), "chair": i.get("chair") or 0}
                                  for i in instruments if i.get("instrument") in INSTRUMENTS]
    if not rows:
        rows.append({"instrument": None, "chair": 0})

    name_input = ui.input("Your name", value=name).props("outlined maxlength=120 autocomplete=name") \
        .classes("w-full").mark("name")
    ui.label("What you play").classes("text-sm uppercase text-grey-7 mt-2")
    ui.label("The first one is your main instrument; tap the star to make another one main.") \
        .classes("text-sm text-grey-7")

    @ui.refreshable
    def instrument_rows() -> None:
        for n, row in enumerate(rows):
            with ui.row().classes("w-full items-center gap-1 no-wrap"):
                star = "star" if n == 0 else "star_border"
                ui.button(icon=star, on_click=lambda _e, n=n: make_primary(n)).props(
                    f'flat round dense color=accent aria-label="{"Main instrument" if n == 0 else "Make main"}"') \
                    .mark(f"primary-{n}")
                ui.select(INSTRUMENT_OPTIONS, label="Instrument", with_input=True).bind_value(row, "instrument") \
                    .props("outlined dense").classes("grow min-w-0").mark(f"instrument-{n}")
                ui.select(CHAIR_OPTIONS, label="Chair").bind_value(row, "chair").props("outlined dense") \
                    .classes("w-28").mark(f"chair-{n}")
                if len(rows) > 1:
                    ui.button(icon="close", on_click=lambda _e, n=n: remove(n)).props(
                        'flat round dense aria-label="Remove instrument"').mark(f"remove-instrument-{n}")
        if len(rows) < MAX_INSTRUMENTS:
            ui.button("Add an instrument", icon="add", on_click=add).props("flat no-caps").mark("add-instrument")

    def make_primary(n: int) -> None:
        rows.insert(0, rows.pop(n))
        instrument_rows.refresh()

    def remove(n: int) -> None:
        rows.pop(n)
        instrument_rows.refresh()

    def add() -> None:
        rows.append({"instrument": None, "chair": 0})
        instrument_rows.refresh()

    instrument_rows()

    async def submit() -> None:
        chosen = [{"instrument": r["instrument"], "chair": r["chair"] or None} for r in rows if r["instrument"]]
        await on_submit(name_input.value or "", chosen)

    ui.button(submit_label, icon="check", on_click=submit).props("unelevated size=lg").classes("w-full mt-2") \
        .mark("save")
