"""Tests for relmark.profile.relationship: Kotler's level matrix and lifecycle stages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.errors import InvalidInputError
from relmark.profile import (
    KOTLER_MATRIX,
    LifecycleStage,
    LifecycleThresholds,
    RelationshipLevel,
    RelationshipMatrix,
    lifecycle_stage,
    lifecycle_stages,
    recommend_relationship_level,
)

L = RelationshipLevel


@pytest.mark.parametrize(
    ("n", "margin", "level"),
    [
        # Kotler's table, read cell by cell (rows: many / medium / few customers).
        (1_000_000, 0.50, L.ACCOUNTABLE),
        (1_000_000, 0.20, L.REACTIVE),
        (1_000_000, 0.02, L.BASIC),
        (1_000, 0.50, L.PROACTIVE),
        (1_000, 0.20, L.ACCOUNTABLE),
        (1_000, 0.02, L.REACTIVE),
        (10, 0.50, L.PARTNERSHIP),
        (10, 0.20, L.PROACTIVE),
        (10, 0.02, L.ACCOUNTABLE),
        # boundaries: lower bounds are inclusive for the upper class
        (100, 0.10, L.ACCOUNTABLE),
        (99, 0.30, L.PARTNERSHIP),
        (10_000, 0.30, L.ACCOUNTABLE),
        (9_999, 0.0999, L.REACTIVE),
        (0, -0.5, L.ACCOUNTABLE),
    ],
)
def test_kotler_matrix_cells(n: int, margin: float, level: RelationshipLevel) -> None:
    """Each cell of the documented matrix, and the class boundaries, give the stated level."""
    rec = recommend_relationship_level(n, margin)
    assert rec.level is level
    assert level.value in rec.reason


def test_matrix_is_configurable_data() -> None:
    """Custom boundaries and cells change the recommendation; bad matrices are rejected."""
    cells = dict(KOTLER_MATRIX.cells)
    cells[("many", "low")] = L.REACTIVE  # Kotler allows "basic or reactive" here
    custom = RelationshipMatrix(customer_bounds=(10, 1_000), margin_bounds=(0.2, 0.4), cells=cells)
    rec = recommend_relationship_level(5_000, 0.1, matrix=custom)
    assert (rec.level, rec.customer_class, rec.margin_class) == (L.REACTIVE, "many", "low")
    with pytest.raises(InvalidInputError, match="'customer_bounds'"):
        RelationshipMatrix(customer_bounds=(1_000, 10))
    with pytest.raises(InvalidInputError, match=r"'cells'.*missing"):
        RelationshipMatrix(cells={("few", "low"): L.BASIC})


@pytest.mark.parametrize(("n", "margin"), [(-1, 0.1), (2.5, 0.1), (True, 0.1), (10, float("nan"))])
def test_level_inputs_are_validated(n: object, margin: float) -> None:
    """Negative or non-integer customer counts and non-finite margins are rejected."""
    with pytest.raises(InvalidInputError, match=r"'n_customers'|'margin'"):
        recommend_relationship_level(n, margin)  # type: ignore[arg-type]


def test_lifecycle_rules() -> None:
    """Reach, acquisition, conversion, retention and loyalty fire as documented, with reasons."""
    assert lifecycle_stage(purchases=0).stage is LifecycleStage.REACH
    assert lifecycle_stage(purchases=0, engaged=True).stage is LifecycleStage.ACQUISITION
    assert lifecycle_stage(purchases=1, tenure_days=900).stage is LifecycleStage.CONVERSION
    loyal = lifecycle_stage(purchases=5, tenure_days=365, probability_alive=0.7)
    assert loyal.stage is LifecycleStage.LOYALTY
    lapsed = lifecycle_stage(purchases=9, tenure_days=800, probability_alive=0.2)
    assert lapsed.stage is LifecycleStage.RETENTION
    assert "P(alive) below 0.7" in lapsed.reason
    young = lifecycle_stage(purchases=9, tenure_days=100)
    assert young.stage is LifecycleStage.RETENTION
    assert "tenure under 365 days" in young.reason
    strict = LifecycleThresholds(loyal_min_purchases=10)
    assert (
        lifecycle_stage(purchases=9, tenure_days=900, thresholds=strict).stage
        is LifecycleStage.RETENTION
    )
    with pytest.raises(InvalidInputError, match="'purchases'"):
        lifecycle_stage(purchases=-1)
    with pytest.raises(InvalidInputError, match="'probability_alive'"):
        lifecycle_stage(purchases=3, probability_alive=1.5)


@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 12),
            st.floats(0, 2_000),
            st.one_of(st.none(), st.floats(0, 1)),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_vectorized_lifecycle_equals_scalar(
    rows: list[tuple[int, float, float | None, bool]],
) -> None:
    """lifecycle_stages gives exactly the scalar function's stage for every customer."""
    n = np.array([r[0] for r in rows])
    tenure = np.array([r[1] for r in rows])
    engaged = np.array([r[3] for r in rows])
    with_p = all(r[2] is not None for r in rows)
    p = np.array([r[2] for r in rows], dtype=float) if with_p else None
    got = lifecycle_stages(n, tenure, p, engaged)
    want = [
        lifecycle_stage(
            purchases=int(r[0]),
            tenure_days=r[1],
            engaged=r[3],
            probability_alive=r[2] if with_p else None,
        ).stage.value
        for r in rows
    ]
    assert got.tolist() == want


def test_vectorized_lifecycle_validates() -> None:
    """Mismatched shapes and bad values name the argument."""
    with pytest.raises(InvalidInputError, match="'tenure_days'"):
        lifecycle_stages([1, 2], [1.0])
    with pytest.raises(InvalidInputError, match="'purchases'"):
        lifecycle_stages([1.5], [1.0])


def test_matrix_cells_are_immutable_and_validated() -> None:
    """``cells`` is a frozen copy; a non-mapping is an InvalidInputError naming 'cells'."""
    cells = dict(KOTLER_MATRIX.cells)
    matrix = RelationshipMatrix(cells=cells)
    cells[("many", "low")] = L.PARTNERSHIP
    assert matrix.cells[("many", "low")] is L.BASIC
    with pytest.raises(TypeError):
        KOTLER_MATRIX.cells[("many", "low")] = L.PARTNERSHIP  # type: ignore[index]
    with pytest.raises(InvalidInputError, match=r"'cells'.*list"):
        RelationshipMatrix(cells=[(("few", "low"), L.BASIC)])  # type: ignore[arg-type]
