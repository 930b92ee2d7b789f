"""API tokens (shown once, stored hashed, expiring, revocable) and browser sessions."""

from __future__ import annotations

import pytest
from identity_world import PASSWORD, Clock, governance
from sqlalchemy import text

from loopml.core.errors import InvalidArgument, InvalidState, NotFound, Unauthenticated
from loopml.governance import Governance, Principal
from loopml.governance._tokens import digest
from loopml.tracking import Client

DAY_MS = 86_400_000


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gov(client: Client, clock: Clock) -> Governance:
    found = governance(client, clock)
    found.create_user("alice", PASSWORD)
    return found


def _token_rows(gov: Governance) -> list[tuple[str, ...]]:
    with gov.client.store.db.read() as conn:  # type: ignore[attr-defined]
        return [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM api_tokens"))]


def test_a_token_authenticates_its_user(gov: Governance, clock: Clock) -> None:
    token = gov.create_token("alice", "laptop")
    info = token.info
    assert token.secret.startswith(f"lmt_{info.id}_") and len(info.id) == 16
    assert info.user == "alice" and info.name == "laptop" and info.created_time == clock.now
    assert info.expires_time == clock.now + 90 * DAY_MS
    assert info.last_used_time is None and info.revoked_time is None
    assert token.secret not in repr(token)
    rows = _token_rows(gov)
    assert len(rows) == 1 and digest(token.secret) in rows[0]
    assert not any(token.secret.split("_")[2] in cell for cell in rows[0])  # never stored
    principal = gov.authenticate_token(token.secret)
    assert principal == Principal("alice", "human", False, "token", info.id)
    assert gov.token_owner(info.id) == "alice"
    assert gov.list_tokens() == gov.list_tokens("alice") == [gov.list_tokens()[0]]
    assert gov.list_tokens("bob") == []


def test_last_used_is_written_at_most_once_a_minute(gov: Governance, clock: Clock) -> None:
    token = gov.create_token("alice", "ci")
    gov.authenticate_token(token.secret)
    first = clock.now
    assert gov.list_tokens()[0].last_used_time == first
    clock.advance(30_000)
    gov.authenticate_token(token.secret)
    assert gov.list_tokens()[0].last_used_time == first
    clock.advance(31_000)
    gov.authenticate_token(token.secret)
    assert gov.list_tokens()[0].last_used_time == clock.now


def test_expiry(gov: Governance, clock: Clock) -> None:
    short = gov.create_token("alice", "short", expires_in_days=1)
    forever = gov.create_token("alice", "forever", expires_in_days=None)
    assert forever.info.expires_time is None
    clock.advance(DAY_MS - 1)
    assert gov.authenticate_token(short.secret).name == "alice"
    clock.advance(1)
    with pytest.raises(Unauthenticated, match=f"API token {short.info.id} has expired"):
        gov.authenticate_token(short.secret)
    clock.advance(100 * 365 * DAY_MS)
    assert gov.authenticate_token(forever.secret).name == "alice"


@pytest.mark.parametrize("days", [0, -1, float("nan"), float("inf"), True, "7", 3651])
def test_bad_lifetimes_are_refused(gov: Governance, days: object) -> None:
    with pytest.raises(InvalidArgument, match="expires_in_days"):
        gov.create_token("alice", "bad", expires_in_days=days)  # type: ignore[arg-type]
    assert gov.list_tokens() == []


def test_revocation(gov: Governance, clock: Clock) -> None:
    token = gov.create_token("alice", "laptop")
    revoked = gov.revoke_token(token.info.id)
    assert revoked.revoked_time == clock.now
    clock.advance(5)
    assert gov.revoke_token(token.info.id).revoked_time == revoked.revoked_time
    with pytest.raises(Unauthenticated, match=f"API token {token.info.id} was revoked"):
        gov.authenticate_token(token.secret)
    with pytest.raises(NotFound, match="No API token"):
        gov.revoke_token("0123456789abcdef")
    with pytest.raises(NotFound, match="No API token"):
        gov.token_owner("0123456789abcdef")
    with pytest.raises(InvalidArgument, match="Invalid API token id"):
        gov.revoke_token("")


def test_malformed_and_unknown_tokens(gov: Governance) -> None:
    token = gov.create_token("alice", "laptop")
    secret = token.secret
    for bad in ["", "Bearer x", "lmt_", secret[:-1], secret + "x", "lmt_XYZ_" + "a" * 43, 42]:
        with pytest.raises(Unauthenticated, match="Malformed API token") as info:
            gov.authenticate_token(bad)  # type: ignore[arg-type]
        assert secret[-20:] not in info.value.message  # the secret is never echoed
    wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    unknown_id = "lmt_0123456789abcdef_" + secret.split("_", 2)[2]
    for bad in (wrong_secret, unknown_id):
        with pytest.raises(Unauthenticated, match="Unknown API token"):
            gov.authenticate_token(bad)


def test_tokens_of_disabled_users_stop_working(gov: Governance) -> None:
    token = gov.create_token("alice", "laptop")
    gov.disable_user("alice")
    with pytest.raises(Unauthenticated, match=r"user of API token .* is disabled"):
        gov.authenticate_token(token.secret)
    with pytest.raises(InvalidState, match="disabled"):
        gov.create_token("alice", "another")
    with pytest.raises(NotFound, match="No user named 'ghost'"):
        gov.create_token("ghost", "laptop")
    with pytest.raises(InvalidArgument, match="Invalid token name"):
        gov.create_token("alice", "has space")


def test_service_accounts_use_tokens(gov: Governance) -> None:
    gov.create_service_account("ci-bot")
    token = gov.create_token("ci-bot", "github-actions")
    assert gov.authenticate_token(token.secret) == Principal(
        "ci-bot", "service", False, "token", token.info.id
    )


def test_sessions(gov: Governance, clock: Clock) -> None:
    principal = gov.authenticate_password("alice", PASSWORD)
    opened = gov.create_session(principal, hours=2)
    assert opened.expires_time == clock.now + 2 * 3_600_000
    assert opened.cookie not in repr(opened) and opened.csrf_token != opened.cookie
    found, csrf = gov.session(opened.cookie)
    assert found == Principal("alice", "human", False, "session", None)
    assert csrf == opened.csrf_token
    with gov.client.store.db.read() as conn:  # type: ignore[attr-defined]
        stored = conn.execute(text("SELECT id_hash FROM ui_sessions")).scalar_one()
    assert stored == digest(opened.cookie)
    gov.end_session(opened.cookie)
    with pytest.raises(Unauthenticated, match="Unknown session"):
        gov.session(opened.cookie)
    gov.end_session(opened.cookie)  # ending twice is harmless


def test_sessions_expire(gov: Governance, clock: Clock) -> None:
    opened = gov.create_session(Principal("alice", via="password"))
    clock.advance(12 * 3_600_000)
    with pytest.raises(Unauthenticated, match="expired"):
        gov.session(opened.cookie)
    for bad in ("", "x" * 300, None):
        with pytest.raises(Unauthenticated, match="log in again"):
            gov.session(bad)  # type: ignore[arg-type]
    for hours in (0, -1, float("nan"), 24 * 31):
        with pytest.raises(InvalidArgument, match="hours"):
            gov.create_session(Principal("alice", via="password"), hours=hours)


def test_disabling_a_user_ends_its_sessions(gov: Governance) -> None:
    opened = gov.create_session(Principal("alice", via="password"))
    gov.disable_user("alice")
    with pytest.raises(Unauthenticated, match="Unknown session"):
        gov.session(opened.cookie)
    with pytest.raises(Unauthenticated, match="disabled"):
        gov.create_session(Principal("alice", via="password"))
    with pytest.raises(NotFound):
        gov.create_session(Principal("ghost", via="password"))
