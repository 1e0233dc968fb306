"""Invites, roles, removal and profiles through the service layer, on SQLite and PostgreSQL; and the CLI."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from soleil_ui import cli
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Conflict, Forbidden, InvalidInput, NotFound, NotSignedIn
from soleil_ui.events import Event, hub
from soleil_ui.models import Band, Invite, Membership, Role, User, utcnow
from soleil_ui.security import hash_token
from soleil_ui.services import auth, invites, members
from soleil_ui.services.invites import Identity
from soleil_ui.settings import Settings


async def _band(name: str, leader_email: str) -> Actor:
    """A band with one leader; returns the leader as an Actor."""
    async with db.session() as session:
        band = await members.create_band(session, name)
        user = await members.get_or_create_user(session, leader_email, leader_email.split("@")[0].title())
        assert band.id and user.id
        await members.add_member(session, band.id, user.id, role=Role.LEADER)
    return await _actor(user.id, band.id)


async def _actor(user_id: int, band_id: int) -> Actor:
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id)
    async with db.session() as session:
        return await auth.resolve(session, token)


async def _join(actor: Actor, email: str, role: str = Role.MEMBER) -> Actor:
    async with db.session() as session:
        user = await members.get_or_create_user(session, email, email.split("@")[0].title())
        assert user.id
        await members.add_member(session, actor.band_id, user.id, role=role)
    return await _actor(user.id, actor.band_id)


def _id(email: str, subject: str | None = None, *, verified: bool = True, name: str = "") -> Identity:
    return Identity(subject=subject or f"sub-{email.lower()}", email=email, email_verified=verified, name=name)


async def _sign_in(identity: Identity, link: str | None = None, admins: frozenset[str] = frozenset()
                   ) -> invites.SignInOutcome:
    async with db.session() as session:
        return await invites.complete_sign_in(session, identity, link_token=link, admin_emails=admins)


async def _memberships(user_id: int) -> list[int]:
    async with db.session() as session:
        rows = (await session.exec(select(Membership.band_id).where(Membership.user_id == user_id))).all()
    return sorted(rows)


# --- invite links ----------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("core")
async def test_open_link_admits_several_people_until_revoked_and_stores_only_the_hash() -> None:
    leader = await _band("The Hot Five", "louis@example.org")
    async with db.session() as session:
        invite, token = await invites.create_link(session, leader, days=7)
    async with db.session() as session:
        stored = await session.get(Invite, invite.id)
        assert stored and stored.token_hash == hash_token(token) and token not in (stored.token_hash or "")
        assert (await invites.link_band(session, token)).name == "The Hot Five"

    first = await _sign_in(_id("Lil@Example.org", name="Lil Hardin"), link=token)
    assert (first.band_id, first.first_visit) == (leader.band_id, True)
    second = await _sign_in(_id("kid@example.org"), link=token)  # an open link is reusable until it ends
    assert second.band_id == leader.band_id and second.first_visit
    again = await _sign_in(_id("lil@example.org", name="Lil Hardin"), link=token)  # already in: just enter
    assert (again.user_id, again.band_id, again.first_visit) == (first.user_id, leader.band_id, False)
    async with db.session() as session:
        assert (await session.get(Invite, invite.id)).uses == 2  # type: ignore[union-attr]
        user = await session.get(User, first.user_id)
        assert user and (user.email, user.name, user.oidc_subject) == ("lil@example.org", "Lil Hardin",
                                                                       "sub-lil@example.org")
        await invites.revoke(session, leader, invite.id or 0)
    with pytest.raises(Forbidden, match="expired or was withdrawn"):
        await _sign_in(_id("late@example.org"), link=token)
    async with db.session() as session:
        with pytest.raises(NotFound, match="expired or was withdrawn"):
            await invites.link_band(session, token)
        assert (await session.exec(select(User).where(User.email == "late@example.org"))).first() is None


@pytest.mark.usefixtures("core")
async def test_link_expires() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        invite, token = await invites.create_link(session, leader, days=1)
        stored = await session.get(Invite, invite.id)
        assert stored
        stored.expires_at = utcnow() - timedelta(seconds=1)
        session.add(stored)
    with pytest.raises(Forbidden, match="expired"):
        await _sign_in(_id("new@example.org"), link=token)
    for bad in ("", "nonsense", "x" * 10_000):
        async with db.session() as session:
            with pytest.raises(NotFound):
                await invites.link_band(session, bad)


@pytest.mark.usefixtures("core")
async def test_link_tied_to_an_email_refuses_anyone_else() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        _invite, token = await invites.create_link(session, leader, email=" Sax@Example.org ")
    with pytest.raises(Forbidden, match="different email"):
        await _sign_in(_id("intruder@example.org"), link=token)
    outcome = await _sign_in(_id("sax@example.org"), link=token)
    assert outcome.band_id == leader.band_id and outcome.first_visit
    # signed-in path (/join/<token> while signed in): someone else's address is refused too
    other = await _band("Other band", "other@example.org")
    async with db.session() as session:
        with pytest.raises(Forbidden, match="different email"):
            await invites.accept_link(session, other.user_id, token)


@pytest.mark.usefixtures("core")
async def test_a_member_with_a_stale_link_still_gets_into_their_band() -> None:
    leader = await _band("Band", "lead@example.org")
    await _sign_in(_id("lead@example.org"))
    outcome = await _sign_in(_id("lead@example.org"), link="expired-or-made-up")
    assert outcome.band_id == leader.band_id and not outcome.first_visit
    assert outcome.invite_problem and "expired" in outcome.invite_problem


@pytest.mark.parametrize("days", [0, -1, 91, 10_000])
@pytest.mark.usefixtures("core")
async def test_invite_lifetimes_are_bounded(days: int) -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        with pytest.raises(InvalidInput, match="1 to 90 days"):
            await invites.create_link(session, leader, days=days)
        with pytest.raises(InvalidInput, match="1 to 90 days"):
            await invites.invite_email(session, leader, "a@example.org", days=days)


# --- email invites ---------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("core")
async def test_email_invite_admits_that_address_once_and_nobody_else_is_stored() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        invite = await invites.invite_email(session, leader, " Drums@Example.org ")
        assert (invite.email, invite.token_hash) == ("drums@example.org", None)
        again = await invites.invite_email(session, leader, "drums@example.org")  # renews, no duplicate
        assert again.id == invite.id
        assert [i.id for i in await invites.pending(session, leader)] == [invite.id]
        with pytest.raises(InvalidInput, match="already in the band"):
            await invites.invite_email(session, leader, "LEAD@example.org")
        for bad in ("", "no-at-sign", "a@", "@b", "a b@example.org", "x" * 10_000 + "@example.org"):
            with pytest.raises(InvalidInput, match="email address"):
                await invites.invite_email(session, leader, bad)

    stranger = await _sign_in(_id("stranger@example.org"))
    assert (stranger.user_id, stranger.band_id) == (None, None)
    outcome = await _sign_in(_id("drums@example.org"))
    assert (outcome.band_id, outcome.first_visit) == (leader.band_id, True)
    later = await _sign_in(_id("drums@example.org"))
    assert (later.band_id, later.first_visit) == (leader.band_id, False)
    async with db.session() as session:
        assert await invites.pending(session, leader) == []  # used up
        assert (await session.exec(select(User).where(User.email == "stranger@example.org"))).first() is None


@pytest.mark.usefixtures("core")
async def test_withdrawn_or_expired_email_invite_admits_nobody() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        withdrawn = await invites.invite_email(session, leader, "a@example.org")
        expired = await invites.invite_email(session, leader, "b@example.org")
        await invites.revoke(session, leader, withdrawn.id or 0)
        expired.expires_at = utcnow() - timedelta(minutes=1)
        session.add(expired)
    assert (await _sign_in(_id("a@example.org"))).user_id is None
    assert (await _sign_in(_id("b@example.org"))).user_id is None


@pytest.mark.usefixtures("core")
async def test_unverified_email_is_refused_even_when_invited() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        await invites.invite_email(session, leader, "new@example.org")
    with pytest.raises(Forbidden, match="hasn't verified"):
        await _sign_in(_id("new@example.org", verified=False))
    async with db.session() as session:
        assert (await session.exec(select(User).where(User.email == "new@example.org"))).first() is None


@pytest.mark.usefixtures("core")
async def test_accounts_are_matched_by_subject_and_never_taken_over_by_email() -> None:
    leader = await _band("Band", "lead@example.org")
    first = await _sign_in(_id("lead@example.org", "google-1"))
    assert first.user_id == leader.user_id
    with pytest.raises(Forbidden, match="different account"):  # same address, another provider account
        await _sign_in(_id("lead@example.org", "google-2"))
    moved = await _sign_in(_id("new-address@example.org", "google-1"))  # the account changed its address
    assert moved.user_id == leader.user_id
    async with db.session() as session:
        user = await session.get(User, leader.user_id)
        assert user and user.email == "new-address@example.org"


@pytest.mark.usefixtures("core")
async def test_sign_in_continues_in_the_band_last_looked_at() -> None:
    a = await _band("Band A", "both@example.org")
    async with db.session() as session:
        band_b = await members.create_band(session, "Band B")
        assert band_b.id
        await members.add_member(session, band_b.id, a.user_id)
    assert (await _sign_in(_id("both@example.org"))).band_id == a.band_id
    async with db.session() as session:
        token = await auth.start_session(session, a.user_id, a.band_id)
        await auth.switch_band(session, token, band_b.id)
    assert (await _sign_in(_id("both@example.org"))).band_id == band_b.id


@pytest.mark.usefixtures("core")
async def test_admins_without_a_band_may_create_one_others_may_not() -> None:
    admins = frozenset({"boss@example.org"})
    outcome = await _sign_in(_id("Boss@example.org"), admins=admins)
    assert outcome.user_id and outcome.band_id is None and outcome.may_create_band
    async with db.session() as session:
        band = await members.found_band(session, outcome.user_id, "  New   Band ", timezone="Europe/Paris",
                                        admin_emails=admins)
        assert (band.name, band.timezone) == ("New Band", "Europe/Paris")
        with pytest.raises(InvalidInput, match="time zone"):
            await members.found_band(session, outcome.user_id, "X", timezone="Mars/Olympus", admin_emails=admins)
        with pytest.raises(InvalidInput, match="Band name"):
            await members.found_band(session, outcome.user_id, " ", admin_emails=admins)
    assert await _memberships(outcome.user_id) == [band.id]
    leader = await _actor(outcome.user_id, band.id or 0)
    assert leader.is_leader
    someone = await _join(leader, "someone@example.org")
    async with db.session() as session:
        with pytest.raises(Forbidden, match="administrators"):
            await members.found_band(session, someone.user_id, "Mine", admin_emails=admins)


# --- roles, removal, isolation ---------------------------------------------------------------------------------------
@pytest.mark.usefixtures("core")
async def test_last_leader_can_be_neither_demoted_nor_removed() -> None:
    leader = await _band("Band", "lead@example.org")
    member = await _join(leader, "m@example.org")
    async with db.session() as session:
        with pytest.raises(Conflict, match="at least one leader"):
            await members.set_role(session, leader, leader.membership_id, Role.MEMBER)
    async with db.session() as session:
        with pytest.raises(Conflict, match="at least one leader"):
            await members.remove_member(session, leader, leader.membership_id)  # leaving as the last leader
    async with db.session() as session:
        with pytest.raises(InvalidInput, match="leader or member"):
            await members.set_role(session, leader, member.membership_id, "owner")
        await members.set_role(session, leader, member.membership_id, Role.LEADER)
    async with db.session() as session:
        await members.set_role(session, leader, leader.membership_id, Role.MEMBER)  # two leaders: fine
    async with db.session() as session:
        rows = await members.list_members(session, leader)
    assert {u.email: m.role for m, u in rows} == {"lead@example.org": Role.MEMBER, "m@example.org": Role.LEADER}
    demoted = await _actor(leader.user_id, leader.band_id)
    async with db.session() as session:
        with pytest.raises(Forbidden, match="leaders"):
            await members.set_role(session, demoted, member.membership_id, Role.MEMBER)


@pytest.mark.usefixtures("core")
async def test_members_cannot_manage_the_band() -> None:
    leader = await _band("Band", "lead@example.org")
    member = await _join(leader, "m@example.org")
    other = await _join(leader, "o@example.org")
    async with db.session() as session:
        for call in (invites.create_link(session, member), invites.invite_email(session, member, "x@example.org"),
                     invites.pending(session, member), invites.revoke(session, member, 1),
                     members.roster(session, member), members.set_role(session, member, other.membership_id,
                                                                       Role.LEADER),
                     members.remove_member(session, member, other.membership_id)):
            with pytest.raises(Forbidden):
                await call
    async with db.session() as session:  # but anyone may leave
        await members.remove_member(session, member, member.membership_id)
    assert await _memberships(member.user_id) == []


@pytest.mark.usefixtures("core")
async def test_removal_ends_access_and_is_announced_after_commit() -> None:
    leader = await _band("Band", "lead@example.org")
    member = await _join(leader, "m@example.org")
    async with db.session() as session:
        token = await auth.start_session(session, member.user_id, leader.band_id)
    heard: list[tuple[int, dict[str, object], bool]] = []

    def on_event(event: Event) -> None:
        heard.append((event.band_id, event.payload, False))

    subscription = hub.subscribe(leader.band_id, members.MEMBERSHIP_TOPIC, on_event)
    try:
        async with db.session() as session:
            await members.remove_member(session, leader, member.membership_id)
            await asyncio.sleep(0)
            assert heard == []  # not before the commit: a listener re-reading now would see the old state
        await hub.drain()
        assert heard == [(leader.band_id, {"user_id": member.user_id}, False)]
        with pytest.raises(NotSignedIn):
            async with db.session() as session:
                await auth.resolve(session, token)
        # a rolled-back change announces nothing
        heard.clear()
        with pytest.raises(Conflict):
            async with db.session() as session:
                await members.remove_member(session, leader, leader.membership_id)
        await hub.drain()
        assert heard == []
    finally:
        subscription.close()


@pytest.mark.usefixtures("core")
async def test_a_leader_of_one_band_cannot_touch_another() -> None:
    leader_a = await _band("A", "la@example.org")
    leader_b = await _band("B", "lb@example.org")
    member_b = await _join(leader_b, "mb@example.org")
    async with db.session() as session:
        invite_b, _ = await invites.create_link(session, leader_b)
        link_a, _ = await invites.create_link(session, leader_a)
        assert link_a.band_id == leader_a.band_id  # a leader can only ever invite into their own band
        assert [i.id for i in await invites.pending(session, leader_a)] == [link_a.id]
        roster_a = await members.roster(session, leader_a)
        assert [u.email for _m, u in roster_a] == ["la@example.org"]
        with pytest.raises(NotFound):
            await invites.revoke(session, leader_a, invite_b.id or 0)
        with pytest.raises(NotFound):
            await members.remove_member(session, leader_a, member_b.membership_id)
        with pytest.raises(NotFound):
            await members.set_role(session, leader_a, member_b.membership_id, Role.LEADER)
    assert await _memberships(member_b.user_id) == [leader_b.band_id]
    async with db.session() as session:
        assert (await session.get(Invite, invite_b.id)).revoked_at is None  # type: ignore[union-attr]


@pytest.mark.usefixtures("core")
async def test_sign_out_everywhere_ends_every_session_and_tells_every_band() -> None:
    a = await _band("A", "both@example.org")
    async with db.session() as session:
        band_b = await members.create_band(session, "B")
        assert band_b.id
        await members.add_member(session, band_b.id, a.user_id)
        phone = await auth.start_session(session, a.user_id, a.band_id)
        tablet = await auth.start_session(session, a.user_id, band_b.id)
    heard: list[int] = []
    subs = [hub.subscribe(b, members.MEMBERSHIP_TOPIC, lambda e: heard.append(e.band_id))
            for b in (a.band_id, band_b.id)]
    try:
        async with db.session() as session:
            assert await members.sign_out_everywhere(session, a) >= 2
        await hub.drain()
        assert sorted(heard) == sorted([a.band_id, band_b.id])
    finally:
        for sub in subs:
            sub.close()
    for token in (phone, tablet):
        with pytest.raises(NotSignedIn):
            async with db.session() as session:
                await auth.resolve(session, token)


# --- name and instruments --------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("core")
async def test_profile_saves_name_and_instruments_primary_first() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        await members.save_profile(session, leader, name="  Louis <script>alert(1)</script> ",
                                   instruments=[{"instrument": "trumpet", "chair": 1},
                                                {"instrument": "flugelhorn", "chair": None}])
    again = await _actor(leader.user_id, leader.band_id)
    assert again.name == "Louis <script>alert(1)</script>"  # text, escaped by the UI
    assert again.instruments == ({"instrument": "trumpet", "chair": 1}, {"instrument": "flugelhorn", "chair": None})
    async with db.session() as session:
        await members.set_instruments(session, again, [{"instrument": "vocals"}])
    assert (await _actor(leader.user_id, leader.band_id)).instruments == ({"instrument": "vocals", "chair": None},)


@pytest.mark.parametrize(("instruments", "message"), [
    ([], "at least one"),
    ([{"instrument": "kazoo"}], "from the list"),
    ([{"instrument": "<script>"}], "from the list"),
    ([{"instrument": "x" * 10_000}], "from the list"),
    (["trumpet"], "from the list"),
    ([{"instrument": "trumpet", "chair": 0}], "1 to 9"),
    ([{"instrument": "trumpet", "chair": 10}], "1 to 9"),
    ([{"instrument": "trumpet", "chair": "2"}], "1 to 9"),
    ([{"instrument": "trumpet", "chair": True}], "1 to 9"),
    ([{"instrument": "trumpet"}, {"instrument": "trumpet", "chair": 2}], "twice"),
    ([{"instrument": k} for k in ("trumpet", "cornet", "flugelhorn", "piano", "keys", "organ", "bass")], "At most 6"),
])
@pytest.mark.usefixtures("core")
async def test_bad_instruments_get_clear_messages(instruments: list[object], message: str) -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        with pytest.raises(InvalidInput, match=message):
            await members.set_instruments(session, leader, instruments)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "message"), [("", "can't be empty"), ("   ", "can't be empty"),
                                               ("x" * 10_000, "is too long")])
@pytest.mark.usefixtures("core")
async def test_bad_names_get_clear_messages(name: str, message: str) -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        with pytest.raises(InvalidInput, match=f"Your name {message}"):
            await members.save_profile(session, leader, name=name, instruments=[{"instrument": "tuba"}])


# --- the CLI ---------------------------------------------------------------------------------------------------------
def test_cli_creates_a_band_and_its_leader(app_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-band", "The  Night Owls", "--leader", "Owl@Example.org"]) == 0
    assert "leads it" in capsys.readouterr().out
    assert cli.main(["create-band", "Second", "--leader", "not-an-email"]) == 2
    assert "email address" in capsys.readouterr().err

    async def check() -> list[tuple[str, str, str]]:
        try:
            async with db.session() as session:
                query = (select(Band.name, User.email, Membership.role)
                         .join(Membership, Membership.band_id == Band.id).join(User, User.id == Membership.user_id))
                return [tuple(row) for row in (await session.exec(query)).all()]  # type: ignore[misc]
        finally:
            await db.dispose()

    assert asyncio.run(check()) == [("The Night Owls", "owl@example.org", Role.LEADER)]


@pytest.mark.usefixtures("core")
async def test_a_substitute_can_be_made_a_full_member_and_an_ended_one_is_not_signed_in_there() -> None:
    leader = await _band("Band", "lead@example.org")
    async with db.session() as session:
        sub = await members.get_or_create_user(session, "dep@example.org", "Dep")
        old = await members.get_or_create_user(session, "gone@example.org", "Gone")
        assert sub.id and old.id
        dep = await members.add_member(session, leader.band_id, sub.id, role=Role.SUB)
        dep.expires_at = utcnow() + timedelta(days=2)
        ended = await members.add_member(session, leader.band_id, old.id, role=Role.SUB)
        ended.expires_at = utcnow() - timedelta(days=1)
        session.add_all([dep, ended])
    async with db.session() as session:
        promoted = await members.set_role(session, leader, dep.id or 0, Role.MEMBER)
        assert (promoted.role, promoted.expires_at, promoted.gig_id) == (Role.MEMBER, None, None)
        assert await members.last_band(session, old.id) is None
    outcome = await _sign_in(_id("gone@example.org"))
    assert (outcome.user_id, outcome.band_id) == (None, None)
