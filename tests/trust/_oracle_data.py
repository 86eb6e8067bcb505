"""Write the data and model files that ``lavaan_oracle.R`` and the SEM tests both read.

Run ``.venv/bin/python tests/trust/_oracle_data.py`` to regenerate ``tests/trust/data/`` (seeded,
so the files are reproducible), then ``Rscript tests/trust/lavaan_oracle.R`` to refresh the
pinned lavaan numbers in ``tests/trust/data/lavaan_oracle.json``.

- ``demo_survey.csv``: the 300 simulated 7-point answers of the ``relmark demo`` trust section
  (raw, before reverse keying).
- ``latent_kmv.csv``: 1,000 respondents drawn from a known latent KMV model (continuous item
  scores, rounded to 6 decimals; both sides read the rounded numbers). As with raw answers,
  reverse-keyed items point the other way (they are negated).

Both sides key the reverse-keyed items before fitting: relmark as the instrument does
(``8 - x`` for the survey, negation for ``fit_sem`` on a mapping), the R script by negation. A
reflection and a shift do not change the covariance matrix beyond the signs that keying fixes,
so both fit the same matrix.
- ``sem_models.json``: the KMV and rival structures and the reverse-keyed items.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from relmark.trust import default_kmv_instrument
from relmark.trust.sem import SEMSpecification, kmv_model, kmv_rival_model, simulate_items

DATA = Path(__file__).parent / "data"

TRUE_PATHS = {
    ("termination_costs", "commitment"): 0.25,
    ("relationship_benefits", "commitment"): 0.30,
    ("shared_values", "commitment"): 0.20,
    ("shared_values", "trust"): 0.30,
    ("communication", "trust"): 0.35,
    ("opportunistic_behaviour", "trust"): -0.30,
    ("trust", "commitment"): 0.35,
    ("commitment", "acquiescence"): 0.45,
    ("commitment", "propensity_to_leave"): -0.50,
    ("commitment", "cooperation"): 0.35,
    ("trust", "cooperation"): 0.30,
    ("trust", "functional_conflict"): 0.50,
    ("trust", "decision_making_uncertainty"): -0.45,
}
"""Standardized true paths of the simulated latent KMV model."""


def true_loadings(spec: SEMSpecification) -> dict[str, float]:
    """Standardized loadings spread evenly over 0.60-0.85 across the items."""
    codes = spec.item_codes
    return {
        code: float(v) for code, v in zip(codes, np.linspace(0.60, 0.85, len(codes)), strict=True)
    }


def latent_kmv(n: int, seed: int) -> dict[str, np.ndarray]:
    """Continuous item scores from the true latent KMV model."""
    spec = kmv_model()
    return simulate_items(
        spec,
        n,
        loadings=true_loadings(spec),
        paths=TRUE_PATHS,
        exogenous_correlation=0.3,
        seed=seed,
    )


def _write_csv(path: Path, columns: Mapping[str, np.ndarray], fmt: str) -> None:
    codes = list(columns)
    n = len(next(iter(columns.values())))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(codes)
        for i in range(n):
            writer.writerow([format(float(columns[c][i]), fmt) for c in codes])


def _model_json(spec: SEMSpecification) -> dict[str, object]:
    return {
        "name": spec.name,
        "measurement": [[name, list(items)] for name, items in spec.measurement],
        "paths": [[p.source, p.target] for p in spec.paths],
        "endogenous": list(spec.endogenous),
        "disturbance_covariances": [list(pair) for pair in spec.disturbance_covariances],
    }


def main() -> None:
    """Regenerate every file of ``tests/trust/data``."""
    from relmark.cli._demo import _simulated_survey

    DATA.mkdir(exist_ok=True)
    answers, _ = _simulated_survey(300)
    _write_csv(DATA / "demo_survey.csv", answers, "g")
    _write_csv(DATA / "latent_kmv.csv", latent_kmv(1000, seed=20261206), ".6f")
    kmv = default_kmv_instrument()
    models = {
        "reverse_keyed": sorted(i.code for c in kmv.constructs for i in c.items if i.reverse_keyed),
        "scale": [1, 7],
        "models": [_model_json(kmv_model()), _model_json(kmv_rival_model())],
    }
    (DATA / "sem_models.json").write_text(json.dumps(models, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
