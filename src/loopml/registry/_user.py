"""Who is acting: recorded with every version and every alias move."""

from __future__ import annotations

import getpass


def current_user() -> str:
    """The operating-system user of this process ("unknown" if it has none).

    Embedded mode records this user; the server records the user a request names
    (and, once authentication lands, the authenticated one).
    """
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
