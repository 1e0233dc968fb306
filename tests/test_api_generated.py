"""Engraved parts through the API (SQLite and PostgreSQL): a member's part of a MusicXML score comes with page URLs
under /api/v1 that answer the same bearer token with SVG, in the key of the night when one is asked for."""

from __future__ import annotations

from nicegui.testing import User

from tests.api_helpers import actor_named, bearer, token_for
from tests.generated_helpers import generated_library, ready, song

__all__ = ["generated_library"]  # the library of one score, one chord sheet and one PDF, set before the app starts


async def test_my_engraved_part_has_pages_the_token_opens(user: User) -> None:
    await ready()
    theo = bearer(await token_for(await actor_named("Theo Marsh")))  # trombone
    tune = await song("Tune")
    part = (await user.http_client.get(f"/api/v1/songs/{tune.id}/my-part", headers=theo)).json()
    assert part["generated"] and part["part_key"] == "instrument:trombone" and part["playable"]
    url = part["pages"][0]["url"]
    assert url.startswith(f"/api/v1/media/charts/{part['chart_id']}/svg/0?") and "part=instrument%3Atrombone" in url
    svg = await user.http_client.get(url, headers=theo)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "default-src 'none'" in svg.headers["content-security-policy"]
    assert (await user.http_client.get(url)).status_code == 401
    again = await user.http_client.get(url, headers={**theo, "If-None-Match": svg.headers["etag"]})
    assert again.status_code == 304 and "default-src 'none'" in again.headers["content-security-policy"]

    tonight = (await user.http_client.get(f"/api/v1/songs/{tune.id}/my-part", params={"key": "D"},
                                          headers=theo)).json()
    assert tonight["key_of_the_night"] == "D" and tonight["pages"][0]["url"] != url
    assert (await user.http_client.get(tonight["pages"][0]["url"], headers=theo)).status_code == 200
    as_pdf_page = await user.http_client.get(f"/api/v1/media/charts/{part['chart_id']}/pages/0", headers=theo)
    assert as_pdf_page.status_code == 303 and "/api/v1/media/charts/" in as_pdf_page.headers["location"]
    take_five = (await user.http_client.get("/api/v1/songs", params={"q": "take five"}, headers=theo)).json()
    detail = (await user.http_client.get(f"/api/v1/songs/{take_five['items'][0]['id']}", headers=theo)).json()
    pdf = next(p for p in detail["parts"] if not p["generated"])
    missing = await user.http_client.get(f"/api/v1/media/charts/{pdf['chart_id']}/svg/0", headers=theo)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
