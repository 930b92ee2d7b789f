"""``/api/v1/auth``, ``/api/v1/users``, ``/api/v1/workspaces``: identity over REST.

- ``GET /auth/whoami``: who the request is (any authenticated caller).
- ``/auth/tokens``: create a token for yourself (an admin: for any user or
  service account), list yours (an admin: all, or one user's), revoke yours
  (an admin: any). The secret is in the creation answer only.
- ``/users`` and ``/workspaces`` (with members): global admins only.

With auth off the caller is the local user, who may do everything (embedded
mode). Token creation and revocation are written to the audit log.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from loopml.core.errors import InvalidArgument, PermissionDenied, Unauthenticated
from loopml.governance import Governance, Principal
from loopml.server._auth_events import governance, record
from loopml.server.native._route import StrictJsonRoute
from loopml.server.native._schemas import Request as Body

router = APIRouter(tags=["auth"], route_class=StrictJsonRoute)


class CreateToken(Body):
    name: str = Field(min_length=1, max_length=256, description="What the token is for.")
    user: str | None = Field(
        default=None, max_length=256, description="Owner (admins only; default: yourself)."
    )
    expires_in_days: float | None = Field(
        default=90.0, description="Lifetime in days; null for a token that never expires."
    )


class CreateUser(Body):
    name: str = Field(min_length=1, max_length=256)
    kind: Literal["human", "service"] = "human"
    password: str | None = Field(default=None, max_length=1024, repr=False)
    is_admin: bool = False


class CreateWorkspace(Body):
    name: str = Field(min_length=1, max_length=256)
    description: str = Field(default="", max_length=10_000)


class SetMember(Body):
    role: str = Field(min_length=1, max_length=32, description="viewer, editor, maintainer, admin")


def principal(request: Request) -> Principal:
    """The caller, as the authentication middleware found it; 401 when anonymous."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise Unauthenticated("Authentication required.")
    return found


def is_admin(who: Principal) -> bool:
    """Global admins, and the local user of a server without auth, may do everything."""
    return who.is_admin or who.via == "local"


def admin(who: Principal = Depends(principal)) -> Principal:
    """The caller if a global admin; 403 otherwise."""
    if not is_admin(who):
        raise PermissionDenied(f"User {who.name!r} is not an admin: this needs an admin.")
    return who


def _plain(record_: Any) -> dict[str, Any]:
    return asdict(record_)


# -- who am I, tokens -------------------------------------------------------------------------
@router.get("/auth/whoami", summary="The authenticated caller")
def whoami(who: Principal = Depends(principal)) -> dict[str, Any]:
    return {"user": _plain(who)}


@router.post("/auth/tokens", summary="Create an API token (the secret is shown once)")
def create_token(
    body: CreateToken,
    request: Request,
    who: Principal = Depends(principal),
    gov: Governance = Depends(governance),
) -> dict[str, Any]:
    owner = body.user or who.name
    if owner != who.name and not is_admin(who):
        raise PermissionDenied(
            f"User {who.name!r} may create tokens only for itself, not for {owner!r}."
        )
    made = gov.create_token(owner, body.name, expires_in_days=body.expires_in_days)
    record(
        request,
        "token.create",
        "api_token",
        made.info.id,
        {"user": owner, "name": made.info.name, "expires_time": made.info.expires_time},
    )
    return {"token": made.secret, "info": _plain(made.info)}


@router.get("/auth/tokens", summary="List API tokens (yours; an admin sees all)")
def list_tokens(
    user: str | None = Query(None, max_length=256, description="Only this user's (admins)."),
    who: Principal = Depends(principal),
    gov: Governance = Depends(governance),
) -> dict[str, Any]:
    if is_admin(who):
        tokens = gov.list_tokens(user)
    elif user is not None and user != who.name:
        raise PermissionDenied(f"User {who.name!r} may list only its own tokens.")
    else:
        tokens = gov.list_tokens(who.name)
    return {"tokens": [_plain(t) for t in tokens]}


@router.delete("/auth/tokens/{token_id}", summary="Revoke an API token")
def revoke_token(
    token_id: str,
    request: Request,
    who: Principal = Depends(principal),
    gov: Governance = Depends(governance),
) -> dict[str, Any]:
    owner = gov.token_owner(token_id)
    if owner != who.name and not is_admin(who):
        raise PermissionDenied(f"API token {token_id} belongs to another user.")
    revoked = gov.revoke_token(token_id)
    record(request, "token.revoke", "api_token", revoked.id, {"user": owner})
    return {"info": _plain(revoked)}


# -- users (admins) -------------------------------------------------------------------------
@router.get("/users", summary="List users and service accounts (admins)")
def list_users(
    _: Principal = Depends(admin), gov: Governance = Depends(governance)
) -> dict[str, Any]:
    return {"users": [_plain(u) for u in gov.list_users()]}


@router.post("/users", summary="Create a user or a service account (admins)")
def create_user(
    body: CreateUser, _: Principal = Depends(admin), gov: Governance = Depends(governance)
) -> dict[str, Any]:
    if body.kind == "service":
        if body.password is not None or body.is_admin:
            raise InvalidArgument("A service account has no password and is never an admin.")
        made = gov.create_service_account(body.name)
    else:
        made = gov.create_user(body.name, body.password, is_admin=body.is_admin)
    return {"user": _plain(made)}


@router.post("/users/{name}/disable", summary="Disable a user: sessions end, tokens stop (admins)")
def disable_user(
    name: str, _: Principal = Depends(admin), gov: Governance = Depends(governance)
) -> dict[str, Any]:
    return {"user": _plain(gov.disable_user(name))}


# -- workspaces (admins) --------------------------------------------------------------------
@router.get("/workspaces", summary="List workspaces (admins)")
def list_workspaces(
    _: Principal = Depends(admin), gov: Governance = Depends(governance)
) -> dict[str, Any]:
    return {"workspaces": [_plain(w) for w in gov.list_workspaces()]}


@router.post("/workspaces", summary="Create a workspace (admins)")
def create_workspace(
    body: CreateWorkspace, _: Principal = Depends(admin), gov: Governance = Depends(governance)
) -> dict[str, Any]:
    return {"workspace": _plain(gov.create_workspace(body.name, body.description))}


def _members(gov: Governance, workspace: str) -> dict[str, Any]:
    """A workspace's members as every members route answers (after a change: as it now is)."""
    return {"members": [_plain(m) for m in gov.members(workspace)]}


@router.get("/workspaces/{workspace}/members", summary="A workspace's members (its admins)")
def members(workspace: str, gov: Governance = Depends(governance)) -> dict[str, Any]:
    # Who may: the permission table (administer on this workspace), so a workspace's own
    # admins manage its members, not only global admins.
    return _members(gov, workspace)


@router.put("/workspaces/{workspace}/members/{user}", summary="Set a member's role (its admins)")
def set_member(
    workspace: str,
    user: str,
    body: SetMember,
    gov: Governance = Depends(governance),
) -> dict[str, Any]:
    gov.add_member(workspace, user, body.role)
    return _members(gov, workspace)


@router.delete("/workspaces/{workspace}/members/{user}", summary="Remove a member (its admins)")
def remove_member(
    workspace: str,
    user: str,
    gov: Governance = Depends(governance),
) -> dict[str, Any]:
    gov.remove_member(workspace, user)
    return _members(gov, workspace)
