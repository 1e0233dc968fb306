"""A member's private calendar feed: ``/calendar/<secret>.ics``, the one route reached by its secret URL alone.

Phone calendars subscribe to it and poll it without cookies, so it can't ask who is signed in: the secret in the
path is the credential (only its hash is stored; revoking or regenerating it, or leaving the band, ends it).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from soleil_ui.services import gigs, work
from soleil_ui.settings import get_settings

router = APIRouter()


@router.get("/calendar/{secret}.ics")
async def calendar_feed(request: Request, secret: str) -> Response:
    base_url = get_settings().public_url or str(request.base_url)
    body = await work.before_actor(gigs.calendar_ics, secret, base_url=base_url)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="gigs.ics"',
        "X-Robots-Tag": "noindex"})
