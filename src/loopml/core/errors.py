"""The one error tree of loopml.

Every failure a user can cause or meet is a ``LoopmlError``. Each class names
the HTTP status the server answers with and the MLflow ``error_code`` the
MLflow-compatible API reports, so one handler maps them all::

    LoopmlError                      500  INTERNAL_ERROR
    ├── InvalidArgument              400  INVALID_PARAMETER_VALUE
    │   └── InvalidState             400  INVALID_STATE   (e.g. write to a finished run)
    ├── NotFound                     404  RESOURCE_DOES_NOT_EXIST
    ├── AlreadyExists                409  RESOURCE_ALREADY_EXISTS
    ├── PermissionDenied             403  PERMISSION_DENIED
    ├── Unauthenticated              401  UNAUTHENTICATED
    ├── GateFailed                   409  INVALID_STATE   (a promotion's gates did not all pass)
    ├── StorageError                 500  INTERNAL_ERROR  (database or object store failed)
    │   └── CorruptObject            500  DATA_LOSS       (bytes on disk do not match their hash)
    └── BackgroundFlushError         500  INTERNAL_ERROR  (a batched write failed earlier)

Third-party exceptions (SQLAlchemy, fsspec, botocore) are translated into this
tree at one seam per library; nothing above the foundation catches them.
"""

from __future__ import annotations

from typing import ClassVar


class LoopmlError(Exception):
    """Root of every error loopml raises on purpose."""

    http_status: ClassVar[int] = 500
    error_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The JSON body the server answers with (MLflow's shape)."""
        return {"error_code": self.error_code, "message": self.message}


class InvalidArgument(LoopmlError):
    """The caller passed a value that can never be accepted."""

    http_status = 400
    error_code = "INVALID_PARAMETER_VALUE"


class InvalidState(InvalidArgument):
    """The request is well formed but the target is in the wrong state."""

    error_code = "INVALID_STATE"


class NotFound(LoopmlError):
    """The named entity does not exist."""

    http_status = 404
    error_code = "RESOURCE_DOES_NOT_EXIST"


class AlreadyExists(LoopmlError):
    """An entity with that unique name or key exists already."""

    http_status = 409
    error_code = "RESOURCE_ALREADY_EXISTS"


class PermissionDenied(LoopmlError):
    """The caller is known but may not do this."""

    http_status = 403
    error_code = "PERMISSION_DENIED"


class Unauthenticated(LoopmlError):
    """The caller did not prove who they are."""

    http_status = 401
    error_code = "UNAUTHENTICATED"


class GateFailed(LoopmlError):
    """A promotion was refused: at least one of its gates did not pass.

    Raised only when the caller asked for it (``promote(..., raise_on_failure=True)``);
    ``result`` then holds the ``PromotionResult`` with every gate's message. The alias
    did not move. It shares MLflow's ``INVALID_STATE`` code with ``InvalidState`` but
    answers 409 (a conflict with the current holder), not 400.
    """

    http_status = 409
    error_code = "INVALID_STATE"

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class StorageError(LoopmlError):
    """The metadata database or the object store failed."""


class CorruptObject(StorageError):
    """Stored bytes no longer match the hash they are addressed by."""

    error_code = "DATA_LOSS"


class BackgroundFlushError(LoopmlError):
    """A batched write failed in the background; raised on the next call."""


# Rebuilt most specific first (reversed); GateFailed precedes InvalidState, which shares
# its code, so an INVALID_STATE answer from a server still reads as InvalidState.
ERROR_CLASSES: tuple[type[LoopmlError], ...] = (
    LoopmlError,
    GateFailed,
    InvalidArgument,
    InvalidState,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    Unauthenticated,
    StorageError,
    CorruptObject,
    BackgroundFlushError,
)


def error_from_code(error_code: str, message: str) -> LoopmlError:
    """Rebuild the most specific error for an MLflow ``error_code`` (client side)."""
    for cls in reversed(ERROR_CLASSES):
        if cls.error_code == error_code:
            return cls(message)
    return LoopmlError(message)
