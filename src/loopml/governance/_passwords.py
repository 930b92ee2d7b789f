"""Password hashing (argon2id) and the failed-login slow-down.

Hashes come from argon2-cffi's ``PasswordHasher``; a hash made with older
parameters is replaced on the next successful login. A name that does not
exist is checked against a dummy hash, so the time a login takes does not
tell whether the name exists.
"""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from loopml.core.errors import InvalidArgument, Unauthenticated

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
FREE_FAILURES = 5  # consecutive failures before the slow-down starts
FIRST_DELAY_MS = 1_000
MAX_DELAY_MS = 60_000


class TooManyAttempts(Unauthenticated):
    """Too many failed logins for a name: wait ``retry_after_seconds`` before trying again."""

    http_status = 429

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


def check_password_strength(password: object, user: str) -> str:
    """``password`` if it is acceptable; ``InvalidArgument`` saying why not (never echoing it)."""
    if not isinstance(password, str):
        raise InvalidArgument("The password must be a string.")
    if len(password) < MIN_PASSWORD:
        raise InvalidArgument(
            f"The password is too weak: use at least {MIN_PASSWORD} characters "
            "(a passphrase of several words is easy to remember)."
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidArgument(f"The password is longer than {MAX_PASSWORD} characters.")
    if "\x00" in password:
        raise InvalidArgument("The password contains a NUL character.")
    if password.strip().casefold() == user.casefold() or len(set(password)) < 4:
        raise InvalidArgument("The password is too weak: it repeats the user name or one pattern.")
    return password


def retry_after_ms(failed_logins: int, last_failed_time: int | None, now: int) -> int:
    """How long a name must still wait before its next attempt (0: it may try now).

    After ``FREE_FAILURES`` consecutive failures the window doubles from one
    second with each failure, up to a minute, counted from the last failure.
    """
    if failed_logins < FREE_FAILURES or last_failed_time is None:
        return 0
    delay = min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** min(failed_logins - FREE_FAILURES, 16))
    return max(0, last_failed_time + delay - now)


class Passwords:
    """Hashes and verifies passwords with one ``PasswordHasher``."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher if hasher is not None else PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash("loopml dummy password for unknown users")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; a missing hash costs the same time and fails."""
        try:
            self.hasher.verify(password_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
