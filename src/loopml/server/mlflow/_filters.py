"""MLflow filters on logged models (and registered models), onto loopml's filter parser.

These entities use the run grammar with other identifiers (``name``,
``creation_time``, ``source_run_id``...); ``rewrite_terms`` renames each term's
identifier to its run-filter counterpart and the store's parser does the rest.
Experiment search is done by the store itself (``Client.search_experiments``).
"""

from __future__ import annotations

from loopml.store import map_literals, rewrite_terms, split_terms

__all__ = ["map_literals", "rewrite_terms", "split_terms"]
