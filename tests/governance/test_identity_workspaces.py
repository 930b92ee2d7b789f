"""Workspaces, members, role order, object ownership and the authorization matrix."""

from __future__ import annotations

import pytest
from identity_world import Clock, governance

from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from loopml.governance import (
    DEFAULT_WORKSPACE,
    OBJECT_KINDS,
    Action,
    Governance,
    Member,
    Principal,
    Role,
)
from loopml.tracking import Client

# The one table a reader can check by eye: which role may do which action.
ALLOWED = {
    Role.VIEWER: {Action.READ},
    Role.EDITOR: {Action.READ, Action.WRITE},
    Role.MAINTAINER: {Action.READ, Action.WRITE, Action.MAINTAIN},
    Role.ADMIN: set(Action),
}


@pytest.fixture
def gov(client: Client) -> Governance:
    found = governance(client, Clock())
    for name in ("bob", "carol"):
        found.create_user(name)
    found.create_workspace("fraud", "fraud models")
    return found


def _as(name: str) -> Principal:
    return Principal(name, via="token", token_id="0123456789abcdef")


def test_roles_and_actions_are_ordered() -> None:
    assert sorted([Role.ADMIN, Role.VIEWER, Role.MAINTAINER, Role.EDITOR]) == list(Role)
    assert Role.VIEWER < Role.EDITOR < Role.MAINTAINER < Role.ADMIN
    assert Role.ADMIN >= Role.ADMIN and not Role.EDITOR > Role.MAINTAINER
    assert list(Action) == ["read", "write", "maintain", "administer"]
    assert Role("editor") is Role.EDITOR and Role.EDITOR == "editor"
    for role, allowed in ALLOWED.items():
        assert {action for action in Action if role.allows(action)} == allowed
    with pytest.raises(InvalidArgument, match="Unknown role 'owner'"):
        Role.parse("owner")


def test_the_default_workspace_exists_lazily_and_once(gov: Governance, client: Client) -> None:
    assert [w.name for w in gov.list_workspaces()] == [DEFAULT_WORKSPACE, "fraud"]
    other = Governance(client)
    assert [w.name for w in other.list_workspaces()] == [DEFAULT_WORKSPACE, "fraud"]
    with pytest.raises(AlreadyExists, match="exists already"):
        gov.create_workspace(DEFAULT_WORKSPACE)
    assert gov.get_workspace("fraud").description == "fraud models"


def test_bad_workspaces(gov: Governance) -> None:
    with pytest.raises(AlreadyExists, match="workspace named 'fraud' exists already"):
        gov.create_workspace("fraud")
    for name in ("", "two words", "x" * 129):
        with pytest.raises(InvalidArgument, match="Invalid workspace name"):
            gov.create_workspace(name)
    with pytest.raises(InvalidArgument, match="description"):
        gov.create_workspace("nul", "a\x00b")
    with pytest.raises(NotFound, match="No workspace named 'nope'"):
        gov.members("nope")


def test_members(gov: Governance) -> None:
    gov.add_member("fraud", "bob", "viewer")
    gov.add_member("fraud", "carol", Role.MAINTAINER)
    assert gov.members("fraud") == [
        Member("fraud", "bob", Role.VIEWER),
        Member("fraud", "carol", Role.MAINTAINER),
    ]
    gov.add_member("fraud", "bob", "editor")  # an upsert: the role changes
    assert gov.role_of("bob", "fraud") is Role.EDITOR
    assert gov.role_of("bob", DEFAULT_WORKSPACE) is None
    gov.add_member(DEFAULT_WORKSPACE, "bob", "viewer")  # "default" appears when needed
    assert gov.members(DEFAULT_WORKSPACE) == [Member(DEFAULT_WORKSPACE, "bob", Role.VIEWER)]
    gov.remove_member("fraud", "bob")
    assert [m.user for m in gov.members("fraud")] == ["carol"]
    with pytest.raises(NotFound, match="'bob' is not a member of workspace 'fraud'"):
        gov.remove_member("fraud", "bob")


def test_bad_members(gov: Governance) -> None:
    with pytest.raises(NotFound, match="No user named 'ghost'"):
        gov.add_member("fraud", "ghost", "viewer")
    with pytest.raises(NotFound, match="No workspace named 'nope'"):
        gov.add_member("nope", "bob", "viewer")
    with pytest.raises(InvalidArgument, match="Unknown role 'owner': use one of viewer"):
        gov.add_member("fraud", "bob", "owner")
    with pytest.raises(InvalidArgument, match="Invalid user name"):
        gov.add_member("fraud", "a/b", "viewer")
    assert gov.members("fraud") == []


def test_the_authorization_matrix(gov: Governance) -> None:
    for role in Role:
        gov.add_member("fraud", "bob", role)
        for action in Action:
            if action in ALLOWED[role]:
                gov.authorize(_as("bob"), "fraud", action)
                gov.authorize(_as("bob"), "fraud", action.value)
                continue
            with pytest.raises(PermissionDenied) as info:
                gov.authorize(_as("bob"), "fraud", action)
            message = info.value.message
            assert "'bob'" in message and action.value in message and "'fraud'" in message
            assert f"role {role.value}" in message


def test_non_members_admins_and_local_users(gov: Governance) -> None:
    gov.add_member("fraud", "bob", "admin")
    for action in Action:
        with pytest.raises(PermissionDenied, match="no role there"):
            gov.authorize(_as("carol"), "fraud", action)
        with pytest.raises(PermissionDenied):  # a role in one workspace is not one in another
            gov.authorize(_as("bob"), DEFAULT_WORKSPACE, action)
        gov.authorize(Principal("root", is_admin=True, via="token"), "fraud", action)
        gov.authorize(Principal("someone", via="local"), "fraud", action)
    with pytest.raises(InvalidArgument, match="Unknown action 'fly'"):
        gov.authorize(_as("bob"), "fraud", "fly")


def test_removal_takes_effect_on_the_next_check(gov: Governance) -> None:
    gov.add_member("fraud", "bob", "editor")
    principal = _as("bob")  # a token or session authenticated before the change
    gov.authorize(principal, "fraud", Action.WRITE)
    gov.add_member("fraud", "bob", "viewer")
    with pytest.raises(PermissionDenied, match="role viewer"):
        gov.authorize(principal, "fraud", Action.WRITE)
    gov.remove_member("fraud", "bob")
    with pytest.raises(PermissionDenied, match="no role"):
        gov.authorize(principal, "fraud", Action.READ)


def test_object_ownership(gov: Governance) -> None:
    for kind in OBJECT_KINDS:
        assert gov.workspace_of(kind, "churn") == DEFAULT_WORKSPACE
    gov.assign("registered_model", "churn", "fraud")
    assert gov.workspace_of("registered_model", "churn") == "fraud"
    assert gov.workspace_of("experiment", "churn") == DEFAULT_WORKSPACE
    gov.assign("registered_model", "churn", DEFAULT_WORKSPACE)
    assert gov.workspace_of("registered_model", "churn") == DEFAULT_WORKSPACE
    gov.assign("experiment", "42", "fraud")
    assert gov.workspace_of("experiment", "42") == "fraud"


def test_bad_assignments(gov: Governance) -> None:
    with pytest.raises(InvalidArgument, match="Unknown object kind 'run'"):
        gov.assign("run", "x", "fraud")
    with pytest.raises(InvalidArgument, match="Unknown object kind"):
        gov.workspace_of("model", "x")
    with pytest.raises(NotFound, match="No workspace named 'nope'"):
        gov.assign("dataset", "sales", "nope")
    with pytest.raises(InvalidArgument, match="key"):
        gov.assign("dataset", "", "fraud")
    with pytest.raises(InvalidArgument, match="longer than 250"):
        gov.assign("dataset", "k" * 251, "fraud")
    assert gov.workspace_of("dataset", "sales") == DEFAULT_WORKSPACE
