"""Builders for library tests: real fixture charts, broken files, and bands with members."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from fpdf import FPDF

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.models import LibrarySource, Role
from soleil_ui.services import auth, members

FIXTURE_CHARTS = Path(__file__).parent / "fixtures" / "charts"


def titled_pdf(title: str, pages: int = 1, *, password: str | None = None) -> bytes:
    """A small real PDF whose metadata title is ``title`` (accents and apostrophes kept)."""
    pdf = FPDF()
    pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    for number in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=24)
        pdf.cell(text=f"page {number + 1}")
    return bytes(pdf.output())


def real_library(target: Path) -> Path:
    """The shared LilyPond fixtures plus the awkward cases a band's folder really has."""
    target.mkdir(parents=True, exist_ok=True)
    for chart in FIXTURE_CHARTS.glob("*.pdf"):
        shutil.copy(chart, target / chart.name)
    (target / "Concert Only").mkdir()
    (target / "Concert Only" / "Blue Monk_Concert.pdf").write_bytes(titled_pdf("Blue Monk", 2))
    (target / "SenorBlues_Bb.pdf").write_bytes(titled_pdf("Señor Blues"))
    (target / "Empty - Bb.pdf").write_bytes(b"")
    (target / "Truncated - Eb.pdf").write_bytes((FIXTURE_CHARTS / "TakeFive_Eb.pdf").read_bytes()[:4000])
    (target / "Error Page - Bb.pdf").write_bytes(b"<!DOCTYPE html><html><body>404 Not Found</body></html>")
    (target / "Locked - Bb.pdf").write_bytes(titled_pdf("Locked", password="s3cret"))
    (target / "Mystery.pdf").write_bytes(titled_pdf("Mystery"))
    (target / "TakeFive_Original.wav").write_bytes(b"RIFF" + b"\0" * 64)
    (target / ".DS_Store").write_bytes(b"\0\0")
    return target


async def band_with_member(name: str, instruments: list[dict[str, object]], *, role: str = Role.MEMBER,
                           library: Path | None = None, email: str | None = None) -> Actor:
    """A band with one member (and its library folder), returned as that member's Actor."""
    async with db.session() as session:
        band = await members.create_band(session, name)
        user = await members.get_or_create_user(session, email or f"{name.lower().replace(' ', '')}@example.org",
                                                name + " player")
        assert band.id and user.id
        await members.add_member(session, band.id, user.id, role=role, instruments=instruments)
        if library is not None:
            session.add(LibrarySource(band_id=band.id, kind="local", location=str(library)))
        token = await auth.start_session(session, user.id, band.id)
    async with db.session() as session:
        return await auth.resolve(session, token)


async def add_member(band_id: int, email: str, instruments: list[dict[str, object]],
                     role: str = Role.MEMBER) -> tuple[Actor, str]:
    """Another member of an existing band: their Actor and a session token for HTTP requests."""
    async with db.session() as session:
        user = await members.get_or_create_user(session, email, email.split("@")[0].title())
        assert user.id
        await members.add_member(session, band_id, user.id, role=role, instruments=instruments)
        token = await auth.start_session(session, user.id, band_id)
    async with db.session() as session:
        return await auth.resolve(session, token), token


def session_cookie(token: str, secret_key: str) -> str:
    """The signed session cookie a browser would hold after signing in (Starlette's SessionMiddleware format)."""
    import base64
    import json

    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps({"soleil_sid": token}).encode())
    return TimestampSigner(secret_key).sign(data).decode()


async def leader_token(band_name: str, email: str) -> tuple[int, str]:
    """A band with one leader; returns (band id, a session token for them)."""
    async with db.session() as session:
        band = await members.create_band(session, band_name)
        user = await members.get_or_create_user(session, email, email.split("@")[0].title())
        assert band.id and user.id
        await members.add_member(session, band.id, user.id, role=Role.LEADER)
        return band.id, await auth.start_session(session, user.id, band.id)


def csrf_from(page_html: str) -> str:
    """The anti-forgery token in a page's POST form (``name=csrf``; a NiceGUI page or a plain HTML one)."""
    import re

    found = re.search(r'name="?csrf"?[^>]*?value="([A-Za-z0-9_-]+)"', page_html) or re.search(
        r'"name":\s*"csrf",\s*"value":\s*"([A-Za-z0-9_-]+)"', page_html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def demo_sign_in(http_client: httpx.AsyncClient, user_id: int) -> httpx.Response:
    """What a tap on a demo member does: the POST with the session's token (read from the GET's button page)."""
    page = await http_client.get(f"/auth/demo/{user_id}")
    assert page.status_code == 200, page.text
    return await http_client.post(f"/auth/demo/{user_id}", data={"csrf": csrf_from(page.text)})


async def sign_out(http_client: httpx.AsyncClient) -> httpx.Response:
    page = await http_client.get("/auth/logout")
    return await http_client.post("/auth/logout", data={"csrf": csrf_from(page.text)})


async def open_refused(http_client: httpx.AsyncClient, path: str, status: int) -> str:
    """Open a page that must answer ``status`` (a refusal, a missing thing); returns the texts it shows."""
    import html

    response = await http_client.get(path)
    assert response.status_code == status, (response.status_code, response.text[:300])
    return html.unescape(response.text)
