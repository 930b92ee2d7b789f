"""Alert destinations: validation, redaction and the SSRF guard."""

from __future__ import annotations

import pytest

from loopml.alerts._destinations import (
    KINDS,
    Destination,
    allow_private_from_env,
    check_address,
    parse_destination,
)
from loopml.core.errors import InvalidArgument

SECRET = "s3cr3t-signing-key-0123456789"
SLACK = "https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX"


def test_parse_accepts_webhook_and_slack() -> None:
    hook = parse_destination(" WebHook ", " https://alerts.example.com/hook?token=abc ", SECRET)
    assert hook == Destination("webhook", "https://alerts.example.com/hook?token=abc", SECRET)
    assert parse_destination("slack", SLACK).secret is None
    assert parse_destination("webhook", "http://example.com:8080/x", "").secret is None
    assert KINDS == ("webhook", "slack")


@pytest.mark.parametrize(
    ("kind", "url", "secret", "names"),
    [
        ("email", "https://example.com", None, "use one of webhook, slack"),
        ("webhook", "", None, "needs a URL"),
        ("webhook", "ftp://example.com/x", None, "http:// or https://"),
        ("webhook", "file:///etc/passwd", None, "http:// or https://"),
        ("webhook", "example.com/hook", None, "http:// or https://"),
        ("webhook", "https:///path-only", None, "no host"),
        ("webhook", "https://user:pass@example.com/hook", None, "user:pass@host"),
        ("webhook", "https://token@example.com/hook", None, "user name or password"),
        ("webhook", "https://example.com/" + "a" * 2100, None, "at most 2048"),
        ("webhook", "https://example.com/a b", None, "spaces or control"),
        ("webhook", "https://example.com/a\nb", None, "spaces or control"),
        ("webhook", "https://example.com:99999/x", None, "invalid port"),
        ("webhook", "https://[::1/x", None, "cannot be parsed"),
        ("webhook", "https://example.com/x", "short", "16 to 512"),
        ("webhook", "https://example.com/x", "k" * 513, "16 to 512"),
        ("slack", SLACK, SECRET, "Slack destinations take no secret"),
    ],
)
def test_parse_refuses_bad_input_clearly(
    kind: str, url: str, secret: str | None, names: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_destination(kind, url, secret)
    assert names in caught.value.message
    if secret is not None:
        assert secret not in caught.value.message


def test_redacted_hides_secret_and_slack_token() -> None:
    slack = parse_destination("slack", SLACK).redacted()
    assert slack == {
        "kind": "slack",
        "url": "https://hooks.slack.com/services/***",
        "signed": False,
    }
    hook = parse_destination("webhook", "https://example.com:8443/in/hook?token=abc#f", SECRET)
    shown = hook.redacted()
    assert shown == {"kind": "webhook", "url": "https://example.com:8443/in/hook", "signed": True}
    assert SECRET not in repr(shown)
    assert "abc" not in repr(shown)
    # A Slack-compatible URL whose only path segment is the token is masked too.
    assert parse_destination("slack", "https://chat.example.com/abcdef").redacted()["url"] == (
        "https://chat.example.com/***"
    )


def test_storage_round_trip_keeps_the_secret() -> None:
    hook = parse_destination("webhook", "https://example.com/hook", SECRET)
    assert hook.to_dict() == {
        "kind": "webhook",
        "url": "https://example.com/hook",
        "secret": SECRET,
    }
    assert Destination.from_dict(hook.to_dict()) == hook
    slack = parse_destination("slack", SLACK)
    assert Destination.from_dict(slack.to_dict()) == slack


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"url": "https://example.com"}, "'kind'"),
        ({"kind": "webhook"}, "'url'"),
        ({"kind": "slack", "url": SLACK, "secret": SECRET}, "no secret"),
        (["webhook"], "must be an object"),
    ],
)
def test_from_dict_validates_stored_data(data: object, names: str) -> None:
    with pytest.raises(InvalidArgument, match=names):
        Destination.from_dict(data)  # type: ignore[arg-type]


def test_direct_construction_is_validated() -> None:
    with pytest.raises(InvalidArgument, match="http:// or https://"):
        Destination("webhook", "gopher://example.com")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://224.0.0.1/",
        "http://0.0.0.0:8080/",
        "http://0.1.2.3/",
        "http://[::]/",
        "http://240.0.0.1/",
    ],
)
def test_check_address_always_refuses_metadata_and_special_addresses(url: str) -> None:
    for allow in (False, True):
        with pytest.raises(InvalidArgument, match="link-local, multicast, unspecified"):
            check_address(url, allow_private=allow)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/hook",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://172.16.0.9/",
        "http://192.168.1.10/",
        "http://[fd00::1]/",
        "http://100.64.0.1/",
    ],
)
def test_check_address_refuses_private_unless_allowed(url: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_address(url, allow_private=False)
    assert "LOOPML_ALERTS_ALLOW_PRIVATE=true" in caught.value.message
    check_address(url, allow_private=True)


def test_check_address_allows_public_addresses() -> None:
    check_address("https://8.8.8.8/hook", allow_private=False)
    check_address("https://[2001:4860:4860::8888]/hook", allow_private=False)


def test_check_address_reports_unresolvable_host() -> None:
    with pytest.raises(InvalidArgument, match="Cannot resolve the destination host"):
        check_address("https://no-such-host.invalid/hook", allow_private=True)


def test_check_address_refuses_url_without_host() -> None:
    with pytest.raises(InvalidArgument, match="no host"):
        check_address("not a url", allow_private=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("maybe", False),
    ],
)
def test_allow_private_from_env(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    if value is None:
        monkeypatch.delenv("LOOPML_ALERTS_ALLOW_PRIVATE", raising=False)
    else:
        monkeypatch.setenv("LOOPML_ALERTS_ALLOW_PRIVATE", value)
    assert allow_private_from_env() is expected
