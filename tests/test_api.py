"""The JSON API over HTTP on the demo band (SQLite and PostgreSQL): bearer tokens only, one error shape, pagination,
the library, setlists through the editor's operations, gigs and live mode, and the offline documentation."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import Setlist
from soleil_ui.services import live, setlists, tokens
from tests.api_helpers import DEMO_SETLIST, actor_named, bearer, token_for
from tests.library_helpers import demo_sign_in

pytestmark = pytest.mark.usefixtures("demo_env")


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["request_id"]
    return error


async def test_no_token_a_cookie_a_revoked_or_expired_token_are_401(user: User) -> None:
    http = user.http_client
    error = assert_error(await http.get("/api/v1/me"), 401, "unauthorized")
    assert "Bearer" in error["message"]
    assert (await http.get("/api/v1/me")).headers["www-authenticate"] == "Bearer"
    assert_error(await http.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}), 401, "unauthorized")
    assert_error(await http.get("/api/v1/me", headers=bearer("sol_not-a-token")), 401, "unauthorized")

    morgan = await actor_named("Morgan Lee")
    signed_in = await demo_sign_in(http, morgan.user_id)  # a signed-in browser's cookie…
    assert signed_in.status_code == 303 and http.cookies
    assert (await http.get("/")).status_code == 200
    assert_error(await http.get("/api/v1/me"), 401, "unauthorized")  # …is not a key to the API
    assert_error(await http.post("/api/v1/setlists", json={"name": "CSRF"}), 401, "unauthorized")

    secret = await token_for(morgan)
    me = await http.get("/api/v1/me", headers={**bearer(secret), "Origin": "https://evil.example"})
    assert me.status_code == 200 and me.json()["band"] and me.json()["role"] == "leader"
    assert me.json()["scope"] == "read"
    assert not [h for h in me.headers if h.lower().startswith("access-control-")]  # no CORS
    preflight = await http.options("/api/v1/me", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "GET"})
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]

    async with db.session() as session:
        [info] = await tokens.list_tokens(session, morgan)
        assert info.last_used_at is not None  # the request above was its first use
        await tokens.revoke_token(session, morgan, info.id)
    assert "revoked" in assert_error(await http.get("/api/v1/me", headers=bearer(secret)), 401,
                                     "unauthorized")["message"]

    expired = await token_for(morgan)
    async with db.session() as session:
        row = (await session.exec(select(tokens.ApiToken).where(tokens.ApiToken.token_hash ==
                                                                tokens.hash_token(expired)))).one()
        row.expires_at = tokens.utcnow()
        session.add(row)
    assert "expired" in assert_error(await http.get("/api/v1/songs", headers=bearer(expired)), 401,
                                     "unauthorized")["message"]


async def test_library_reads_in_my_part_with_pages_and_pagination(user: User) -> None:
    http = user.http_client
    ava = bearer(await token_for(await actor_named("Ava Brooks")))
    first = (await http.get("/api/v1/songs", params={"limit": 2}, headers=ava)).json()
    assert len(first["items"]) == 2 and first["total"] > 2 and first["next_offset"] == 2
    second = (await http.get("/api/v1/songs", params={"limit": 2, "offset": 2}, headers=ava)).json()
    assert {s["id"] for s in first["items"]}.isdisjoint(s["id"] for s in second["items"])
    last = (await http.get("/api/v1/songs", params={"limit": 100, "offset": first["total"] - 1},
                           headers=ava)).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None
    error = assert_error(await http.get("/api/v1/songs", params={"limit": 1000}, headers=ava), 422, "invalid_input")
    assert error["details"][0]["where"] == "query.limit"
    assert_error(await http.get("/api/v1/songs", params={"offset": -1}, headers=ava), 422, "invalid_input")

    mine = (await http.get("/api/v1/songs", params={"part": "mine", "limit": 100}, headers=ava)).json()
    assert mine["items"] and all(s["my_part"]["playable"] for s in mine["items"])
    assert any(p["key"] for p in (await http.get("/api/v1/parts", headers=ava)).json())

    song = mine["items"][0]
    found = (await http.get("/api/v1/songs", params={"q": song["title"].upper()}, headers=ava)).json()
    assert song["id"] in [s["id"] for s in found["items"]]
    detail = (await http.get(f"/api/v1/songs/{song['id']}", headers=ava)).json()
    assert detail["title"] == song["title"] and detail["parts"] and detail["my_part"]["quality"] == "chair"
    part = (await http.get(f"/api/v1/songs/{song['id']}/my-part", headers=ava)).json()
    assert part["chart_id"] == song["my_part"]["chart_id"] and part["pages"]
    image = await http.get(part["pages"][0]["url"], headers=ava)
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    again = await http.get(part["pages"][0]["url"], headers={**ava, "If-None-Match": image.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == image.headers["etag"]  # the pages' own answer
    assert (await http.get(part["pages"][0]["url"])).status_code == 401  # page images need the token too
    assert_error(await http.get("/api/v1/songs/999999", headers=ava), 404, "not_found")
    assert_error(await http.get("/api/v1/nothing-here", headers=ava), 404, "not_found")
    assert (await http.get(f"/api/v1/songs/{song['id']}/history", headers=ava)).json() == []
    played = (await http.get("/api/v1/songs/last-played", params={"song_id": [song["id"]]}, headers=ava)).json()
    assert played == [{"song_id": song["id"], "title": song["title"], "last_played_at": None, "days_ago": None}]


async def test_setlists_gigs_and_live_mode_by_scope_and_role(user: User) -> None:
    http = user.http_client
    morgan = await actor_named("Morgan Lee")
    ava = bearer(await token_for(await actor_named("Ava Brooks")))
    read = bearer(await token_for(morgan))
    write = bearer(await token_for(morgan, tokens.WRITE))

    listed = (await http.get("/api/v1/setlists", headers=ava)).json()
    demo = next(s for s in listed["items"] if s["name"] == DEMO_SETLIST)
    full = (await http.get(f"/api/v1/setlists/{demo['id']}", headers=ava)).json()
    assert full["entries"] and full["sets"] and full["total_seconds"] == sum(x["seconds"] for x in full["sets"])

    assert_error(await http.post("/api/v1/setlists", json={"name": "Mine"}, headers=ava), 403, "forbidden")
    assert "only read" in assert_error(await http.post("/api/v1/setlists", json={"name": "Mine"}, headers=read),
                                       403, "forbidden")["message"]
    made = await http.post("/api/v1/setlists", json={"name": "Sunday brunch"}, headers=write)
    assert made.status_code == 201 and made.json()["entries"] == []
    setlist_id = made.json()["id"]
    songs = [e["song_id"] for e in full["entries"] if not e["is_break"]][:3]
    ops = [{"kind": "insert", "values": {"song_id": songs[0], "musical_key": "Bb"}},
           {"kind": "insert", "values": {"is_break": True, "label": "Set 2"}},
           {"kind": "insert", "values": {"song_id": songs[1], "notes": "slow intro", "duration_seconds": 240},
            "key": "retry-me"}]
    done = (await http.post(f"/api/v1/setlists/{setlist_id}/ops", json={"ops": ops}, headers=write)).json()
    assert [e["title"] for e in done["setlist"]["entries"]][1] == "Set 2"
    assert done["setlist"]["entries"][0]["musical_key"] == "B♭"
    assert [s["label"] for s in done["setlist"]["sets"]] == ["Set 1", "Set 2"]
    assert done["setlist"]["sets"][1]["seconds"] == 240
    again = (await http.post(f"/api/v1/setlists/{setlist_id}/ops", json={"ops": ops[2:]}, headers=write)).json()
    assert again["results"][0]["replayed"] and len(again["setlist"]["entries"]) == 3  # a retry applies once
    bad = [{"kind": "insert", "values": {"song_id": songs[2]}}, {"kind": "edit", "item_id": 1,
                                                                 "values": {"musical_key": "H#"}}]
    assert_error(await http.post(f"/api/v1/setlists/{setlist_id}/ops", json={"ops": bad}, headers=write), 422,
                 "invalid_input")
    assert len((await http.get(f"/api/v1/setlists/{setlist_id}", headers=ava)).json()["entries"]) == 3  # all or none
    assert_error(await http.post(f"/api/v1/setlists/{setlist_id}/ops", json={"ops": [{"kind": "explode"}]},
                                 headers=write), 422, "invalid_input")
    undone = (await http.post(f"/api/v1/setlists/{setlist_id}/undo", headers=write)).json()
    assert len(undone["entries"]) == 2
    async with db.session() as session:  # the editor's own history: the API's changes are operations
        history = await setlists.history(session, morgan, setlist_id)
    assert [h.kind for h in history][:2] == ["undo", "insert"]

    gigs = (await http.get("/api/v1/gigs", headers=ava)).json()
    gig_id = gigs["items"][0]["id"]
    assert (await http.get(f"/api/v1/gigs/{gig_id}", headers=ava)).json()["answers"] is None
    assert_error(await http.put(f"/api/v1/gigs/{gig_id}/availability", json={"status": "yes"}, headers=ava), 403,
                 "forbidden")
    answered = (await http.put(f"/api/v1/gigs/{gig_id}/availability", json={"status": "maybe"},
                               headers=write)).json()
    assert answered["my_answer"] == "maybe" and any(a["status"] == "maybe" for a in answered["answers"])
    assert_error(await http.put(f"/api/v1/gigs/{gig_id}/availability", json={"status": "perhaps"}, headers=write),
                 422, "invalid_input")
    assert (await http.get("/api/v1/gigs", params={"when": "past"}, headers=ava)).json()["items"] == []

    assert (await http.get("/api/v1/live", headers=ava)).json() == {"live": False} | {
        k: None for k in ("live_id", "setlist_id", "setlist_name", "current_item_id", "current_title", "seq",
                          "started_at", "gig_id")}
    assert_error(await http.post("/api/v1/live", json={"setlist_id": demo["id"]}, headers=ava), 403, "forbidden")
    started = (await http.post("/api/v1/live", json={"setlist_id": demo["id"]}, headers=write)).json()
    first_song, second = [e for e in full["entries"] if not e["is_break"]][:2]
    assert started["live"] and started["current_title"] == first_song["title"]
    called = (await http.post("/api/v1/live/call", json={"step": 1}, headers=write)).json()
    assert called["current_item_id"] == second["item_id"]
    assert (await http.get("/api/v1/live", headers=ava)).json()["current_title"] == second["title"]
    async with db.session() as session:
        state = await live.current(session, morgan)
    assert state is not None and state.current_item_id == second["item_id"]
    assert_error(await http.post("/api/v1/live/call", json={}, headers=write), 422, "invalid_input")
    assert (await http.delete("/api/v1/live", headers=write)).json()["live"] is False


async def test_documentation_is_served_by_the_app(user: User) -> None:
    http = user.http_client
    page = await http.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "http" not in page.text.replace("http-equiv", "").split("<body>")[1]  # every asset is the app's own
    assert "<script>" not in page.text  # no inline script: the pages' Content-Security-Policy holds
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"):
        response = await http.get(f"/api/docs/{asset}")
        assert response.status_code == 200 and len(response.content) > 100
    assert (await http.get("/api/docs/../../main.py")).status_code == 404
    spec = (await http.get("/api/v1/openapi.json")).json()
    assert "/api/v1/songs" in spec["paths"] and "/api/v1/setlists/{setlist_id}/ops" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_a_leaders_open_editor_shows_an_api_change_in_place(user: User) -> None:
    from tests.factories import enter_as, rows_order

    morgan = await enter_as(user, "Morgan Lee")
    async with db.session() as session:
        setlist_id = (await session.exec(select(Setlist.id).where(Setlist.name == DEMO_SETLIST))).one()
        before = await setlists.entries(session, morgan, setlist_id)
    await user.open(f"/setlists/{setlist_id}")
    await user.should_see(marker="add-songs")
    write = bearer(await token_for(morgan, tokens.WRITE))
    moved = before[-1].item_id
    body = {"ops": [{"kind": "move", "item_id": moved, "index": 0},
                    {"kind": "insert", "values": {"is_break": True, "label": "Encore from a script"}}]}
    response = await user.http_client.post(f"/api/v1/setlists/{setlist_id}/ops", json=body, headers=write)
    assert response.status_code == 200
    await user.should_see("Encore from a script")
    assert rows_order(user)[0] == moved
