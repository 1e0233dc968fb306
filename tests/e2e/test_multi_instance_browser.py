"""Two instances on separate data directories sharing one PostgreSQL database and an S3-compatible store (moto's
server on 127.0.0.1), as on two machines: the sync ran on instance A, a member on instance B opens every chart it
stored and follows the leader's calls made on A; eight members opening the same pages at once on both instances
cause one render per page and width; and the shipped Caddy configuration, run with the real binary, keeps each
browser on one instance."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.test_live_browser import SETLIST, app_env, expect_stand, open_setlist, order, pg_url, seed
from tests.library_helpers import csrf_from

pytestmark = pytest.mark.browser
__all__ = ["pg_url"]  # the fixture, imported for this module's tests
CADDYFILE = REPO_ROOT / "deploy" / "multi" / "Caddyfile"


def store_env(tmp_path: Path, url: str, library: Path, s3: str) -> dict[str, str]:
    return {**app_env(tmp_path, url, library), "SOLEIL_S3_ENDPOINT": s3, "SOLEIL_S3_ACCESS_KEY": "testing",
            "SOLEIL_S3_SECRET_KEY": "testing", "SOLEIL_S3_BUCKET": f"e2e-{uuid.uuid4().hex[:10]}"}


def sign_in(context: Any, url: str, user_id: int, name: str) -> Page:
    page = context.new_page()
    page.goto(f"{url}/auth/demo/{user_id}")
    page.get_by_role("button", name=f"Enter as {name}").click()
    expect(page.get_by_text("Next gig")).to_be_visible()
    return page


def signed_in_client(base: str, user_id: int) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get(f"/auth/demo/{user_id}")
    answer = client.post(f"/auth/demo/{user_id}", data={"csrf": csrf_from(form.text)})
    assert answer.status_code == 303, answer.text
    return client


def two_instances(live_server: Any, env: dict[str, str], tmp_path: Path) -> tuple[str, str]:
    one = live_server(["main.py"], env, "/readyz")
    two = live_server(["main.py"], {**env, "SOLEIL_DATA_DIR": str(tmp_path / "data-b")}, "/readyz")
    return one, two


def renders(*urls: str) -> int:
    return sum(httpx.get(f"{url}/healthz/metrics").json()["renders"] for url in urls)


def test_a_member_on_another_instance_opens_every_chart_and_follows(pg_url: str, live_server: Any, tablet: Any,
                                                                    phone: Any, tmp_path: Path,
                                                                    demo_library_dir: Path, s3_server: str) -> None:
    # pg_url first: its database is dropped after the apps using it have stopped (fixtures end in reverse order)
    env = store_env(tmp_path, pg_url, demo_library_dir, s3_server)
    seeded = seed(env)  # migrations and the demo band's sync, on instance A's data dir: the files go to the bucket
    one, two = two_instances(live_server, env, tmp_path)
    assert not (tmp_path / "data-b" / "blobs").exists()
    charts = sorted({c for plan in seeded["plans"].values() for c in plan.values() if c})

    # Four members per instance open the same pages at once, at widths nothing rendered ahead (six charts: the
    # race is per page and width; every chart opens on B below).
    def member(base: str) -> list[tuple[int, int]]:
        client = signed_in_client(base, seeded["people"]["Ava Brooks"])
        got = []
        try:
            for chart in charts[:6]:
                for width in (480, 2400):
                    answer = client.get(f"/media/charts/{chart}/pages/0?w={width}")
                    if answer.status_code == 200 and answer.headers["content-type"] == "image/webp":
                        got.append((chart, width))
        finally:
            client.close()
        return got

    before = renders(one, two)
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(member, [one] * 4 + [two] * 4))
    distinct = {key for got in seen for key in got}
    assert distinct and all(set(got) == distinct for got in seen)
    assert renders(one, two) - before == len(distinct)

    reader_http = signed_in_client(two, seeded["people"]["Ava Brooks"])
    try:  # every page of every chart the sync on A stored is served by B, from the shared store
        for chart in charts:
            for page in range(2):
                answer = reader_http.get(f"/media/charts/{chart}/pages/{page}?w=800")
                assert answer.status_code in ((200, 404) if page else (200,)), (chart, page, answer.status_code)
                assert answer.status_code == 404 or answer.headers["content-type"] == "image/webp"
    finally:
        reader_http.close()
    leader = sign_in(tablet, one, seeded["people"]["Morgan Lee"], "Morgan Lee")
    reader = sign_in(phone, two, seeded["people"]["Ava Brooks"], "Ava Brooks")
    stand = reader.context.new_page()
    for chart in charts[:2]:  # and the stand on B shows them (the same page for every chart: two of them)
        stand.goto(f"{two}/stand/{chart}")
        image = stand.locator("[data-testid=stand-slot] img").first
        expect(image).to_be_visible()
        stand.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    stand.close()

    setlist_id = seeded["setlist"]
    open_setlist(reader, two, setlist_id)
    open_setlist(leader, one, setlist_id)
    leader.get_by_role("button", name="Go live").click()
    expect(reader.get_by_text(f"Live now: {SETLIST}")).to_be_visible()
    reader.get_by_role("button", name="Follow").click()
    plan = seeded["plans"]["Ava Brooks"]
    songs = [seeded["songs"][str(item)] for item in order(leader) if str(item) in seeded["songs"]]
    expect_stand(reader, songs[0], plan[songs[0]])
    for call in (1, 2):
        leader.get_by_role("button", name="Next song").click()  # called on A
        expect_stand(reader, songs[call], plan[songs[call]])  # opened on B, its pages from the shared store
        img = reader.locator("[data-testid=stand-slot] img").first
        reader.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())


@pytest.fixture
def caddy() -> str:
    path = shutil.which("caddy")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("caddy is not installed (apt-get install caddy)")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    return path


def test_the_shipped_proxy_keeps_a_browser_on_one_instance(pg_url: str, live_server: Any, phone: Any, tmp_path: Path,
                                                           demo_library_dir: Path, s3_server: str,
                                                           caddy: str) -> None:
    env = store_env(tmp_path, pg_url, demo_library_dir, s3_server)
    seeded = seed(env)
    one, two = two_instances(live_server, env, tmp_path)
    home = tmp_path / "caddy-home"
    proxy = live_server(["sh", "-c", f'SOLEIL_SITE="http://127.0.0.1:$PORT" exec {caddy} run --config {CADDYFILE} '
                         "--adapter caddyfile"],
                        {"SOLEIL_A": one.removeprefix("http://"), "SOLEIL_B": two.removeprefix("http://"),
                         "SOLEIL_PROXY_ADMIN": "off", "SOLEIL_LB_SECRET": "e2e", "HOME": str(home),
                         "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}, "/readyz")
    instances = {json.loads(httpx.get(f"{url}/healthz").text)["instance"] for url in (one, two)}
    assert len(instances) == 2
    fresh = {httpx.get(f"{proxy}/healthz").json()["instance"] for _ in range(24)}  # no cookie: spread over both
    assert fresh == instances
    with httpx.Client(base_url=proxy) as browser_like:  # keeps the proxy's cookie, as a browser does
        pinned = {browser_like.get("/healthz").json()["instance"] for _ in range(12)}
    assert len(pinned) == 1

    page = sign_in(phone, proxy, seeded["people"]["Ava Brooks"], "Ava Brooks")  # the whole app through the proxy
    plan = seeded["plans"]["Ava Brooks"]
    chart = next(c for c in plan.values() if c)
    page.goto(f"{proxy}/stand/{chart}")
    image = page.locator("[data-testid=stand-slot] img").first
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    cookies = {c["name"] for c in phone.cookies()}
    assert "soleil_instance" in cookies
