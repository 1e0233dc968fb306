"""Personal access tokens (SQLite and PostgreSQL): made, listed and revoked on the profile page, shown once, stored
hashed (in backups too), scoped, and ended with the membership, a role change, a substitute's gig or their expiry."""

from __future__ import annotations

import tarfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui import backup
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound, NotSignedIn
from soleil_ui.models import ApiToken, Membership, Role, utcnow
from soleil_ui.security import hash_token
from soleil_ui.services import members, tokens
from tests.factories import band_with_songs, member_of, new_gig, new_sub


async def _resolve(secret: str) -> tokens.Grant:
    async with db.session() as session:
        return await tokens.resolve(session, secret)


async def _make(actor: Actor, scope: str = tokens.READ, **kwargs: object) -> str:
    async with db.session() as session:
        return (await tokens.create_token(session, actor, "script", scope=scope, **kwargs))[1]  # type: ignore[arg-type]


@pytest.mark.usefixtures("core")
async def test_a_token_acts_as_its_member_within_its_scope(tmp_path: Path) -> None:
    leader, _, _ = await band_with_songs("Scoped")
    ava = await member_of(leader, "ava@scoped.org")
    write = await _make(leader, tokens.WRITE)
    grant = await _resolve(write)
    assert grant.actor == leader and grant.scope == tokens.WRITE
    grant.require_write()
    read = await _resolve(await _make(ava))
    assert read.actor == ava
    with pytest.raises(Forbidden):
        read.require_write()
    with pytest.raises(Forbidden):
        await _make(ava, tokens.WRITE)  # write is for leaders
    for bad in ({"scope": "admin"}, {"days": 0}, {"days": 400}):
        with pytest.raises(InvalidInput):
            await _make(leader, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        async with db.session() as session:
            await tokens.create_token(session, leader, "   ")

    async with db.session() as session:  # only the hash is kept, in the database and in backups
        rows = (await session.exec(select(ApiToken))).all()
        assert {r.token_hash for r in rows} >= {hash_token(write)}
        assert all(write not in (r.name, r.prefix, r.token_hash) for r in rows)
    archive = tmp_path / "backup.tar.gz"
    await backup.backup(archive)
    with tarfile.open(archive) as tar:
        dumped = tar.extractfile("tables/api_token.jsonl").read().decode()  # type: ignore[union-attr]
    assert hash_token(write) in dumped and write not in dumped and write[len(tokens.PREFIX):] not in dumped

    async with db.session() as session:  # a leader no more: the write token changes nothing
        await members.set_role(session, leader, ava.membership_id, Role.LEADER)
        await members.set_role(session, replace(ava, role=Role.LEADER), leader.membership_id, Role.MEMBER)
    demoted = await _resolve(write)
    assert demoted.scope == tokens.WRITE and not demoted.actor.is_leader
    with pytest.raises(Forbidden):
        demoted.require_write()


@pytest.mark.usefixtures("core")
async def test_tokens_end_when_revoked_expired_or_the_membership_ends() -> None:
    leader, _, _ = await band_with_songs("Ending")
    ava = await member_of(leader, "ava@ending.org")
    for secret in (None, "", "sol_unknown", "not-even-ours", "sol_" + "x" * 300):
        with pytest.raises(NotSignedIn):
            await _resolve(secret)  # type: ignore[arg-type]
    kept, revoked, expiring = await _make(ava), await _make(ava), await _make(ava, days=1)
    kept_id, revoked_id = (await _resolve(kept)).token_id, (await _resolve(revoked)).token_id
    async with db.session() as session:
        listed = await tokens.list_tokens(session, ava)
        assert len(listed) == 3 and await tokens.list_tokens(session, leader) == []
        await tokens.revoke_token(session, ava, revoked_id)
        with pytest.raises(NotFound):  # someone else's token is not mine to revoke
            await tokens.revoke_token(session, leader, kept_id)
        row = (await session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(expiring)))).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    with pytest.raises(NotSignedIn, match="revoked"):
        await _resolve(revoked)
    with pytest.raises(NotSignedIn, match="expired"):
        await _resolve(expiring)
    async with db.session() as session:
        assert [t.name for t in await tokens.list_tokens(session, ava)] == ["script"]
    assert (await _resolve(kept)).actor == ava
    async with db.session() as session:
        await members.remove_member(session, leader, ava.membership_id)
    with pytest.raises(NotSignedIn):
        await _resolve(kept)


@pytest.mark.usefixtures("core")
async def test_substitutes_cannot_make_tokens_and_a_subs_token_ends_with_the_gig() -> None:
    leader, _, _ = await band_with_songs("Subbing")
    gig_id = await new_gig(leader, "Tonight", days=0.1)
    sub = await new_sub(leader, gig_id)
    assert tokens.scopes_for(sub) == ()
    with pytest.raises(Forbidden, match="Substitutes"):
        await _make(sub)
    secret = "sol_planted"  # however a sub's token came to be, it opens nothing
    async with db.session() as session:
        session.add(ApiToken(band_id=sub.band_id, membership_id=sub.membership_id, name="x", prefix="sol_",
                             token_hash=hash_token(secret), expires_at=utcnow() + timedelta(days=1)))
    with pytest.raises(NotSignedIn, match="substitute"):
        await _resolve(secret)
    async with db.session() as session:  # made a member of the band: then their gig's end no longer matters
        await members.set_role(session, leader, sub.membership_id, Role.MEMBER)
        membership = await session.get(Membership, sub.membership_id)
        assert membership is not None and membership.expires_at is None
    assert (await _resolve(secret)).actor.membership_id == sub.membership_id
    async with db.session() as session:  # a substitute again, whose gig is over: the token ends
        membership = await session.get(Membership, sub.membership_id)
        assert membership is not None
        membership.role, membership.expires_at = Role.SUB, utcnow() - timedelta(minutes=1)
        session.add(membership)
    with pytest.raises(NotSignedIn):
        await _resolve(secret)


@pytest.mark.usefixtures("demo_env")
async def test_profile_makes_lists_and_revokes_tokens_shown_once(user: User) -> None:
    from tests.factories import enter_as

    ava = await enter_as(user, "Ava Brooks")
    await user.open("/profile")
    await user.should_see("No tokens yet.")
    await user.should_see(marker="token-scope")
    user.find(marker="token-name").type("Band website")
    user.find(marker="token-create").click()
    await user.should_see(marker="token-secret")
    secret = user.find(marker="token-secret").elements.pop().value
    assert secret.startswith(tokens.PREFIX)
    await user.should_see("Band website · read")
    me = await user.http_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["name"] == "Ava Brooks"

    await user.open("/profile")  # shown once: never again
    await user.should_see("Band website · read")
    await user.should_not_see(marker="token-secret")
    grant = await _resolve(secret)
    assert grant.actor.membership_id == ava.membership_id
    user.find(marker=f"revoke-{grant.token_id}").click()
    await user.should_see("No tokens yet.")
    assert (await user.http_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 401
