"""Install the UI's browser libraries from npm and copy their built files into static/vendor.

Run by ``make install`` (``python src/loopml/ui/build_assets.py``). The versions are the
ones pinned in ``package-lock.json``; nothing is fetched when the server runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "static" / "vendor"
# npm works outside the source tree: only the built files below enter the package.
WORK = HERE.parents[2] / "build" / "ui-npm"

# htmx can evaluate code written in hx-vars/js: attributes; the pages never use them,
# switch it off (the htmx-config meta tag of base.html) and forbid it (CSP without
# 'unsafe-eval'). The copied file says so on its one line.
MARKERS = {
    "htmx.min.js": "/* allow-unsafe: htmx's eval of hx-vars/js: attributes is off "
    "(htmx-config allowEval=false) and blocked by the pages' CSP */ ",
}

# npm file -> name served under /static/vendor/ (the names loopml.ui._render expects).
FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "uplot/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "uplot/dist/uPlot.min.css": "uPlot.min.css",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    "@dagrejs/dagre/dist/dagre.min.js": "dagre.min.js",  # lineage graph layout (bundles graphlib)
}


def build(npm: str = "npm") -> list[Path]:
    """``npm ci`` the pinned packages, then copy ``FILES`` into the vendor folder."""
    if shutil.which(npm) is None:
        raise SystemExit(f"{npm} not found: install Node.js (Debian: apt-get install npm).")
    WORK.mkdir(parents=True, exist_ok=True)
    for manifest in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / manifest, WORK / manifest)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(WORK)],
        check=True,
    )
    VENDOR.mkdir(parents=True, exist_ok=True)
    written = []
    for source, name in FILES.items():
        target = VENDOR / name
        partial = target.with_name(target.name + ".part")
        data = (WORK / "node_modules" / source).read_bytes()
        partial.write_bytes(MARKERS.get(name, "").encode() + data)
        partial.replace(target)  # atomic: the server never serves half a file
        written.append(target)
    return written


if __name__ == "__main__":
    for path in build(*sys.argv[1:2]):
        print(f"ui asset: {path.relative_to(HERE)}")
