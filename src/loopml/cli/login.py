"""``loopml login`` / ``loopml logout``: get an API token from a server and keep it.

``loopml login --server URL --username alice`` asks for the password, has the
server create a personal API token (``POST /api/v1/auth/tokens`` with Basic
auth) and stores it in ``<home>/credentials`` (mode 0600), where the SDK and
every CLI command find it for that server. ``--token-stdin`` stores a token
made elsewhere (a service account's, in CI) after checking it with
``/api/v1/auth/whoami``. ``loopml logout`` revokes the stored token on the
server and forgets it. ``LOOPML_TRACKING_TOKEN`` overrides the file.
"""

from __future__ import annotations

import re
import socket
import sys
from typing import TYPE_CHECKING, Any

import typer

from loopml.cli._output import console, err_console, fails_cleanly
from loopml.core.errors import InvalidArgument, LoopmlError, StorageError

if TYPE_CHECKING:
    from loopml.core.settings import Settings

# httpx and the settings (pydantic) are imported in the commands: every `loopml`
# command loads this module, and those two cost ~0.2 s of its start.

TOKEN_DAYS = 90.0
_TOKEN_ID = re.compile(r"^lmt_([A-Za-z0-9]+)_")


def _server(ctx: typer.Context, given: str | None, settings: Settings) -> str:
    """The server to log in to: ``--server``, else an ``http(s)://`` tracking URI."""
    from loopml.tracking._rest import is_remote_uri  # `import loopml.cli` stays light

    root = (ctx.find_root().obj or {}).get("tracking_uri")
    for candidate in (given, root, settings.tracking_uri):
        if candidate:
            if not is_remote_uri(candidate):
                if candidate is given:
                    raise InvalidArgument(f"--server {candidate!r} is not http(s)://host:port.")
                continue
            from loopml.core.credentials import server_key

            return server_key(candidate)
    raise InvalidArgument(
        "Which server? Give --server http(s)://host:port (or set LOOPML_TRACKING_URI to it)."
    )


def _request(method: str, url: str, **kwargs: Any) -> Any:
    """One call to the server's API; its JSON answer, or the error it stands for."""
    import httpx

    try:
        response = httpx.request(method, url, timeout=30.0, **kwargs)
    except httpx.HTTPError as exc:
        raise StorageError(f"Cannot reach {url}: {exc.__class__.__name__}: {exc}") from exc
    if not response.is_success:
        from loopml.tracking._rest import error_of

        raise error_of(response)
    return response.json()


def _token_name() -> str:
    host = re.sub(r"[^A-Za-z0-9_.@-]", "-", socket.gethostname())[:100] or "host"
    return f"cli-{host}"


@fails_cleanly
def login(
    ctx: typer.Context,
    server: str = typer.Option(None, "--server", help="The server, http(s)://host:port."),
    username: str = typer.Option(None, "--username", "-u", help="Your user name."),
    token_stdin: bool = typer.Option(
        False, "--token-stdin", help="Read an existing API token from stdin instead."
    ),
) -> None:
    """Log in to a loopml server: store an API token the SDK and CLI will send."""
    from loopml.core.credentials import store_token
    from loopml.core.settings import load_settings

    settings = load_settings()
    url = _server(ctx, server, settings)
    if token_stdin:
        if username:
            raise InvalidArgument("Give either --username or --token-stdin, not both.")
        token = sys.stdin.readline().strip()
        if not token:
            raise InvalidArgument("No token on stdin.")
        who = _request(
            "GET", f"{url}/api/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}
        )
        user = who["user"]["name"]
    else:
        user = username or typer.prompt("User name")
        password = typer.prompt("Password", hide_input=True)
        made = _request(
            "POST",
            f"{url}/api/v1/auth/tokens",
            auth=(user, password),
            json={"name": _token_name(), "expires_in_days": TOKEN_DAYS},
        )
        token = made["token"]
    path = store_token(settings.home, url, token)
    console.print(f"Logged in to {url} as {user} (token stored in {path}).", highlight=False)


@fails_cleanly
def logout(
    ctx: typer.Context,
    server: str = typer.Option(None, "--server", help="The server, http(s)://host:port."),
) -> None:
    """Revoke the stored token on the server (if it answers) and forget it."""
    from loopml.core.credentials import forget_token, read_credentials
    from loopml.core.settings import load_settings

    settings = load_settings()
    url = _server(ctx, server, settings)
    token = read_credentials(settings.home).get(url)
    if token is None:
        console.print(f"Not logged in to {url}.", highlight=False)
        return
    found = _TOKEN_ID.match(token)
    if found is not None:
        try:
            _request(
                "DELETE",
                f"{url}/api/v1/auth/tokens/{found.group(1)}",
                headers={"Authorization": f"Bearer {token}"},
            )
        except LoopmlError as exc:  # unreachable, or the token expired or was revoked already
            err_console.print(f"The server did not revoke the token: {exc.message}")
    forget_token(settings.home, url)
    console.print(f"Logged out of {url}.", highlight=False)
