"""The web UI: server-rendered pages (Jinja2 + htmx) over the same services as the API.

``router`` holds every page; ``loopml.server`` includes it after the API routers and
mounts ``STATIC_DIR`` at ``/static``.
"""

from loopml.ui._render import STATIC_DIR, render, templates
from loopml.ui._router import router

__all__ = ["STATIC_DIR", "render", "router", "templates"]
