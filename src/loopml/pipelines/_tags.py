"""The tags a pipeline run and its step runs carry (what ``show`` and the cache read back).

A pipeline run is a parent run; each step execution is a child run (MLflow's
``mlflow.parentRunId``). Everything loopml needs to show a run again lives
in these tags, so any MLflow-compatible client sees the same story.
"""

from __future__ import annotations

PARENT = "mlflow.parentRunId"

PIPELINE = "loopml.pipeline.name"
TARGET = "loopml.pipeline.target"  # module:pipeline, when known (the CLI and schedules)
DAG = "loopml.pipeline.dag"  # JSON {step: [upstream steps]}, in build order
EXECUTOR = "loopml.pipeline.executor"
PIPELINE_ERROR = "loopml.pipeline.error"  # names the failed step(s)
SCHEDULE = "loopml.pipeline.schedule"  # the schedule that started the run

STEP = "loopml.step.name"
STATUS = "loopml.step.status"  # RUNNING, FINISHED, FAILED, SKIPPED, KILLED
UPSTREAM = "loopml.step.upstream"  # JSON list of step names
CACHE_KEY = "loopml.step.cache_key"
CACHE_HIT = "loopml.step.cache_hit"  # "true" / "false"
CACHED_FROM = "loopml.step.cached_from"  # the run whose outputs were reused
OUTPUTS = "loopml.step.outputs"  # JSON {name: {"format", "id", "path"}}
ATTEMPTS = "loopml.step.attempts"
ERROR = "loopml.step.error"  # one line: the exception type and message
TRACEBACK = "loopml.step.traceback"  # its tail; the whole one is logs/traceback.txt
SKIPPED_BECAUSE = "loopml.step.skipped_because"

LOG_FILE = "logs/step.log"
TRACEBACK_FILE = "logs/traceback.txt"
OUTPUTS_FOLDER = "outputs"
MAX_TAG = 7900  # below MLflow's 8,000-character tag limit


def tail(text: str, limit: int = MAX_TAG) -> str:
    """The end of ``text`` if it is too long for a tag (a traceback's end says the most)."""
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]
