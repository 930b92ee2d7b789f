"""CI/CD for models: a pull-request report, gates that fail the build, promotion on merge.

``report(config, out)`` evaluates the candidate against the baseline and
writes a Markdown comment with plots; ``gate(folder, checks)`` decides from
that evaluation in a later step; ``promote(config)`` registers the candidate
and moves the alias through the same gates. ``loopml ci report|gate|promote``
are these calls; ``examples/ci/`` holds GitHub Actions and GitLab CI workflows.
"""

from loopml.ci._ci import CiReport, gate, promote, report
from loopml.ci._config import DEFAULT_CONFIG, CiConfig, load_config
from loopml.ci._data_changes import data_changes, schema_change
from loopml.ci._markdown import render_report

__all__ = [
    "DEFAULT_CONFIG",
    "CiConfig",
    "CiReport",
    "data_changes",
    "gate",
    "load_config",
    "promote",
    "render_report",
    "report",
    "schema_change",
]
