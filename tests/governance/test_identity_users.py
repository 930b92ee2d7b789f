"""Users and passwords: admin creation, weak passwords, password logins, the slow-down."""

from __future__ import annotations

import pytest
from identity_world import PASSWORD, Clock, fast_hasher, governance
from sqlalchemy import text

from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from loopml.governance import Governance, Principal, TooManyAttempts
from loopml.governance._passwords import Passwords
from loopml.tracking import Client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gov(client: Client, clock: Clock) -> Governance:
    return governance(client, clock)


def _stored_hash(gov: Governance, name: str) -> str:
    with gov.client.store.db.read() as conn:  # type: ignore[attr-defined]
        return str(
            conn.execute(
                text("SELECT password_hash FROM users WHERE name = :n"), {"n": name}
            ).scalar_one()
        )


def test_the_first_admin(gov: Governance) -> None:
    assert not gov.has_admin()
    admin = gov.create_admin("alice@example.com", PASSWORD)
    assert admin.is_admin and admin.kind == "human" and admin.has_password
    assert gov.has_admin()
    stored = _stored_hash(gov, "alice@example.com")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert [u.name for u in gov.list_users()] == ["alice@example.com"]
    with pytest.raises(AlreadyExists, match="exists already"):
        gov.create_admin("alice@example.com", PASSWORD)


@pytest.mark.parametrize(
    "password", ["short", "11 chars ok", "aaaaaaaaaaaaaaaa", "ababababababab", "x" * 1025, 12]
)
def test_weak_passwords_are_refused(gov: Governance, password: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        gov.create_admin("alice", password)  # type: ignore[arg-type]
    assert str(password) not in info.value.message or password == 12
    assert gov.list_users() == [] and not gov.has_admin()


def test_the_user_name_as_password_is_refused(gov: Governance) -> None:
    with pytest.raises(InvalidArgument, match="user name"):
        gov.create_admin("administrator", "Administrator")


@pytest.mark.parametrize("name", ["", "a b", "x" * 129, "slash/name", "ünicode", None, "tab\t"])
def test_bad_names_are_refused(gov: Governance, name: object) -> None:
    with pytest.raises(InvalidArgument, match="Invalid user name"):
        gov.create_user(name, PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid service account name"):
        gov.create_service_account(name)  # type: ignore[arg-type]


def test_password_login(gov: Governance) -> None:
    gov.create_user("bob", PASSWORD)
    principal = gov.authenticate_password("bob", PASSWORD)
    assert principal == Principal("bob", "human", False, "password", None)
    for name, password in [("bob", "wrong password!"), ("nobody", PASSWORD), ("", ""), ("bob", "")]:
        with pytest.raises(Unauthenticated, match="Invalid user name or password") as info:
            gov.authenticate_password(name, password)
        assert not isinstance(info.value, TooManyAttempts)


def test_users_without_a_password_cannot_log_in_with_one(gov: Governance) -> None:
    gov.create_user("tokens-only")
    robot = gov.create_service_account("ci-bot")
    assert robot.kind == "service" and not robot.has_password and not robot.is_admin
    for name in ("tokens-only", "ci-bot"):
        with pytest.raises(Unauthenticated, match="Invalid user name or password"):
            gov.authenticate_password(name, PASSWORD)
    with pytest.raises(InvalidArgument, match="service account"):
        gov.set_password("ci-bot", PASSWORD)


def test_unknown_names_cost_one_verification() -> None:
    passwords = Passwords(fast_hasher())
    assert passwords.verify(None, "anything") is False
    assert passwords.verify("not-a-hash", "anything") is False
    assert passwords.verify(passwords.hash(PASSWORD), PASSWORD) is True


def test_disabled_users_cannot_log_in(gov: Governance) -> None:
    gov.create_user("carol", PASSWORD)
    assert gov.disable_user("carol").disabled
    with pytest.raises(Unauthenticated, match="Invalid user name or password"):
        gov.authenticate_password("carol", PASSWORD)
    with pytest.raises(NotFound, match="No user named 'ghost'"):
        gov.disable_user("ghost")
    gov.create_admin("admin", PASSWORD)
    gov.disable_user("admin")
    assert not gov.has_admin()


def test_set_password(gov: Governance) -> None:
    gov.create_user("dave", PASSWORD)
    gov.set_password("dave", "another long passphrase")
    with pytest.raises(Unauthenticated):
        gov.authenticate_password("dave", PASSWORD)
    assert gov.authenticate_password("dave", "another long passphrase").name == "dave"
    with pytest.raises(InvalidArgument, match="too weak"):
        gov.set_password("dave", "short")
    with pytest.raises(NotFound):
        gov.set_password("ghost", PASSWORD)


def test_repeated_failures_are_slowed_down(gov: Governance, clock: Clock) -> None:
    gov.create_user("erin", PASSWORD)
    for _ in range(5):
        with pytest.raises(Unauthenticated) as info:
            gov.authenticate_password("erin", "wrong password!")
        assert not isinstance(info.value, TooManyAttempts)
    with pytest.raises(TooManyAttempts) as slowed:
        gov.authenticate_password("erin", PASSWORD)  # not even checked
    assert slowed.value.http_status == 429 and slowed.value.retry_after_seconds == 1.0
    assert "try again in 1 s" in slowed.value.message
    clock.advance(1_000)
    with pytest.raises(Unauthenticated) as sixth:
        gov.authenticate_password("erin", "wrong password!")
    assert not isinstance(sixth.value, TooManyAttempts)
    clock.advance(1_500)
    with pytest.raises(TooManyAttempts) as doubled:
        gov.authenticate_password("erin", PASSWORD)
    assert doubled.value.retry_after_seconds == 0.5  # 2 s after the sixth failure
    clock.advance(500)
    assert gov.authenticate_password("erin", PASSWORD).name == "erin"
    with pytest.raises(Unauthenticated) as after_reset:  # a success resets the counter
        gov.authenticate_password("erin", "wrong password!")
    assert not isinstance(after_reset.value, TooManyAttempts)


def test_the_slow_down_is_capped_at_a_minute(gov: Governance, clock: Clock) -> None:
    gov.create_user("frank", PASSWORD)
    with gov.client.store.db.write() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text("UPDATE users SET failed_logins = 40, last_failed_time = :t WHERE name = 'frank'"),
            {"t": clock.now},
        )
    with pytest.raises(TooManyAttempts) as info:
        gov.authenticate_password("frank", PASSWORD)
    assert info.value.retry_after_seconds == 60.0
    clock.advance(60_000)
    assert gov.authenticate_password("frank", PASSWORD).name == "frank"


def test_an_admin_resetting_the_password_lifts_the_slow_down(gov: Governance) -> None:
    gov.create_user("gina", PASSWORD)
    for _ in range(6):
        with pytest.raises(Unauthenticated):
            gov.authenticate_password("gina", "wrong password!")
    gov.set_password("gina", "a brand new passphrase")
    assert gov.authenticate_password("gina", "a brand new passphrase").name == "gina"


def test_old_hashes_are_upgraded_on_login(client: Client, clock: Clock) -> None:
    old = governance(client, clock)
    old.create_user("hank", PASSWORD)
    before = _stored_hash(old, "hank")
    assert ",t=1," in before
    new = Governance(client, clock=clock, hasher=fast_hasher(time_cost=2))
    assert new.authenticate_password("hank", PASSWORD).name == "hank"
    after = _stored_hash(new, "hank")
    assert after != before and ",t=2," in after
    assert new.authenticate_password("hank", PASSWORD).name == "hank"
    assert _stored_hash(new, "hank") == after


def test_governance_needs_the_database() -> None:
    remote = Client("http://127.0.0.1:9")  # a server's client; nothing is sent yet
    with pytest.raises(InvalidArgument, match="--tracking-uri <database uri>"):
        Governance(remote)
    remote.close()


def test_the_public_names_resolve() -> None:
    import loopml.governance as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    assert set(package.__all__) <= set(dir(package))
