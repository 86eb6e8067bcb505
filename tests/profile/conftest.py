"""Shared fixtures of the profile tests: a small catalogue, fixed instants, the CDNOW summary."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import pytest

from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary
from relmark.profile import Catalogue, FieldSpec, LawfulBasis, Sensitivity

CDNOW = Path(__file__).resolve().parents[2] / "src/relmark/datasets/_data/cdnow_master.txt.gz"


def small_fields() -> list[FieldSpec]:
    """Two stage-1 contract fields, a stage-2 derived one, three consent-based stage-3 ones."""
    return [
        FieldSpec(name="name", type=str, stage=1, purpose="account", required=True),
        FieldSpec(
            name="city", type=str, stage=1, purpose="account", freshness=dt.timedelta(days=30)
        ),
        FieldSpec(
            name="visits",
            type=int,
            stage=2,
            purpose="analytics",
            lawful_basis=LawfulBasis.LEGITIMATE_INTEREST,
            askable=False,
            required=True,
        ),
        FieldSpec(
            name="likes_jazz",
            type=bool,
            stage=3,
            purpose="personalisation",
            lawful_basis=LawfulBasis.CONSENT,
            freshness=dt.timedelta(days=10),
        ),
        FieldSpec(
            name="jazz_artist",
            type=str,
            stage=3,
            purpose="personalisation",
            lawful_basis=LawfulBasis.CONSENT,
            depends_on=("likes_jazz",),
        ),
        FieldSpec(
            name="income",
            type=float,
            stage=3,
            purpose="research",
            lawful_basis=LawfulBasis.CONSENT,
            sensitivity=Sensitivity.HIGH,
        ),
    ]


def cdnow_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer ids, purchase dates (datetime64[D]) and amounts of CDNOW master, read with numpy."""
    with gzip.open(CDNOW, "rt") as handle:
        raw = np.loadtxt(handle, skiprows=1, dtype=np.float64)
    ids = raw[:, 0].astype(np.int64)
    ymd = raw[:, 1].astype(np.int64)
    dates = np.array(
        [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in ymd], dtype="datetime64[D]"
    )
    return ids, dates, raw[:, 3]


@pytest.fixture
def fields() -> list[FieldSpec]:
    """The small test catalogue (see ``small_fields``)."""
    return small_fields()


@pytest.fixture(scope="session")
def small_catalogue() -> Catalogue:
    """The small test catalogue, immutable, shared by property tests."""
    return Catalogue(fields=small_fields())


@pytest.fixture(scope="session")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The raw CDNOW master columns."""
    return cdnow_arrays()


@pytest.fixture(scope="session")
def cdnow_summary(cdnow: tuple[np.ndarray, np.ndarray, np.ndarray]) -> CustomerSummary:
    """CDNOW master summarized in weeks up to 1998-06-30 (daily purchase periods)."""
    ids, dates, amounts = cdnow
    log = TransactionLog.from_arrays(ids, dates, amounts)
    return log.summarize("1998-06-30", period="D", unit="W")
