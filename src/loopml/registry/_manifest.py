"""The model manifest (``MLmodel``): what the registry reads from it, the signature.

The manifest is YAML as MLflow writes it; its ``signature`` mapping holds
``inputs``/``outputs`` as JSON strings. The registry stores that mapping as it
is (JSON-able), so a version's signature is exactly what its files declare.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from loopml.core.errors import InvalidArgument

MANIFEST = "MLmodel"
MAX_MANIFEST_BYTES = 1024 * 1024


def signature_of(data: bytes, where: str) -> dict[str, Any] | None:
    """The ``signature`` mapping of the manifest ``data`` (None if it declares none).

    InvalidArgument naming ``where`` if the manifest is too large, not YAML, or
    holds a signature that is not a mapping.
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise InvalidArgument(
            f"The model manifest {where} is larger than {MAX_MANIFEST_BYTES // 1024} KiB."
        )
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"The model manifest {where} is not valid YAML: {exc}") from exc
    if document is None:
        return None
    if not isinstance(document, dict):
        raise InvalidArgument(f"The model manifest {where} is not a YAML mapping.")
    signature = document.get("signature")
    if signature is None:
        return None
    if not isinstance(signature, dict):
        raise InvalidArgument(f"The signature in {where} is not a mapping with inputs and outputs.")
    # YAML may hold dates or other non-JSON values: keep the JSON-able form.
    plain: dict[str, Any] = json.loads(json.dumps(signature, default=str))
    return plain
