"""Every route of the app, from its route table, called with hostile values as anonymous, member and leader: no
answer is a 500 and no traceback reaches the log.

Path parameters get huge, negative and odd values (the others real ones from the demo band, so the hostile value
is the only thing wrong); every query parameter a route declares, and the ones it reads itself (``RAW_QUERY``), gets
the same values. A route missing from ``RAW_QUERY`` fails the walk: whoever adds a route says what it reads.

Every value that can reach a route's handler is walked. A value turned away before any handler, by the router (no
route's path matches: ``{x:id}`` takes 1 to 9 digits) or by FastAPI's validation of the route's own declared
parameter (the same for every route and role), is walked once per route, method and parameter, rotating through
the values so that each turned-away value is still walked somewhere; the walk checks those answers are the 404 or
422 it predicted, so the prediction can't go stale unseen.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from nicegui import Client, core
from nicegui.testing import User
from sqlmodel import select
from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute, Route

from components.session import actor_or_none, current_actor
from pages.api import grant
from soleil_ui.db import db
from soleil_ui.demo import demo_people
from soleil_ui.models import AudioTrack, Chart, ChartStatus, Gig, Setlist, Song
from soleil_ui.services import tokens
from soleil_ui.settings import Settings, get_settings
from tests.api_helpers import actor_named, token_for
from tests.library_helpers import demo_sign_in

HOSTILE = ["99999999999999999999999", "2147483648", "-1", "0", "1.5", "abc", "x" * 5000, "%00", "🎺", "<b>'\"",
           "../../etc/passwd", ""]
# What a database itself may refuse, and PostgreSQL does where SQLite shrugs: integers past 32 and 64 bits, a NUL
# byte in text, a value longer than an index entry. The rest (negative, zero, a fraction, letters, markup, a path, a
# character beyond the BMP, nothing) is turned away by the route or the service before any query, or stored the same
# by both databases, and walked on SQLite only.
DATABASE_BOUND = ["99999999999999999999999", "2147483648", "x" * 5000, "%00"]
SPEC = ("part", "kind", "hint", "ck", "key", "oct", "clef", "src")
# route path -> query parameters it reads from request.query_params itself (beyond those in its signature)
RAW_QUERY: dict[str, tuple[str, ...]] = {
    "/healthz": (), "/healthz/metrics": (), "/readyz": (),
    "/login": (), "/auth/demo/{user_id:id}": ("csrf",), "/auth/logout": ("csrf",),
    "/auth/google": (), "/auth/callback": ("state", "code", "error"), "/auth/problem": (), "/no-band": (),
    "/auth/notice": (), "/join/{token}": (), "/welcome": (), "/profile": (), "/members": (), "/bands": (),
    "/bands/new": (), "/": (), "/library": (), "/library/files": (), "/auth/drive/start": (),
    "/auth/drive/callback": (), "/songs/{song_id:id}": (), "/stand/{chart_id:id}": (), "/live/{setlist_id:id}": (),
    "/setlists": (), "/setlists/{setlist_id:id}": (), "/setlists/{setlist_id:id}/print.pdf": (), "/gigs": (),
    "/setlists/import": (), "/setlists/{setlist_id:id}/export.csv": (),
    "/gigs/new": (), "/gigs/{gig_id:id}/edit": (), "/gigs/{gig_id:id}": (),
    "/media/charts/{chart_id:id}/pages/{page:id}": (), "/media/charts/{chart_id:id}/svg/{page:id}": SPEC,
    "/media/charts/{chart_id:id}/print.pdf": SPEC, "/media/audio/{track_id:id}": (), "/calendar/{secret}.ics": (),
    "/manifest.webmanifest": (), "/pwa/icons/{name}": (), "/sw.js": (), "/pwa/offline.js": (), "/pwa/stand.js": (),
    "/pwa/stand.css": (), "/pwa/pencil.js": (), "/pwa/pencil.css": (), "/offline": (), "/pwa/https": (),
    "/pwa/scope": (),
    "/pwa/offline/setlists/{setlist_id:id}": ("w",), "/pwa/offline/status": ("id", "audio"),
    "/offline-sets": (), "/auth/drive/verify": (), "/annotations/{chart_id:id}": ("part", "page", "ids"),
    "/annotations/{chart_id:id}/print.pdf": (),
    # the JSON API and MCP (bearer tokens: the member's and the leader's clients carry one)
    "/api/v1/openapi.json": (), "/api/docs": (), "/api/docs/{name}": (), "/api/v1/me": (), "/api/v1/members": (),
    "/api/v1/parts": (), "/api/v1/songs": (), "/api/v1/songs/last-played": (), "/api/v1/songs/{song_id}": (),
    "/api/v1/songs/{song_id}/my-part": (), "/api/v1/songs/{song_id}/history": (),
    "/api/v1/media/charts/{chart_id}/pages/{page}": (), "/api/v1/media/charts/{chart_id}/svg/{page}": SPEC,
    "/api/v1/setlists": (), "/api/v1/setlists/{setlist_id}": (), "/api/v1/setlists/{setlist_id}/ops": (),
    "/api/v1/setlists/{setlist_id}/undo": (), "/api/v1/gigs": (), "/api/v1/gigs/{gig_id}": (),
    "/api/v1/gigs/{gig_id}/availability": (), "/api/v1/live": (), "/api/v1/live/call": (), "/api/{rest:path}": (),
    "/mcp": (), "/favicon.ico": (),
}


@pytest.fixture
def roomy(demo_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Limits and bounds out of the way: this walk is about answers, not throttling (tested on their own)."""
    for name in ("limit_sign_in", "limit_join", "limit_invites", "limit_media", "limit_work",
                 "limit_anonymous_pages", "limit_api", "limit_annotations"):
        monkeypatch.setenv(f"SOLEIL_{name.upper()}", "1000000/minute")
    for name in ("max_clients", "max_clients_per_account", "max_clients_per_address"):
        monkeypatch.setenv(f"SOLEIL_{name.upper()}", "1000000")
    get_settings.cache_clear()
    return get_settings()


def our_routes() -> list[Route]:
    """The app's route table, with included routers opened (FastAPI keeps them as one entry each, nested as deep as
    they were included: the API's ``/api/v1`` lives inside ``pages.api.router``), plain Starlette routes (``/mcp``)
    too."""
    return [route for route in every_route() if isinstance(route, Route) and not route.path.startswith("/_nicegui")
            and not route.endpoint.__module__.startswith("tests.")]  # a page another test declared


def every_route() -> list[BaseRoute]:
    """Every leaf of the route table, NiceGUI's own and mounts too: what the router may send a path to."""
    def walk(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
        for route in routes:
            included = getattr(route, "original_router", None)
            yield from walk(included.routes) if included is not None else [route]
    return list(walk(core.app.routes))


async def real_values() -> dict[str, str]:
    """A real value of each path parameter, from the demo band."""
    async with db.session() as session:
        chart = (await session.exec(select(Chart).where(Chart.status == ChartStatus.OK, Chart.kind == "chart"))).first()
        song = (await session.exec(select(Song))).first()
        gig = (await session.exec(select(Gig))).first()
        setlist = (await session.exec(select(Setlist))).first()
        track = (await session.exec(select(AudioTrack))).first()
    assert chart and song and gig and setlist
    (person, _membership), *_ = await demo_people()
    return {"chart_id": str(chart.id), "page": "0", "song_id": str(song.id), "gig_id": str(gig.id),
            "setlist_id": str(setlist.id), "track_id": str(track.id if track else 1), "user_id": str(person.id),
            "token": "abc", "secret": "abc", "name": "icon-192.png", "rest": "v1/nothing"}


def requests_for(route: Route, real: dict[str, str], hostile: list[str]
                 ) -> Iterator[tuple[str, str, str, str, dict[str, str]]]:
    """(method, parameter, hostile value, url, form or query values) for every ``hostile`` value in every parameter
    of ``route`` (parameter and value empty for a route without any)."""
    names = list(route.param_convertors)
    declared = route.dependant.query_params if isinstance(route, APIRoute) else []
    queries = [p.name for p in declared] + list(RAW_QUERY[route.path])

    def url(values: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: httpx.URL("/" + values[m.group(1)]).raw_path.decode()[1:]
                      if values[m.group(1)] else "", route.path)

    for method in sorted(route.methods or ()):
        for name in names:
            for value in hostile:
                yield method, name, value, url({**real, name: value}), {}
        for name in queries:
            for value in hostile:
                yield method, "?" + name, value, url(real), {name: value}
        if not names and not queries:
            yield method, "", "", url(real), {}


def reads_no_parameter(route: APIRoute) -> bool:
    """True if every dependency of ``route`` reads only the caller's cookie or bearer token: they run before
    FastAPI validates the route's parameters, so one reading a parameter would see a value validation refuses."""
    def calls(dependant: Dependant) -> Iterator[object]:
        for sub in dependant.dependencies:
            yield sub.call
            yield from calls(sub)
    return all(call in (current_actor, actor_or_none, grant) or isinstance(call, SecurityBase)
               for call in calls(route.dependant))


def fate(route: Route, request: httpx.Request, raw: bool, leaves: list[BaseRoute]) -> str:
    """Where ``request`` (built for ``route``) ends: ``unrouted`` if no path of the app matches it (the router's 404,
    not even a trailing-slash redirect), ``invalid`` if FastAPI's validation of the route's declared parameters
    refuses it (422 before the handler, a pure function of value and type), else ``handler``. Anything this can't
    tell for sure (another route matching too, a POST's form, a raw read, a dependency reading parameters) is
    ``handler``: walked in full."""
    path = request.url.path
    paths = {path, path + "/", path.rstrip("/") or "/"}
    if not any(not isinstance(regex := getattr(leaf, "path_regex", None), re.Pattern)
               or any(regex.match(p) for p in paths) for leaf in leaves):
        return "unrouted"
    winner = next((leaf for leaf in leaves if not isinstance(regex := getattr(leaf, "path_regex", None), re.Pattern)
                   or (regex.match(path) and request.method in (getattr(leaf, "methods", None) or {request.method}))),
                  None)
    own = route.path_regex.match(path)
    if winner is not route or not own or raw or request.method == "POST" or not isinstance(route, APIRoute) \
            or not reads_no_parameter(route):
        return "handler"
    path_params = {key: route.param_convertors[key].convert(value) for key, value in own.groupdict().items()}
    _, refused = request_params_to_args(route.dependant.path_params, path_params)
    _, refused_query = request_params_to_args(route.dependant.query_params, QueryParams(request.url.query))
    return "invalid" if refused or refused_query else "handler"


class Ask(NamedTuple):
    route: Route
    method: str
    url: str
    values: dict[str, str]
    value: str  # the hostile value in it
    fate: str  # see ``fate``


def walk_plan(routes: list[Route], real: dict[str, str], hostile: list[str]) -> tuple[list[Ask], dict[str, set[str]]]:
    """The requests to make and, per fate, the hostile values turned away.

    Every request that can reach a handler; of those turned away before any handler, one per route, method,
    parameter and fate (the value so far walked least with that fate), and any value not yet walked with a fate it
    met somewhere. An exact repeat (the same method, url and values) is asked once."""
    leaves = every_route()
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    groups: dict[tuple[int, str, str], list[Ask]] = {}
    with httpx.Client(base_url="http://test") as builder:
        for index, route in enumerate(routes):
            for method, name, value, url, values in requests_for(route, real, hostile):
                if (key := (method, url, tuple(values.items()))) in seen:
                    continue
                seen.add(key)
                raw = name.startswith("?") and name[1:] in RAW_QUERY[route.path]
                end = fate(route, builder.build_request(method, url, params=values), raw, leaves)
                groups.setdefault((index, method, name), []).append(Ask(route, method, url, values, value, end))
    everything = [ask for group in groups.values() for ask in group]
    turned_away: dict[str, set[str]] = {"unrouted": set(), "invalid": set()}
    for ask in everything:
        if ask.fate != "handler":
            turned_away[ask.fate].add(ask.value)
    kept = [ask.fate == "handler" for ask in everything]
    walked = {(ask.fate, ask.value): 1 for ask in everything if ask.fate == "handler"}
    for i, ask in enumerate(everything):  # every turned-away value at least once with each fate it met
        if (ask.fate, ask.value) not in walked:
            kept[i], walked[ask.fate, ask.value] = True, 1
    position = {id(ask): i for i, ask in enumerate(everything)}
    for group in groups.values():  # and one of each route, method, parameter and fate
        for end in turned_away:
            refused = [ask for ask in group if ask.fate == end]
            if refused and not any(kept[position[id(ask)]] for ask in refused):
                ask = min(refused, key=lambda a: (walked.get((end, a.value), 0), hostile.index(a.value)))
                kept[position[id(ask)]] = True
                walked[end, ask.value] = walked.get((end, ask.value), 0) + 1
    return [ask for ask, keep in zip(everything, kept, strict=True) if keep], turned_away


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_every_route_answers_hostile_values_without_a_500(roomy: Settings, user: User, database_url: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    hostile = DATABASE_BOUND if database_url.startswith("postgresql") else HOSTILE
    routes = our_routes()
    missing = sorted(r.path for r in routes if r.path not in RAW_QUERY)
    assert not missing, f"add the routes' hostile query values to RAW_QUERY: {missing}"
    assert len(routes) >= 70 and {"/mcp", "/api/v1/songs/{song_id}"} <= {r.path for r in routes}
    real = await real_values()
    plan, turned_away = walk_plan(routes, real, hostile)
    assert {ask.route.path for ask in plan} == {r.path for r in routes}
    if hostile == HOSTILE:  # the router and validation really turn these away (so they are walked less often)
        assert {"abc", "-1", "x" * 5000} <= turned_away["unrouted"]
        assert "99999999999999999999999" in turned_away["invalid"]
    people = await demo_people()
    leader_user = next(u for u, m in people if m.role == "leader")
    member_user = next(u for u, m in people if m.role == "member")
    leader, member = leader_user.id, member_user.id
    secrets = {"member": await token_for(await actor_named(member_user.name)),  # the API's and MCP's key
               "leader": await token_for(await actor_named(leader_user.name), tokens.WRITE)}
    transport = httpx.ASGITransport(app=core.app)
    clients = {role: httpx.AsyncClient(transport=transport, base_url="http://test") for role in ("anonymous",
                                                                                               "member", "leader")}
    try:
        for role, person in (("member", member), ("leader", leader)):
            assert (await demo_sign_in(clients[role], person or 0)).status_code == 303
            clients[role].headers["Authorization"] = f"Bearer {secrets[role]}"
        answered: dict[int, int] = {}
        failures: list[str] = []
        mispredicted: list[str] = []
        # PostgreSQL answers from another process: a few requests at once keep this one busy meanwhile; SQLite's
        # walk is all this process's work, where overlapping only adds switching
        gate = asyncio.Semaphore(4 if database_url.startswith("postgresql") else 1)

        async def ask(role: str, method: str, url: str, values: dict[str, str]) -> httpx.Response:
            async with gate:
                if method == "POST":
                    return await clients[role].post(url, data=values)
                return await clients[role].request(method, url, params=values)

        for route in routes:
            mine = [(a.method, a.url, a.values, a.fate) for a in plan if a.route is route]
            answers = await asyncio.gather(*(ask(role, method, url, values)
                                             for method, url, values, _ in mine for role in clients))
            for (role, (method, url, values, end)), response in zip(
                    [(role, request) for request in mine for role in clients], answers, strict=True):
                status = response.status_code
                answered[status] = answered.get(status, 0) + 1
                busy = status == 503 and ("retry-after" in response.headers or "/readyz" in url)
                if status >= 500 and not busy:
                    failures.append(f"{role} {method} {url[:80]} {str(values)[:60]} -> {status}")
                expected = {"unrouted": {404}, "invalid": {422} if role != "anonymous" else {401, 422}}.get(end)
                if expected and status not in expected:
                    mispredicted.append(f"{end}: {role} {method} {url[:80]} {str(values)[:60]} -> {status}")
            for client_ in list(Client.instances.values()):  # pages never connected: let them go as we walk
                if not client_.has_socket_connection:
                    client_.delete()
        assert not failures, "\n".join(failures[:40])
        assert not mispredicted, "\n".join(mispredicted[:40])
        tracebacks = [r for r in caplog.get_records("call") if r.exc_info or r.levelno >= logging.ERROR]
        assert not tracebacks, [r.getMessage() for r in tracebacks[:10]]
        assert answered.get(404, 0) > 50 and sum(answered.values()) == 3 * len(plan) > 600  # the walk really walked
        signed_in = await clients["member"].get("/", follow_redirects=False)
        assert signed_in.status_code == 200  # the walk's POSTs without a valid token signed nobody out
    finally:
        for client in clients.values():
            await client.aclose()
