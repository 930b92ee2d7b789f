"""The closed-loop demo behind ``make demo`` and ``loopml quickstart``.

::

    from loopml.demo import Demo, DemoOptions, Timeline, STEPS

    demo = Demo(DemoOptions(folder=Path("loopml-demo")), Timeline.of(STEPS))
    try:
        summary = demo.run()     # the JSON summary, also written to loopml-demo/summary.json
    finally:
        demo.close()

It starts a tracking server (with its scheduler) and an inference server,
generates and versions a churn dataset, tunes, trains, registers and
deploys a model, monitors it, shifts the data, and lets the monitor's drift
alert and the retraining policy take it from there to a promoted,
retrained champion. ``loopml.demo.pipeline:training`` is the policy's
training pipeline; ``churn_frame`` makes the data.

This package is an interface, like ``cli/``: it starts processes and owns a
terminal view (``_live``), on top of the services.
"""

from loopml.demo._data import CATEGORICAL, FEATURES, NUMERIC, TARGET, churn_frame
from loopml.demo._demo import STEPS, Demo, DemoOptions
from loopml.demo._timeline import Timeline, TimelineEvent, TimelineStep

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "NUMERIC",
    "STEPS",
    "TARGET",
    "Demo",
    "DemoOptions",
    "Timeline",
    "TimelineEvent",
    "TimelineStep",
    "churn_frame",
]
