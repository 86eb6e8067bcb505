"""The "writing a scorer" how-to, end to end: its example ships as a plug-in and conforms."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from relmark.data.summary import CustomerSummary
from relmark.io import from_json, to_json
from relmark.scoring.pipeline import score
from relmark.scoring.registry import ScorerRegistry
from relmark.testing import check_scorer

HOWTO = Path(__file__).parents[2] / "docs" / "how-to" / "writing-a-scorer.md"


def example_source() -> str:
    """The python block following the '<!-- example: mypkg.py -->' marker in the how-to."""
    text = HOWTO.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: mypkg\.py -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "the how-to lost its example block"
    return match.group(1)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """Install the how-to's example as the distribution 'mypkg' with a relmark.scorers entry point."""
    info = tmp_path / "mypkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[relmark.scorers]\nactivity = mypkg:ActivityRatio\n")
    (tmp_path / "mypkg.py").write_text(example_source())
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("mypkg", None)


@pytest.fixture
def summary():
    """Forty customers with amounts, ids in scrambled order."""
    rng = np.random.default_rng(8)
    n = 40
    x = rng.integers(0, 6, n)
    T = rng.integers(1, 52, n).astype(np.float64)
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T), 0.0)
    return CustomerSummary.from_arrays(
        x,
        t_x,
        T,
        monetary=np.where(x > 0, rng.integers(1, 80, n), 0),
        customer_id=rng.permutation(n) + 7,
    )


def test_plugin_is_discovered_and_conforms(installed_plugin, summary):
    """The entry point is listed, builds the scorer, which passes check_scorer and joins RFM."""
    registry = ScorerRegistry()
    assert {"activity", "rfm"} <= set(registry.available())
    scorer = registry.get("activity", quantile=0.75)
    assert type(scorer).__module__ == "mypkg"
    check_scorer(scorer, summary)

    table = score(
        summary, ["rfm", "activity"], params={"activity": {"quantile": 0.75}}, registry=registry
    )
    ratio = summary.recency / summary.T
    np.testing.assert_allclose(table["activity_ratio"], ratio)
    np.testing.assert_array_equal(table["active"], ratio >= np.quantile(ratio, 0.75))
    assert table.columns[:2] == ("recency_score", "frequency_score")

    fitted = scorer.fit(summary)
    restored = from_json(to_json(fitted), type(fitted))
    assert restored.threshold_ == fitted.threshold_
