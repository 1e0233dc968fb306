"""The one guard: signed-out visitors go to sign-in, HTTP routes answer 401, members are refused leaders' pages."""

from __future__ import annotations

from nicegui.testing import User

from soleil_ui.models import Role
from soleil_ui.settings import get_settings
from tests.library_helpers import add_member, band_with_member, open_refused, session_cookie
from tests.markers import SQLITE_ONLY

pytestmark = SQLITE_ONLY

KEYS = [{"instrument": "keys", "chair": None}]
PAGES = ["/", "/gigs", "/gigs/new", "/gigs/1", "/gigs/1/edit", "/library", "/library/files", "/members", "/profile",
         "/setlists", "/setlists/1", "/songs/1", "/stand/1", "/live/1", "/offline-sets", "/welcome", "/bands"]
ROUTES = ["/media/charts/1/pages/0", "/media/charts/1/svg/0", "/media/charts/1/print.pdf", "/media/audio/1",
          "/pwa/offline/setlists/1", "/pwa/offline/status", "/setlists/1/print.pdf", "/auth/drive/start?folder=x"]


async def test_signed_out_visitors_are_sent_to_sign_in_and_routes_answer_401(user: User) -> None:
    for path in PAGES:
        answer = await user.http_client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/login"), path
    for path in ROUTES:
        assert (await user.http_client.get(path)).status_code == 401, path
    scope = await user.http_client.get("/pwa/scope")  # answers signed-out browsers too
    assert scope.status_code == 200 and scope.json()["scope"] is None


async def test_a_member_is_refused_the_leaders_pages_in_the_frame(user: User) -> None:
    leader = await band_with_member("Band", KEYS, role=Role.LEADER)
    _member, token = await add_member(leader.band_id, "m@example.org", KEYS)
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    for path in ("/gigs/new", "/gigs/1/edit", "/library/files"):
        shown = await open_refused(user.http_client, path, 403)
        assert "Only the band's leaders can do that." in shown and "Members and invites" not in shown, path
    assert (await user.http_client.get("/gigs")).status_code == 200
