"""Generate the example's churn data: data/train.csv and data/holdout.csv.

A realistic tabular task: numeric and categorical features, a label that
depends on several of them, and a sensitive attribute (``gender``) the model
does not use. In a real project these files come from `loopml data pull`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def churn_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    monthly = rng.normal(70, 20, rows).clip(15, 150).round(2)
    tickets = rng.poisson(1.2, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    country = rng.choice(["DE", "FR", "US", "BR"], rows, p=[0.3, 0.2, 0.35, 0.15])
    gender = rng.choice(["f", "m"], rows)
    age = rng.integers(18, 85, rows)
    logit = (
        -1.0
        - 0.045 * tenure
        + 0.02 * (monthly - 70)
        + 0.45 * tickets
        + np.where(plan == "basic", 0.6, -0.3)
        + np.where(country == "BR", 0.4, 0.0)
        + rng.normal(0, 0.5, rows)
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "support_tickets": tickets,
            "plan": plan,
            "country": country,
            "age": age,
            "gender": gender,
            "churned": churned,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write train.csv and holdout.csv")
    parser.add_argument("--rows", type=int, default=4000)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    churn_frame(args.rows, seed=1).to_csv(args.folder / "train.csv", index=False)
    churn_frame(args.rows // 2, seed=2).to_csv(args.folder / "holdout.csv", index=False)


if __name__ == "__main__":
    main()
