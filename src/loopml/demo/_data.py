"""The demo's data: a telecom churn table, before and after the market moves.

The rows are generated (no download): a subscriber's tenure, monthly
charges, support tickets, age, contract, internet service and payment
method, and whether they churned. ``regime="drifted"`` is the same business
half a year later: prices went up, a cheap fiber competitor arrived, many
subscribers are new and a new payment method ("wallet") appeared. Both the
inputs (what monitoring sees) and the relation between inputs and churn
(why the old model degrades) change, so a model retrained on the new data
is measurably better on new data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from loopml.core.atomic import write_bytes_atomic

Regime = Literal["baseline", "drifted"]
TARGET = "churned"
NUMERIC = ("tenure_months", "monthly_charges", "support_tickets", "age")
CATEGORICAL = ("contract", "internet", "payment")
FEATURES = NUMERIC + CATEGORICAL


@dataclass(frozen=True, slots=True)
class _Market:
    """How one regime draws subscribers and decides who churns."""

    max_tenure: int
    charges_mean: float
    tickets_rate: float
    contract_p: tuple[float, float, float]
    internet_p: tuple[float, float, float]
    payment_p: tuple[float, float, float, float]
    fiber_effect: float
    charges_effect: float
    wallet_effect: float


_CONTRACTS = ("month-to-month", "one-year", "two-year")
_INTERNET = ("dsl", "fiber", "none")
_PAYMENTS = ("card", "bank-transfer", "electronic-check", "wallet")
_MARKETS: dict[str, _Market] = {
    "baseline": _Market(72, 65.0, 1.0, (0.55, 0.25, 0.20), (0.40, 0.40, 0.20),
                        (0.40, 0.30, 0.30, 0.0), 0.4, 0.025, 0.0),
    "drifted": _Market(30, 85.0, 1.5, (0.60, 0.25, 0.15), (0.25, 0.65, 0.10),
                       (0.25, 0.15, 0.25, 0.35), 1.2, -0.02, 1.2),
}  # fmt: skip


def churn_frame(rows: int, *, regime: Regime = "baseline", seed: int = 0) -> pd.DataFrame:
    """``rows`` subscribers of one regime with their ``churned`` label (0/1), reproducible."""
    if rows < 1:
        raise ValueError(f"rows must be positive, not {rows}.")
    market = _MARKETS[regime]
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, market.max_tenure + 1, rows)
    charges = np.clip(rng.normal(market.charges_mean, 20.0, rows), 18.0, 150.0).round(2)
    tickets = rng.poisson(market.tickets_rate, rows)
    age = rng.integers(18, 81, rows)
    contract = rng.choice(_CONTRACTS, rows, p=market.contract_p)
    internet = rng.choice(_INTERNET, rows, p=market.internet_p)
    payment = rng.choice(_PAYMENTS, rows, p=market.payment_p)
    logit = (
        -1.2
        - 0.04 * tenure
        + market.charges_effect * (charges - 65.0)
        + 0.45 * tickets
        + 1.0 * (contract == "month-to-month")
        - 0.9 * (contract == "two-year")
        + market.fiber_effect * (internet == "fiber")
        + 0.3 * (payment == "electronic-check")
        + market.wallet_effect * (payment == "wallet")
        - 0.01 * (age - 45)
    )
    churned = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "tenure_months": tenure.astype(np.int64),
            "monthly_charges": charges,
            "support_tickets": tickets.astype(np.int64),
            "age": age.astype(np.int64),
            "contract": contract,
            "internet": internet,
            "payment": payment,
            TARGET: churned,
        }
    )


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as Parquet, atomically (a reader never sees half a file)."""
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue())
    return path
