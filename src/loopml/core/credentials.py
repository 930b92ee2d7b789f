"""API tokens for loopml servers: where the SDK and CLI find the one they send.

``LOOPML_TRACKING_TOKEN`` (``Settings.tracking_token``) wins; otherwise the
token ``loopml login`` stored for that server in ``<home>/credentials``, a JSON
object keyed by server URL, readable by its owner only (mode 0600). Every HTTP
call to a tracking server takes its headers from ``auth_headers`` so the
tracking store, the registry, datasets, deployments, features and policies
clients all authenticate the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument, StorageError
from loopml.core.settings import Settings

CREDENTIALS_FILE = "credentials"


def credentials_path(home: Path) -> Path:
    """The credentials file under loopml's home folder (``~/.loopml/credentials``)."""
    return home.expanduser() / CREDENTIALS_FILE


def server_key(url: str) -> str:
    """A server URL as the credentials file keys it: scheme and host lower-cased, no slash.

    ``HTTP://Host:5000/`` and ``http://host:5000`` are the same server.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(f"Invalid server URL {url!r}: expected http(s)://host[:port].")
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def read_credentials(home: Path) -> dict[str, str]:
    """Every stored token by server; empty when there is no file.

    A file that is not a JSON object of strings is an error naming the file,
    never silently ignored (the user would wonder why they are anonymous).
    """
    path = credentials_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"{path} is not valid JSON: fix or delete it.") from exc
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise InvalidArgument(f"{path} must map server URLs to tokens: fix or delete it.")
    return found


def _write(home: Path, tokens: dict[str, str]) -> None:
    path = credentials_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(sorted(tokens.items())), indent=2) + "\n"
    write_text_atomic(path, text, mode=0o600)  # a token is never readable by others


def store_token(home: Path, server_url: str, token: str) -> Path:
    """Remember ``token`` for ``server_url`` (replacing an older one); the file's path."""
    if not token or token != token.strip() or any(ch.isspace() for ch in token):
        raise InvalidArgument("The token is empty or holds whitespace.")
    tokens = read_credentials(home)
    tokens[server_key(server_url)] = token
    _write(home, tokens)
    return credentials_path(home)


def forget_token(home: Path, server_url: str) -> bool:
    """Drop the token stored for ``server_url``; False when there was none."""
    tokens = read_credentials(home)
    if tokens.pop(server_key(server_url), None) is None:
        return False
    _write(home, tokens)
    return True


def token_for(settings: Settings, server_url: str) -> str | None:
    """The token to send to ``server_url``: the setting, else the stored one, else None."""
    if settings.tracking_token:
        return settings.tracking_token
    return read_credentials(settings.home).get(server_key(server_url))


def auth_headers(settings: Settings, server_url: str) -> dict[str, str]:
    """``{"Authorization": "Bearer ..."}`` when a token is known for the server, else ``{}``."""
    token = token_for(settings, server_url)
    return {"Authorization": f"Bearer {token}"} if token else {}
