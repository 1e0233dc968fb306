"""The installable app and offline sets: manifest, icons, the service worker, the static offline stand, the data
the browser downloads, and the "Offline sets" screen."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from functools import cache
from pathlib import Path

import nicegui
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from nicegui import APIRouter, ui

from components import pwa
from components.guard import MaybeSignedIn, SignedIn, member_page
from components.layout import page_frame
from components.params import MaybeQueryId
from components.session import throttle
from soleil_ui.access import Actor
from soleil_ui.errors import NotFound
from soleil_ui.ids import parse_ids
from soleil_ui.services import offline, page_data, prepare, work

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "components" / "static"
NICEGUI_STATIC = Path(nicegui.__file__).parent / "static"
NICEGUI_BASE = f"/_nicegui/{nicegui.__version__}/static"
NO_STORE = {"Cache-Control": "no-store"}
REVALIDATE = {"Cache-Control": "no-cache"}  # the service worker keeps its own copies; browsers ask each time
ICONS = {"icon-192.png": (192, False), "icon-512.png": (512, False), "maskable-512.png": (512, True),
         "apple-touch-icon.png": (180, False)}
README_HTTPS = "README.md, section “Trying it from your phone”"


def _icon_font() -> str:
    """NiceGUI's own copy of the Material Icons font (the stand's toolbar icons), for the offline stand."""
    css = (NICEGUI_STATIC / "fonts.css").read_text(encoding="utf-8")
    found = re.search(r'font-family:\s*"Material Icons";.*?url\((fonts/[^)]+\.woff2)\)', css, re.S)
    return f"{NICEGUI_BASE}/{found.group(1)}" if found else ""


@cache
def _shell() -> tuple[str, list[str]]:
    """The build id (changes with any of our static files, so a new stand.js is a new worker and a fresh cache of
    NiceGUI's files, which are served as immutable) and the URLs the worker keeps at install."""
    font = _icon_font()
    shell = ["/offline", "/pwa/offline.js", "/pwa/stand.js", "/pwa/stand.css", "/pwa/pencil.js", "/pwa/pencil.css",
             "/manifest.webmanifest",
             "/pwa/icons/icon-192.png", f"{NICEGUI_BASE}/vue.esm-browser.prod.js"] + ([font] if font else [])
    digest = hashlib.sha256(nicegui.__version__.encode())
    for path in sorted(STATIC.iterdir()):  # every script and style of ours, NiceGUI components included
        if path.is_file():
            digest.update(path.name.encode() + (path.read_bytes()))
    return digest.hexdigest()[:12], shell


def _static(name: str, media_type: str) -> Response:
    return Response((STATIC / name).read_bytes(), media_type=media_type, headers=REVALIDATE)


# --- installable app ------------------------------------------------------------------------------------------------
@router.get("/manifest.webmanifest")
def manifest() -> Response:
    data = {
        "name": "SOLEil", "short_name": "SOLEil", "id": "/", "start_url": "/", "scope": "/",
        "description": "Your band's charts, setlists and gigs on every stand.",
        "display": "standalone", "display_override": ["fullscreen", "standalone"], "orientation": "any",
        "background_color": pwa.THEME_COLOR, "theme_color": pwa.THEME_COLOR,
        "icons": [{"src": f"/pwa/icons/{name}", "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": "maskable" if maskable else "any"}
                  for name, (size, maskable) in ICONS.items() if name != "apple-touch-icon.png"],
    }
    return Response(json.dumps(data), media_type="application/manifest+json", headers=REVALIDATE)


@router.get("/pwa/icons/{name}")
def icon(name: str) -> Response:
    if name not in ICONS:
        raise NotFound("No such icon.")
    size, maskable = ICONS[name]
    return Response(sun_icon(size, maskable=maskable), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@cache
def sun_icon(size: int, *, maskable: bool = False) -> bytes:
    """SOLEil's sun on the app's slate blue, drawn with Pillow (4x supersampled); maskable keeps to the safe zone."""
    from PIL import Image, ImageDraw

    scale = 4
    side = size * scale
    image = Image.new("RGB", (side, side), pwa.THEME_COLOR)
    draw = ImageDraw.Draw(image)
    centre = side / 2
    reach = side * (0.36 if maskable else 0.44)  # maskable icons are cropped to a circle of 80%
    disc, inner = reach * 0.5, reach * 0.66
    for ray in range(12):
        angle = ray * math.pi / 6
        width = reach * 0.09
        dx, dy = math.cos(angle), math.sin(angle)
        px, py = -dy * width / 2, dx * width / 2
        a = (centre + dx * inner, centre + dy * inner)
        b = (centre + dx * reach, centre + dy * reach)
        draw.polygon([(a[0] + px, a[1] + py), (b[0] + px / 3, b[1] + py / 3), (b[0] - px / 3, b[1] - py / 3),
                      (a[0] - px, a[1] - py)], fill="#f2a541")
    draw.ellipse([centre - disc, centre - disc, centre + disc, centre + disc], fill="#f2a541",
                 outline=pwa.ACCENT_COLOR, width=max(1, round(reach * 0.06)))
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


@router.get("/sw.js")
def service_worker() -> Response:
    build, shell = _shell()
    text = (STATIC / "sw.js").read_text(encoding="utf-8").replace("__BUILD__", build).replace(
        "__SHELL__", json.dumps(shell)).replace("__NICEGUI__", f"/_nicegui/{nicegui.__version__}/")
    return Response(text, media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})


@router.get("/pwa/offline.js")
def offline_script() -> Response:
    return _static("offline.js", "text/javascript")


@router.get("/pwa/stand.js")
def stand_script() -> Response:
    return _static("stand.js", "text/javascript")


@router.get("/pwa/stand.css")
def stand_css() -> Response:
    return _static("stand.css", "text/css")


@router.get("/pwa/pencil.js")
def pencil_script() -> Response:
    return _static("pencil.js", "text/javascript")


@router.get("/pwa/pencil.css")
def pencil_css() -> Response:
    return _static("pencil.css", "text/css")


@router.get("/offline")
def offline_stand() -> HTMLResponse:
    """The static offline stand: no server session; the service worker shows it whenever a page can't load."""
    text = (STATIC / "offline.html").read_text(encoding="utf-8").replace(
        "__VUE__", f"{NICEGUI_BASE}/vue.esm-browser.prod.js").replace("__ICON_FONT__", _icon_font())
    return HTMLResponse(text, headers=REVALIDATE)


@router.get("/pwa/https")
def https_help() -> HTMLResponse:
    """Why offline sets, the wake lock and Add to Home Screen are off over plain HTTP, and how to turn them on."""
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>HTTPS · SOLEil</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:640px;margin:0 auto;padding:16px;color:#222}}
code{{background:#eee;padding:1px 4px;border-radius:3px}} a{{color:#b3541e}}</style></head><body>
<h1>SOLEil needs HTTPS for offline sets</h1>
<p>Browsers allow offline sets (the service worker), keeping the screen on while you read, and “Add to Home Screen”
only on a secure address: <code>https://…</code>, or this very computer (<code>localhost</code>).
Over plain <code>http://</code> on the network, charts still open and turn, but nothing is kept for a dead Wi-Fi.</p>
<h2>Turn it on</h2><ol>
<li><b>Give SOLEil a certificate</b>:
<code>SOLEIL_TLS_CERT=cert.pem SOLEIL_TLS_KEY=key.pem SOLEIL_HOST=0.0.0.0 make run</code>.
On a LAN, <a href="https://github.com/FiloSottile/mkcert">mkcert</a> makes a certificate your phones can trust
(install its root CA on each phone).</li>
<li><b>A reverse proxy with automatic certificates</b>: <code>deploy/docker-compose.yml</code> runs SOLEil with
Caddy, which gets a Let's Encrypt certificate for your domain.</li></ol>
<p>Details: the project's {README_HTTPS}.</p><p><a href="/">Back to SOLEil</a></p></body></html>""")


# --- what the browser downloads ----------------------------------------------------------------------------------
@router.get("/pwa/scope")
async def scope(request: Request, actor: MaybeSignedIn) -> JSONResponse:
    """Whose offline data this browser may use now (None: nobody signed in), and the sets leaders asked for."""
    if actor is None:
        return JSONResponse({"scope": None, "prepare": []}, headers=NO_STORE)
    requests = await work.act(prepare.standing, actor)
    return JSONResponse({"scope": offline.scope_of(actor), "band": actor.band_name,
                         "prepare": [r.to_json() for r in requests.values()]},
                        headers=NO_STORE)


@router.get("/pwa/offline/setlists/{setlist_id:id}")
async def offline_manifest(request: Request, actor: SignedIn, setlist_id: int, audio: bool = False) -> JSONResponse:
    """Everything this member's device keeps for a setlist: songs in their part, page URLs at the device's widths."""
    await throttle(request, "work", actor)
    widths = parse_ids(request.query_params.getlist("w"), limit=4)
    found = await work.act(offline.offline_set, actor, setlist_id, widths=widths, audio=audio)
    return JSONResponse(found.to_json(), headers=NO_STORE)


@router.get("/pwa/offline/status")
async def offline_status(request: Request, actor: SignedIn) -> JSONResponse:
    """The current digest of each set a device keeps (``?id=3&id=7&audio=7``); None: gone, or no longer mine."""
    ids = parse_ids(request.query_params.getlist("id"))
    audio = parse_ids(request.query_params.getlist("audio"))
    found = await work.act(offline.digests, actor, ids, audio=audio)
    return JSONResponse({"digests": {str(k): v for k, v in found.items()}}, headers=NO_STORE)


# --- the screen -------------------------------------------------------------------------------------------------
@router.page("/offline-sets")
@member_page
async def offline_sets_page(actor: Actor, setlist: MaybeQueryId = None) -> None:
    """Which sets this device keeps offline, their size and freshness; make others available; leaders ask all."""
    data = await page_data.offline_sets(actor)
    lists, coming, zone = data.setlists, data.upcoming, data.zone
    gigs_of: dict[int, list[str]] = {}
    for gig in coming:
        if gig.setlist_id is not None:
            gigs_of.setdefault(gig.setlist_id, []).append(
                f"{gig.title} · {gig.starts_at.astimezone(zone):%a %d %b, %H:%M}")
    first = [s for s in lists if s.id == setlist] + [s for s in lists if s.id in gigs_of and s.id != setlist]
    ordered = first + [s for s in lists if s not in first]
    with page_frame(actor, "Offline sets", back=f"/setlists/{setlist}" if setlist else "/"):
        ui.label("Keep a setlist's charts on this phone or tablet, so the stand works with no connection on stage: "
                 "page turns, every song of the set, night mode and zoom.").classes("text-sm text-grey-8")
        pwa.offline_storage()
        if not ordered:
            ui.label("No setlists yet.").classes("text-grey-7")
        for item in ordered:
            assert item.id is not None
            with ui.card().classes("w-full").props("flat bordered").mark(f"offline-card-{item.id}"):
                ui.label(item.name).classes("text-base font-medium")
                for when in gigs_of.get(item.id, []):
                    ui.label(f"Gig: {when}").classes("text-xs text-secondary")
                pwa.offline_button(item.id, item.name)
                pwa.prepare_button(actor, item.id, item.name)
        ui.label("Reading offline: open the set's stand as usual. If the phone drops the app meanwhile, reopening it "
                 "with no connection shows the offline stand, at the song and page you were on.") \
            .classes("text-xs text-grey-7")
        # stale sets say so and update now (also done in the background on any page, every few minutes)
        ui.add_body_html("<script>addEventListener('load', () => setTimeout(() => "
                         "window.SoleilOffline && window.SoleilOffline.check({force: true}), 300));</script>")
    return None
