"""One guard for every signed-in page (``@member_page`` / ``@leader_page`` under ``@router.page``) and one
dependency for the plain HTTP routes on the session cookie (``actor: SignedIn``).

The page function names an ``actor: Actor`` parameter and receives the signed-in member; signed-out visitors are
sent to sign-in (303) before anything is built. ``leader_page`` refuses members inside the usual frame, so the
refusal answers 403 with a way back (NiceGUI's authentication example does the same check as middleware; a
decorator keeps public pages free of any list of exceptions).

The HTTP routes (media, offline data, prints, Drive consent) take the member as a FastAPI dependency, as FastAPI's
full-stack template does: ``NotSignedIn`` answers 401 through the one error mapping. This is the *cookie* path only;
the public API (``pages/api.py``) resolves bearer tokens with its own dependency and never reads the cookie.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from soleil_ui.access import Actor

from .layout import page_frame
from .session import actor_or_none, current_actor

Page = Callable[..., Awaitable[Any]]
LOGIN = "/login"
SignedIn = Annotated[Actor, Depends(current_actor)]  # an HTTP route's member (the cookie's session), or 401
MaybeSignedIn = Annotated[Actor | None, Depends(actor_or_none)]  # for routes that answer signed-out visitors too


def member_page(page: Page) -> Page:
    """The page for any member of the signed-in band."""
    return _guarded(page, leader=False)


def leader_page(page: Page) -> Page:
    """The page for the band's leaders; a member sees the calm refusal (403) in the frame."""
    return _guarded(page, leader=True)


def _guarded(page: Page, *, leader: bool) -> Page:
    signature = inspect.signature(page, eval_str=True)  # the page's own names (QueryInt…), resolved where they live
    if "actor" not in signature.parameters:
        raise TypeError(f"{page.__name__} must take an 'actor' parameter")
    wants_request = "request" in signature.parameters
    request_param = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    others = [p for name, p in signature.parameters.items() if name not in ("actor", "request")]

    @functools.wraps(page)
    async def guarded(request: Request, **kwargs: Any) -> Any:
        actor = await actor_or_none(request)
        if actor is None:
            return RedirectResponse(LOGIN, status_code=303)
        if leader and not actor.is_leader:
            with page_frame(actor, ""):  # the frame turns the refusal into its 403 page
                actor.require_leader()
            return None
        if wants_request:
            kwargs["request"] = request
        return await page(actor=actor, **kwargs)

    # FastAPI (through NiceGUI) reads this: the request and the page's own path/query parameters, never the actor.
    guarded.__signature__ = signature.replace(parameters=[request_param, *others])  # type: ignore[attr-defined]
    return guarded


__all__ = ["Actor", "MaybeSignedIn", "SignedIn", "leader_page", "member_page"]
