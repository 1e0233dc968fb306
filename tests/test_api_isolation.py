"""Cross-band isolation of the JSON API (SQLite and PostgreSQL): every ``/api/v1`` route in the app's route table,
for every kind of token another band's people can hold, asked about the demo band's songs, charts, setlists, gigs
and live session. Nothing of the demo band comes back, nothing of it changes. Routes are read from the app, so a
route added later is covered (or this test says which path value or body it needs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from nicegui import core
from nicegui.testing import User
from sqlmodel import col, select

from soleil_ui.db import db
from soleil_ui.models import ApiToken, Chart, ChartStatus, Gig, Membership, Role, Setlist, Song, utcnow
from soleil_ui.security import hash_token
from soleil_ui.services import live, members, setlists, tokens
from tests.api_helpers import DEMO_SETLIST, actor_named, bearer, token_for
from tests.factories import band_with_songs, member_of

pytestmark = pytest.mark.usefixtures("demo_env")
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/setlists"): {"name": "Ours"},
    ("POST", "/api/v1/setlists/{setlist_id}/ops"): {"ops": [{"kind": "rename", "values": {"name": "Stolen"}}]},
    ("PUT", "/api/v1/gigs/{gig_id}/availability"): {"status": "yes"},
    ("POST", "/api/v1/live"): "demo setlist",
    ("POST", "/api/v1/live/call"): {"step": 1},
}


async def _demo_band() -> tuple[dict[str, int], list[str]]:
    """Path values pointing at the demo band's things, and texts only the demo band has."""
    async with db.session() as session:
        setlist = (await session.exec(select(Setlist).where(Setlist.name == DEMO_SETLIST))).one()
        band_id = setlist.band_id
        song = (await session.exec(select(Song).where(Song.band_id == band_id).order_by(col(Song.id)))).first()
        charts = (await session.exec(select(Chart).where(Chart.band_id == band_id, Chart.status == ChartStatus.OK,
                                                         col(Chart.page_count) > 0))).all()
        chart = next(c for c in charts if c.kind == "chart")
        engraved = next((c for c in charts if c.kind != "chart"), None)
        gig = (await session.exec(select(Gig).where(Gig.band_id == band_id))).first()
        titles = [s.title for s in (await session.exec(select(Song).where(Song.band_id == band_id))).all()]
    assert song and chart and gig
    values = {"song_id": song.id, "chart_id": chart.id, "setlist_id": setlist.id, "gig_id": gig.id, "page": 0,
              "engraved_chart_id": engraved.id if engraved else chart.id}
    return values, [DEMO_SETLIST, gig.title, "Morgan Lee", "Ava Brooks", *titles]  # type: ignore[return-value]


def _every_route(routes: list[Any]) -> list[Any]:
    """The app's routes, walking into included routers (FastAPI keeps them nested, main.py includes no prefix)."""
    found = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        found.extend(_every_route(nested.routes) if nested is not None else [route])
    return found


def _api_routes() -> list[tuple[str, str, APIRoute]]:
    found = [(method, route.path, route) for route in _every_route(core.app.routes) if isinstance(route, APIRoute)
             and route.path.startswith("/api/v1/") and route.path != "/api/v1/openapi.json"
             for method in sorted(route.methods or ())]
    assert len(found) >= 20
    return found


async def _other_band_tokens() -> dict[str, str]:
    leader, _, _ = await band_with_songs("Other Band", songs=3)
    member = await member_of(leader, "player@other.org")
    async with db.session() as session:  # a substitute can't make a token: one planted in the table opens nothing
        sub = await members.get_or_create_user(session, "sub@other.org", "Sub")
        assert sub.id
        membership = Membership(band_id=leader.band_id, user_id=sub.id, role=Role.SUB,
                                expires_at=utcnow() + timedelta(days=1))
        session.add(membership)
        await session.flush()
        assert membership.id
        session.add(ApiToken(band_id=leader.band_id, membership_id=membership.id, name="x", prefix="sol_",
                             token_hash=hash_token("sol_planted-sub"), expires_at=utcnow() + timedelta(days=1)))
    return {"leader-write": await token_for(leader, tokens.WRITE), "leader-read": await token_for(leader),
            "member-read": await token_for(member), "sub": "sol_planted-sub"}


async def test_every_endpoint_and_role_of_another_band_sees_and_changes_nothing(user: User) -> None:
    http = user.http_client
    values, secrets = await _demo_band()
    morgan = await actor_named("Morgan Lee")
    async with db.session() as session:  # the demo band is live: another band must neither see nor drive it
        started = await live.start(session, morgan, values["setlist_id"])
        before = await setlists.entries(session, morgan, values["setlist_id"])
    own = bearer(await token_for(morgan, tokens.WRITE))
    others = await _other_band_tokens()
    checked = 0
    for method, path, route in _api_routes():
        params = {name for name in route.param_convertors}
        missing = params - set(values)
        assert not missing, f"{path}: give a demo-band value for {missing} in this test"
        filled = {k: values[k] for k in params}
        if "/svg/" in path:  # engraved pages: a MusicXML or ChordPro chart of the demo band
            filled["chart_id"] = values["engraved_chart_id"]
        url = path.format(**filled)
        body = BODIES.get((method, path))
        if body == "demo setlist":
            body = {"setlist_id": values["setlist_id"]}
        if method in ("POST", "PUT", "PATCH") and route.body_field is not None:
            assert body is not None, f"{method} {path}: add a body to BODIES"
        if method == "GET" and params and ("/svg/" not in path or values["engraved_chart_id"] != values["chart_id"]):
            assert (await http.get(url, headers=own)).status_code == 200, url  # the demo band's leader reaches it
        for role, secret in others.items():
            response = await http.request(method, url, json=body, headers=bearer(secret))
            text = response.text
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{role} {method} {url} leaked {leaked}"
            if role == "sub":
                assert response.status_code == 401, (role, method, url, text)
            elif params or body == {"setlist_id": values["setlist_id"]}:
                assert response.status_code in (403, 404), (role, method, url, text)
            else:
                assert response.status_code < 500, (role, method, url, text)
            checked += 1
    assert checked >= 80
    async with db.session() as session:
        after = await live.current(session, morgan)
        assert after is not None and (after.live_id, after.current_item_id) == (started.live_id,
                                                                              started.current_item_id)
        assert await setlists.entries(session, morgan, values["setlist_id"]) == before
        assert (await session.get(Setlist, values["setlist_id"])).name == DEMO_SETLIST  # type: ignore[union-attr]
