"""Subscribing a page to the event hub for as long as its browser client lives.

The one way pages listen: the subscription closes when the client is deleted, and a late event for a
client that is already gone is dropped instead of touching deleted elements.
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from soleil_ui.events import Event, Subscription, hub


def listen(band_id: int, topic: str, handler: Callable[[Event], None]) -> Subscription:
    client = ui.context.client
    subscription: Subscription

    def deliver(event: Event) -> None:
        if client.is_deleted:
            subscription.close()
            return
        handler(event)

    subscription = hub.subscribe(band_id, topic, deliver)
    client.on_delete(subscription.close)
    return subscription
