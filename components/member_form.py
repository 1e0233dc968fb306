"""The "who are you, what do you play and how do you read" form, shared by the first visit (/welcome), the profile
and the leader's member dialog (members page).

Several instruments, each with an optional chair (1–9); the first is the primary one (a star moves another to
the top). An instrument whose players read in different ways (bass: a written part or a chord chart; keys and
guitar: chord chart or lead sheet; voice: vocal part or lyrics sheet; ``parts.reading_choices``) gets a "You read"
choice under it. The form only collects; ``services.members`` validates and stores.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nicegui import ui

from soleil_ui.parts import INSTRUMENTS, MAX_CHAIR, reading_choices
from soleil_ui.services.members import MAX_INSTRUMENTS

INSTRUMENT_OPTIONS = {key: instrument.name for key, instrument in INSTRUMENTS.items()}
CHAIR_OPTIONS = {0: "No chair", **{n: f"Chair {n}" for n in range(1, MAX_CHAIR + 1)}}
Submit = Callable[[str, list[dict[str, Any]], dict[str, str]], Awaitable[None]]


def chosen_reading(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The rows' reading choices that differ from the instrument's default: a member who keeps the default follows
    it if a later version improves it."""
    out = {}
    for row in rows:
        choices = list(reading_choices(row.get("instrument") or ""))
        if row.get("reads") in choices[1:]:
            out[row["instrument"]] = row["reads"]
    return out


def member_form(name: str | None, instruments: list[dict[str, Any]], *, submit_label: str, on_submit: Submit,
                reading: Mapping[str, str] | None = None, whose: str = "you") -> None:
    """Name (unless ``name`` is None: a leader editing someone), instruments (primary first) with how they are read,
    and a submit button calling ``on_submit(name, instruments, reading)``."""
    reading = reading or {}
    rows: list[dict[str, Any]] = [{"instrument": i.get("instrument"), "chair": i.get("chair") or 0,
                                   "reads": reading.get(str(i.get("instrument")))}
                                  for i in instruments if i.get("instrument") in INSTRUMENTS]
    if not rows:
        rows.append({"instrument": None, "chair": 0, "reads": None})

    name_input = None
    if name is not None:
        name_input = ui.input("Your name", value=name).props("outlined maxlength=120 autocomplete=name") \
            .classes("w-full").mark("name")
    ui.label("What you play" if whose == "you" else f"What {whose} plays").classes(
        "text-sm uppercase text-grey-7 mt-2")
    ui.label("The first one is the main instrument; tap the star to make another one main.") \
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
                    .on_value_change(lambda _e: instrument_rows.refresh()) \
                    .props("outlined dense").classes("grow min-w-0").mark(f"instrument-{n}")
                ui.select(CHAIR_OPTIONS, label="Chair").bind_value(row, "chair").props("outlined dense") \
                    .classes("w-28").mark(f"chair-{n}")
                if len(rows) > 1:
                    ui.button(icon="close", on_click=lambda _e, n=n: remove(n)).props(
                        'flat round dense aria-label="Remove instrument"').mark(f"remove-instrument-{n}")
            choices = reading_choices(row["instrument"] or "")
            if choices:
                if row.get("reads") not in choices:
                    row["reads"] = next(iter(choices))
                ui.select(choices, label="Reads first" if whose == "you" else f"{whose} reads first") \
                    .bind_value(row, "reads").props("outlined dense").classes("w-full pl-10").mark(f"reads-{n}")
        if len(rows) < MAX_INSTRUMENTS:
            ui.button("Add an instrument", icon="add", on_click=add).props("flat no-caps").mark("add-instrument")

    def make_primary(n: int) -> None:
        rows.insert(0, rows.pop(n))
        instrument_rows.refresh()

    def remove(n: int) -> None:
        rows.pop(n)
        instrument_rows.refresh()

    def add() -> None:
        rows.append({"instrument": None, "chair": 0, "reads": None})
        instrument_rows.refresh()

    instrument_rows()

    async def submit() -> None:
        chosen = [{"instrument": r["instrument"], "chair": r["chair"] or None} for r in rows if r["instrument"]]
        typed = (name_input.value or "") if name_input is not None else ""
        await on_submit(typed, chosen, chosen_reading(rows))

    ui.button(submit_label, icon="check", on_click=submit).props("unelevated size=lg").classes("w-full mt-2") \
        .mark("save")
