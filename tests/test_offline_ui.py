"""The installable app and offline sets through NiceGUI's simulated user: files and headers, the Offline sets
screen, a leader's request to every device, and the stand stepping through a setlist in the browser."""

from __future__ import annotations

import io
import json

import nicegui
import pytest
from nicegui import ui
from nicegui.testing import User
from PIL import Image
from sqlmodel import select

from components.pwa import PREPARE_TOPIC
from components.stand import Stand
from soleil_ui.db import db
from soleil_ui.events import hub
from soleil_ui.models import Gig, Setlist
from soleil_ui.models import User as UserAccount
from tests.library_helpers import demo_sign_in, sign_out
from tests.markers import SQLITE_ONLY

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]


async def _enter_as(user: User, name: str) -> None:
    await sign_out(user.http_client)
    await user.open("/login")
    await user.should_see(name)
    async with db.session() as session:
        user_id = (await session.exec(select(UserAccount.id).where(UserAccount.name == name))).one()
    response = await demo_sign_in(user.http_client, user_id)
    assert response.status_code == 303


async def test_manifest_icons_worker_and_offline_stand_are_served(user: User) -> None:
    worker = await user.http_client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache" and "javascript" in worker.headers["content-type"]
    assert "__BUILD__" not in worker.text and '"/offline"' in worker.text
    assert "__NICEGUI__" not in worker.text and f'"/_nicegui/{nicegui.__version__}/"' in worker.text  # kept on use
    manifest = (await user.http_client.get("/manifest.webmanifest")).json()
    assert manifest["name"] == "SOLEil" and manifest["theme_color"] == "#2f4858"
    assert manifest["display"] == "standalone" and manifest["display_override"][0] == "fullscreen"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for name, size in [("icon-192.png", 192), ("maskable-512.png", 512), ("apple-touch-icon.png", 180)]:
        response = await user.http_client.get(f"/pwa/icons/{name}")
        assert Image.open(io.BytesIO(response.content)).size == (size, size)
    assert (await user.http_client.get("/pwa/icons/../../main.py")).status_code == 404
    offline = (await user.http_client.get("/offline")).text
    vue = json.loads(offline.split('<script type="importmap">')[1].split("</script>")[0])["imports"]["vue"]
    assert (await user.http_client.get(vue)).status_code == 200  # NiceGUI's own Vue, cached by the worker
    assert "/pwa/stand.js" in offline and (await user.http_client.get("/pwa/stand.js")).status_code == 200
    assert (await user.http_client.get("/pwa/https")).status_code == 200
    await user.open("/login")  # every page carries the manifest and the offline script
    assert (await user.http_client.get("/pwa/scope")).json() == {"scope": None, "prepare": []}


async def test_offline_sets_screen_and_a_leaders_request_to_every_device(user: User) -> None:
    async with db.session() as session:
        setlist = (await session.exec(select(Setlist))).one()
    await _enter_as(user, "Ava Brooks")
    await user.open(f"/offline-sets?setlist={setlist.id}")
    await user.should_see("Friday at the Blue Room")
    await user.should_see("Gig: Friday Night Swing")
    await user.should_not_see(marker=f"prepare-{setlist.id}")  # members don't ask the band
    scope = (await user.http_client.get("/pwa/scope")).json()
    assert scope["scope"].startswith(f"b{setlist.band_id}-u") and scope["prepare"] == []
    data = (await user.http_client.get(f"/pwa/offline/setlists/{setlist.id}?w=1170&audio=1")).json()
    assert data["widths"] == [1200] and data["scope"] == scope["scope"] and data["songs"]
    assert all("w=1200&v=" in url for url in data["urls"] if "/pages/" in url)
    status = (await user.http_client.get(f"/pwa/offline/status?id={setlist.id}&audio={setlist.id}&id=999")).json()
    assert status["digests"] == {str(setlist.id): data["digest"], "999": None}

    heard = []
    subscription = hub.subscribe(setlist.band_id, PREPARE_TOPIC, heard.append)
    await _enter_as(user, "Morgan Lee")
    await user.open("/offline-sets")
    await user.should_see("Ask every member's device to prepare it for the gig")
    user.find(marker=f"prepare-{setlist.id}").click()
    await user.should_see("Everyone's devices were asked to prepare it")
    subscription.close()
    assert [e.payload["setlist"] for e in heard] == [setlist.id]
    await _enter_as(user, "Ava Brooks")  # a device opened later hears of it too
    prepare = (await user.http_client.get("/pwa/scope")).json()["prepare"]
    assert [(p["setlist_id"], p["name"], p["audio"]) for p in prepare] == [(setlist.id, setlist.name, False)]
    await _enter_as(user, "Morgan Lee")  # the leader withdraws it: devices opened later no longer hear of it
    await user.open("/offline-sets")
    await user.should_see("Everyone's devices were asked to prepare it")
    user.find(marker=f"prepare-cancel-{setlist.id}").click()
    await user.should_see("Ask every member's device to prepare it for the gig")
    assert (await user.http_client.get("/pwa/scope")).json()["prepare"] == []


def _song(title: str, chart_id: int, pages: int) -> dict[str, object]:
    return {"title": title, "part_label": "Trumpet", "chart_id": chart_id, "item_id": chart_id * 10,
            "pages": [{"src": f"/media/charts/{chart_id}/pages/{i}?w=800&v=x", "width": 800, "height": 1035}
                      for i in range(pages)]}


async def test_the_stand_steps_through_a_setlist_in_the_browser_and_the_server_follows(user: User) -> None:
    changes = []
    songs = [_song("One", 1, 2), _song("Two", 2, 3), {"title": "No chart here", "chart_id": None, "item_id": 30,
                                                      "pages": [], "explanation": "No chart in your part"}]

    @ui.page("/stand-songs")
    def page() -> None:
        Stand(title="One", part_label="Trumpet", pages=songs[0]["pages"], songs=songs, setlist_id=7,  # type: ignore[arg-type]
              on_song_change=changes.append)

    await user.open("/stand-songs")
    stand = next(iter(user.find(kind=Stand).elements))
    assert stand.song_index == 0 and stand.props["songs"][2]["pages"] == [] and stand.props["setlist_id"] == 7
    user.find(kind=Stand).trigger("song_change", {"index": 1, "item_id": 20, "chart_id": 2})
    assert stand.song_index == 1 and stand.props["title"] == "Two" and len(stand.pages) == 3
    assert (stand.props["prev_title"], stand.props["next_title"]) == ("One", "No chart here")
    assert [(c.index, c.item_id, c.chart_id) for c in changes] == [(1, 20, 2)]
    user.find(kind=Stand).trigger("page_change", {"page": 2, "pages": 3})  # a page the new song has
    assert stand.page == 2
    user.find(kind=Stand).trigger("song_change", {"index": 9})
    user.find(kind=Stand).trigger("song_change", {"index": "1"})
    assert stand.song_index == 1 and len(changes) == 1  # nonsense is ignored


async def test_the_setlist_and_gig_pages_offer_the_set_offline_and_the_menu_leads_there(user: User) -> None:
    async with db.session() as session:
        setlist = (await session.exec(select(Setlist))).one()
        gig = (await session.exec(select(Gig).where(Gig.setlist_id == setlist.id))).first()
    assert gig is not None

    def offline_sets_on_page() -> list[str]:
        return [str(e.props.get("setlist")) for e in user.current_layout.descendants()
                if e.tag == "soleil-offline-set"]

    await _enter_as(user, "Ava Brooks")
    await user.open(f"/setlists/{setlist.id}")
    assert offline_sets_on_page() == [str(setlist.id)]
    await user.should_not_see(marker=f"prepare-{setlist.id}")  # a member can't ask the band's devices
    await user.open(f"/gigs/{gig.id}")
    assert offline_sets_on_page() == [str(setlist.id)]
    user.find(marker="menu-offline").click()  # the account menu
    await user.should_see("Keep a setlist's charts on this phone or tablet")
    await _enter_as(user, "Morgan Lee")
    await user.open(f"/setlists/{setlist.id}")
    await user.should_see(marker=f"prepare-{setlist.id}")
