"""Members in the UI, through NiceGUI's simulated users: the first visit, the member list, removal, sessions.

People sign in for real through the local OpenID provider (see test_signin_oidc.py). Several people share one
simulated app; the simulation has one global ``ui.navigate``, so ``people`` routes each navigation (and
notification) to the person whose page asked for it, as separate browsers would.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from nicegui import context, core, ui
from nicegui.testing import User
from nicegui.testing.user_navigate import UserNavigate
from nicegui.testing.user_notify import UserNotify
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import AudioTrack, Membership, Role
from soleil_ui.models import User as Account
from soleil_ui.runtime import get_runtime
from soleil_ui.services import auth, invites, members
from soleil_ui.settings import get_settings
from tests.conftest import settling
from tests.library_helpers import open_refused
from tests.markers import SQLITE_ONLY
from tests.oidc_helpers import consent, oidc_env, oidc_provider, provider_account, to_provider  # noqa: F401

# oidc_env before user: main.py must start with Google configured (pointing at the local provider)
pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("oidc_env"),
              pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]
BAND = "The Brass Menagerie"


def _owner(crowd: list[User], fallback: User) -> User:
    try:
        client = context.client
    except RuntimeError:  # no page in context
        return fallback
    return next((person for person in crowd if person.client is client), fallback)


@pytest.fixture
def people(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[User]]:
    """Everyone taking part; navigation and notifications go to the person whose page caused them."""
    crowd: list[User] = []
    navigate_to, reload = UserNavigate.to, UserNavigate.reload

    def to(self: UserNavigate, target: Any, new_tab: bool = False) -> None:
        navigate_to(_owner(crowd, self.user).navigate, target, new_tab)

    def reload_owner(self: UserNavigate) -> None:
        reload(_owner(crowd, self.user).navigate)

    def notify(self: UserNotify, message: str, **kwargs: Any) -> None:
        owner = next((p for p in crowd if p.notify is self), None)
        target = _owner(crowd, owner) if owner is not None else None
        (target.notify if target is not None else self).messages.append(message)

    monkeypatch.setattr(UserNavigate, "to", to)
    monkeypatch.setattr(UserNavigate, "reload", reload_owner)
    monkeypatch.setattr(UserNotify, "__call__", notify)
    yield crowd


@pytest.fixture
async def browser(user: User, people: list[User]) -> AsyncIterator[Callable[[], User]]:
    """``browser()`` opens another simulated browser (its own cookies) on the same app."""
    people.append(user)
    clients: list[httpx.AsyncClient] = []

    def open_browser() -> User:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test")
        clients.append(client)
        person = User(client)
        settling(person)
        people.append(person)
        return person

    yield open_browser
    for client in clients:
        await client.aclose()


def provider() -> str:
    return get_settings().oidc_metadata_url.split("/.well-known/")[0]


async def sign_in(person: User, email: str, name: str) -> str:
    """Sign in through the local provider as ``email``; returns where the app sent the person."""
    sub = "google-" + email.split("@")[0]
    await provider_account(provider(), sub, email, name=name)
    landing = await person.http_client.get(await consent(await to_provider(person, provider()), sub))
    assert landing.status_code == 303, landing.text
    return landing.headers["location"]


async def band_with_leader(*emails: str) -> tuple[int, int]:
    """The band, its leader (lena@), and email invites for ``emails``."""
    async with db.session() as session:
        band = await members.create_band(session, BAND)
        leader = await members.get_or_create_user(session, "lena@example.org", "Lena Leader")
        assert band.id and leader.id
        await members.add_member(session, band.id, leader.id, role=Role.LEADER)
        token = await auth.start_session(session, leader.id, band.id)
    async with db.session() as session:
        actor = await auth.resolve(session, token)
        for email in emails:
            await invites.invite_email(session, actor, email)
    return band.id, leader.id


async def membership_of(email: str) -> Membership | None:
    async with db.session() as session:
        query = select(Membership).join(Account, Account.id == Membership.user_id).where(Account.email == email)
        return (await session.exec(query)).first()


async def test_first_visit_saves_name_and_instruments(browser: Callable[[], User],
                                                      user: User) -> None:
    await band_with_leader("ann@example.org")
    assert await sign_in(user, "ann@example.org", "Ann") == "/welcome"
    await user.open("/welcome")
    await user.should_see(f"Welcome to {BAND}")
    user.find(marker="save").click()
    await user.should_see("Choose at least one instrument.")

    user.find(marker="name").clear().type("Ann <script>alert(1)</script> Arbor")
    user.find(marker="instrument-0").click()
    user.find("Trumpet").click()
    user.find(marker="chair-0").click()
    user.find("Chair 2").click()
    user.find(marker="add-instrument").click()
    await user.should_see(marker="instrument-1")
    user.find(marker="instrument-1").click()
    user.find("Flugelhorn").click()
    user.find(marker="primary-1").click()  # the star on the second row: flugelhorn becomes the main instrument
    user.find(marker="save").click()
    await user.should_see("Hi Ann")  # home
    membership = await membership_of("ann@example.org")
    assert membership and membership.instruments == [{"instrument": "flugelhorn", "chair": None},
                                                     {"instrument": "trumpet", "chair": 2}]
    async with db.session() as session:
        account = await session.get(Account, membership.user_id)
    assert account and account.name == "Ann <script>alert(1)</script> Arbor"

    await user.open("/profile")  # changeable later, and the markup stays text
    await user.should_see("ann@example.org")
    name = next(iter(user.find(marker="name").elements))
    assert isinstance(name, ui.input) and name.value == "Ann <script>alert(1)</script> Arbor"
    user.find(marker="name").clear().type("x" * 10_000)
    user.find(marker="save").click()
    await user.should_see("Your name is too long")


async def test_leader_removes_a_member_whose_open_page_and_media_lose_access(
        browser: Callable[[], User], user: User) -> None:
    band_id, _ = await band_with_leader("max@example.org")
    leader, member = user, browser()
    assert await sign_in(leader, "lena@example.org", "Lena Leader") == "/"
    assert await sign_in(member, "max@example.org", "Max Mute") == "/welcome"
    async with db.session() as session:
        data = b"ID3 not really an mp3"
        checksum = hashlib.sha256(data).hexdigest()
        await get_runtime().blobs.put(checksum, data)
        track = AudioTrack(band_id=band_id, source_file_id="take1", file_name="take1.mp3", checksum=checksum,
                           size=len(data))
        session.add(track)
    assert (await member.http_client.get(f"/media/audio/{track.id}")).status_code == 200

    await member.open("/")  # the member's page is open
    await member.should_see(BAND)
    await leader.open("/members")
    await leader.should_see("Max Mute")
    await leader.should_see("max@example.org")
    membership = await membership_of("max@example.org")
    assert membership
    leader.find(marker=f"remove-{membership.id}").click()
    leader.find(marker=f"confirm-remove-{membership.id}").click()

    await member.should_see("Sign in with Google")  # the open page left at once, to sign-in
    assert member.back_history[-1] == "/login"
    await leader.should_not_see("max@example.org")
    assert await membership_of("max@example.org") is None
    assert (await member.http_client.get(f"/media/audio/{track.id}")).status_code == 401
    assert (await member.http_client.get("/")).headers["location"] == "/login"
    assert leader.back_history[-1] == "/members"  # the leader stayed where they were


async def test_roles_change_but_the_band_keeps_a_leader(browser: Callable[[], User], user: User) -> None:
    await band_with_leader("max@example.org")
    leader, member = user, browser()
    await sign_in(leader, "lena@example.org", "Lena Leader")
    await sign_in(member, "max@example.org", "Max Mute")
    mine, theirs = await membership_of("lena@example.org"), await membership_of("max@example.org")
    assert mine and theirs

    await leader.open("/members")
    leader.find(marker=f"make-member-{mine.id}").click()
    await leader.should_see("A band needs at least one leader")
    await member.open("/")
    leader.find(marker=f"make-leader-{theirs.id}").click()
    await leader.should_see("Role changed.")
    assert (await membership_of("max@example.org")).role == Role.LEADER  # type: ignore[union-attr]
    await member.should_see("Members and invites")  # their open page reloaded with leader entries


async def test_non_leader_gets_a_friendly_refusal(browser: Callable[[], User], user: User) -> None:
    await band_with_leader("max@example.org")
    await sign_in(user, "max@example.org", "Max Mute")
    shown = await open_refused(user.http_client, "/members", 403)
    assert "Only the band's leaders can do that." in shown
    assert "lena@example.org" not in shown and "Invite link" not in shown


async def test_leader_invites_by_email_and_link(browser: Callable[[], User], user: User) -> None:
    await band_with_leader()
    await sign_in(user, "lena@example.org", "Lena Leader")
    await user.open("/members")
    user.find(marker="invite-email").type("not an email")
    user.find(marker="add-email").click()
    await user.should_see("That doesn't look like an email address.")
    user.find(marker="invite-email").clear().type("Zoe@Example.org")
    user.find(marker="add-email").click()
    await user.should_see("zoe@example.org — joins on sign-in")
    user.find(marker="create-link").click()
    await user.should_see("anyone with the link")
    link = next(iter(user.find(marker="link").elements))
    assert isinstance(link, ui.input) and link.value.startswith("http://test/join/")

    newcomer = browser()
    await newcomer.open(link.value.removeprefix("http://test"))
    await newcomer.should_see(f"Lena Leader invites you to join {BAND}")
    assert await sign_in(newcomer, "nico@example.org", "Nico") == "/welcome"
    assert await membership_of("nico@example.org") is not None


async def test_sign_out_everywhere_closes_pages_on_every_device(browser: Callable[[], User], user: User) -> None:
    await band_with_leader("max@example.org")
    phone, tablet, leader = user, browser(), browser()
    await sign_in(phone, "max@example.org", "Max Mute")
    await sign_in(tablet, "max@example.org", "Max Mute")
    await sign_in(leader, "lena@example.org", "Lena Leader")
    await tablet.open("/")
    await leader.open("/")
    await phone.open("/profile")
    phone.find(marker="sign-out-everywhere").click()
    phone.find(marker="confirm-everywhere").click()
    await tablet.should_see("Sign in with Google")
    await phone.should_see("Sign in with Google")
    assert (await tablet.http_client.get("/")).headers["location"] == "/login"
    assert leader.back_history[-1] == "/"  # someone else's page is untouched
    await leader.should_see("Hi Lena")


async def test_switching_between_two_bands(browser: Callable[[], User], user: User) -> None:
    band_id, leader_id = await band_with_leader()
    async with db.session() as session:
        other = await members.create_band(session, "The Other Band")
        assert other.id
        await members.add_member(session, other.id, leader_id)
    await sign_in(user, "lena@example.org", "Lena Leader")
    await user.open("/")
    await user.should_see(BAND)
    await user.should_see(marker=f"switch-{other.id}")
    user.find(marker=f"switch-{other.id}").click()
    await user.should_see("The Other Band")
    await user.should_not_see("Members and invites")  # a plain member there
    await user.open("/bands")
    await user.should_see(BAND)
    user.find(marker=f"band-{band_id}").click()
    await user.should_see("Members and invites")
