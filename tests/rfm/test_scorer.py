"""RFMScorer: scores, tie policies, thresholds on new data, nesting, one-time buyers, CDNOW."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.data.summary import CustomerSummary
from relmark.errors import InvalidInputError, NotFittedError
from relmark.rfm import RF_GRID_SEGMENTS, RFM_PACKAGE_SEGMENTS, RFMScorer, Segment, SegmentRules
from relmark.testing import check_scorer


def summary_of(frequency, since_last, monetary, *, T=100.0, ids=None, weights=None):
    """Build a summary from purchases-1, time since last purchase and mean repeat spend."""
    frequency = np.asarray(frequency)
    since = np.asarray(since_last, dtype=np.float64)
    recency = np.where(frequency > 0, T - since, 0.0)
    age = np.where(frequency > 0, T, since)  # a one-time buyer's last purchase is its first
    return CustomerSummary.from_arrays(
        frequency, recency, age, monetary=monetary, customer_id=ids, weights=weights
    )


def oracle_shared(values, n_bins):
    """1 + floor(n * (# strictly better-or-lower) / N), exact."""
    n = len(values)
    return [1 + int(Fraction(n_bins * sum(u < v for u in values), n)) for v in values]


@pytest.fixture
def small():
    """Ten customers with hand-picked values and ties."""
    return summary_of(
        frequency=[0, 0, 0, 1, 1, 2, 3, 5, 8, 13],
        since_last=[90, 80, 80, 50, 40, 40, 20, 10, 5, 1],
        monetary=[0, 0, 0, 10, 30, 20, 20, 50, 40, 60],
        ids=[f"c{i:02d}" for i in range(10)],
    )


def test_hand_computed_scores(small):
    """Scores follow the shared-ties rule computed by hand for each dimension."""
    table = RFMScorer().fit(small).score(small)
    # Recency: time since last purchase, lower is better; oriented values -since.
    assert table["recency_score"].tolist() == oracle_shared(
        [-s for s in [90, 80, 80, 50, 40, 40, 20, 10, 5, 1]], 5
    )
    assert table["recency_score"].tolist() == [1, 1, 1, 2, 3, 3, 4, 4, 5, 5]
    # Frequency: purchases 1,1,1,2,2,3,4,6,9,14 -> three tied one-time buyers share bin 1.
    assert table["frequency_score"].tolist() == [1, 1, 1, 2, 2, 3, 4, 4, 5, 5]
    # Monetary: only the seven repeat buyers: 10,30,20,20,50,40,60 -> N = 7.
    repeat = [10, 30, 20, 20, 50, 40, 60]
    assert table["monetary_score"].tolist()[3:] == oracle_shared(repeat, 5)
    assert table["monetary_score"].tolist() == [1, 1, 1, 1, 3, 1, 1, 4, 3, 5]
    assert table["rfm_cell"].tolist()[-1] == "555"
    assert table["purchases"].tolist() == [1, 1, 1, 2, 2, 3, 4, 6, 9, 14]
    assert table["monetary_known"].tolist() == [False] * 3 + [True] * 7
    np.testing.assert_array_equal(
        table["time_since_last_purchase"], [90, 80, 80, 50, 40, 40, 20, 10, 5, 1]
    )


def test_thresholds_are_reported_in_raw_units(small):
    """Fitted cuts are raw values in bin order; recency cuts are times since last purchase."""
    scorer = RFMScorer().fit(small)
    recency = scorer.thresholds_["recency"]
    # Recency bins 2..5 are opened by since = 50, 40, 20 and 5.
    assert recency.cuts.tolist() == [50.0, 40.0, 20.0, 5.0]
    assert recency.sizes.tolist() == [3.0, 1.0, 2.0, 2.0, 2.0]
    assert not recency.collapsed
    assert scorer.thresholds_["frequency"].cuts.tolist() == [2.0, 3.0, 4.0, 9.0]
    # Monetary (7 repeat buyers): 20 is tied twice and starts in slot 1, so 30 opens bins 2 and 3.
    monetary = scorer.thresholds_["monetary"]
    assert monetary.cuts.tolist() == [30.0, 30.0, 50.0, 60.0]
    assert monetary.sizes.tolist() == [3.0, 0.0, 2.0, 1.0, 1.0]
    assert scorer.collapsed_bins() == {"monetary": (2,)}
    assert scorer.n_customers_ == 10
    assert scorer.n_one_time_buyers_ == 3


def test_new_customers_scored_on_the_fitted_scale(small):
    """score() on new customers applies the learned cuts (>= for F/M, <= for recency)."""
    scorer = RFMScorer().fit(small)
    new = summary_of(
        frequency=[0, 2, 1, 20],
        since_last=[50, 51, 4, 0],
        monetary=[0, 45, 5, 1000],
        ids=["n1", "n2", "n3", "n4"],
    )
    table = scorer.score(new)
    assert table["recency_score"].tolist() == [2, 1, 5, 5]
    assert table["frequency_score"].tolist() == [1, 3, 2, 5]
    # Monetary cuts [30, 30, 50, 60]: 45 reaches bin 3, 5 stays in bin 1.
    assert table["monetary_score"].tolist() == [1, 3, 1, 5]


def test_fixed_thresholds():
    """User break points in bin order replace quantiles for the dimensions given."""
    s = summary_of(frequency=[0, 1, 4, 9], since_last=[60, 26, 13, 3], monetary=[0, 5, 15, 40])
    scorer = RFMScorer(thresholds={"recency": [52, 26, 13, 4], "monetary": [5, 10, 20, 40]}).fit(s)
    table = scorer.score(s)
    assert table["recency_score"].tolist() == [1, 3, 4, 5]
    assert table["monetary_score"].tolist() == [1, 2, 3, 5]
    assert scorer.thresholds_["recency"].source == "fixed"
    assert scorer.thresholds_["frequency"].source == "quantile"
    np.testing.assert_array_equal(scorer.thresholds_["recency"].cuts, [52, 26, 13, 4])


def test_rank_first_breaks_ties_by_customer_id_not_row_order():
    """Tied values are split by ascending id, the same in any row order."""
    ids = np.array([50, 10, 40, 20, 30])
    s = summary_of(frequency=[1] * 5, since_last=[10] * 5, monetary=[5] * 5, ids=ids)
    table = RFMScorer(ties="first").fit(s).score(s)
    by_id = dict(zip(ids.tolist(), table["frequency_score"].tolist(), strict=True))
    assert by_id == {10: 1, 20: 2, 30: 3, 40: 4, 50: 5}
    shuffled = s.take([3, 0, 4, 1, 2])
    other = RFMScorer(ties="first").fit(shuffled).score(shuffled)
    assert other.align_to(table.customer_id) == table


def test_rank_first_threshold_includes_the_tie_key():
    """A new customer tied with a split value gets the bin its id would have had."""
    s = summary_of(frequency=[1] * 4, since_last=[10] * 4, monetary=[5] * 4, ids=[1, 3, 5, 7])
    scorer = RFMScorer(ties="first", bins=2, segments=SegmentRules([])).fit(s)
    assert scorer.thresholds_["frequency"].boundary_ids == ("5",)
    new = summary_of(frequency=[1, 1, 1], since_last=[10] * 3, monetary=[5] * 3, ids=[4, 5, 6])
    assert scorer.score(new)["frequency_score"].tolist() == [1, 2, 2]


def test_random_ties_are_seeded_and_per_customer():
    """Seeded random tie-breaking is reproducible, seed-dependent and independent of batch."""
    ids = np.array([f"id{i}" for i in range(40)])
    s = summary_of(frequency=[1] * 40, since_last=[10] * 40, monetary=[5] * 40, ids=ids)
    a = RFMScorer(ties="random", seed=1).fit(s)
    b = RFMScorer(ties="random", seed=2).fit(s)
    scores_a = a.score(s)["frequency_score"]
    assert np.bincount(scores_a).tolist() == [0, 8, 8, 8, 8, 8]
    assert (
        scores_a.tolist()
        == RFMScorer(ties="random", seed=1).fit(s).score(s)["frequency_score"].tolist()
    )
    assert scores_a.tolist() != b.score(s)["frequency_score"].tolist()
    # Each customer scored alone gets the score it had in the batch.
    alone = [int(a.score(s.take([i]))["frequency_score"][0]) for i in range(40)]
    assert alone == scores_a.tolist()


def test_nested_binning_bins_frequency_within_recency():
    """With nested binning, frequency is binned separately inside each recency bin."""
    rng = np.random.default_rng(3)
    n = 200
    freq = rng.integers(0, 12, n)
    s = summary_of(
        frequency=freq,
        since_last=rng.integers(0, 99, n),
        monetary=np.where(freq > 0, rng.integers(1, 100, n), 0),
    )
    scorer = RFMScorer(binning="nested", ties="first").fit(s)
    table = scorer.score(s)
    r = table["recency_score"]
    for b in range(1, 6):
        members = np.flatnonzero(r == b)
        values = s.frequency[members] + 1
        # Oracle: rank-first (value, id) inside the group, bin = 1 + floor(5 * pos / size).
        order = sorted(range(members.size), key=lambda i: (values[i], members[i]))
        expected = np.empty(members.size, dtype=int)
        for pos, i in enumerate(order):
            expected[i] = 1 + (5 * pos) // members.size
        assert table["frequency_score"][members].tolist() == expected.tolist()
        assert f"frequency[r={b}]" in scorer.thresholds_
    assert "monetary[r=5,f=5]" in scorer.thresholds_
    assert "frequency" not in scorer.thresholds_


def test_weights_equal_repeated_customers():
    """A row of weight w bins exactly like w identical customers (shared ties)."""
    base = summary_of(
        frequency=[0, 1, 3, 6],
        since_last=[70, 30, 12, 2],
        monetary=[0, 8, 12, 30],
        weights=[3, 1, 2, 4],
    )
    expanded = base.take(np.repeat(np.arange(4), [3, 1, 2, 4]))
    expanded = summary_of(
        frequency=expanded.frequency,
        since_last=expanded.T - expanded.recency,
        monetary=expanded.monetary,
    )
    weighted = RFMScorer().fit(base)
    plain = RFMScorer().fit(expanded)
    for key, fitted in weighted.thresholds_.items():
        np.testing.assert_array_equal(fitted.cuts, plain.thresholds_[key].cuts)
        np.testing.assert_array_equal(fitted.sizes, plain.thresholds_[key].sizes)


def test_one_time_buyer_policies(small):
    """lowest → monetary 1, unscored → 0 (m-rules skip them), error → lists the rows."""
    lowest = RFMScorer().fit(small).score(small)
    assert lowest["monetary_score"][:3].tolist() == [1, 1, 1]
    rules = SegmentRules([Segment("Any M", m=(1, 5)), Segment("R only", r=(1, 5))])
    unscored = RFMScorer(one_time_buyers="unscored", segments=rules).fit(small).score(small)
    assert unscored["monetary_score"][:3].tolist() == [0, 0, 0]
    assert unscored["rfm_cell"][0] == "110"
    assert unscored["segment"].tolist() == ["R only"] * 3 + ["Any M"] * 7
    assert unscored.info["monetary_score"].range == (0.0, 5.0)
    with pytest.raises(InvalidInputError, match=r"3 one-time buyer\(s\).*row\(s\) 0, 1, 2"):
        RFMScorer(one_time_buyers="error").fit(small)


def test_zero_spend_repeat_buyer_is_a_real_value():
    """A repeat buyer with mean spend 0 is ranked (lowest) rather than treated as unknown."""
    s = summary_of(frequency=[1, 1, 1, 1, 1], since_last=[5] * 5, monetary=[0, 10, 20, 30, 40])
    table = RFMScorer().fit(s).score(s)
    assert table["monetary_score"].tolist() == [1, 2, 3, 4, 5]
    assert table["monetary_known"].all()


def test_segments_use_the_configured_rules(small):
    """The default is the RF grid; the R preset can be plugged in; ten bins need explicit rules."""
    default = RFMScorer().fit(small).score(small)
    r, f = default["recency_score"], default["frequency_score"]
    assert (
        default["segment"].tolist()
        == RF_GRID_SEGMENTS.assign(r, f, default["monetary_score"]).tolist()
    )
    r_pkg = RFMScorer(segments=RFM_PACKAGE_SEGMENTS).fit(small).score(small)
    assert r_pkg["segment"][-1] == "Champions"
    ten = (
        RFMScorer(bins=10, segments=SegmentRules([Segment("Top", r=(10, 10))]))
        .fit(small)
        .score(small)
    )
    # Seven repeat buyers cannot fill ten monetary slots: the top spender starts in slot 9.
    assert ten["rfm_cell"][-1] == "10-10-9"


def test_not_fitted_error():
    """score and collapsed_bins before fit raise the shared NotFittedError naming the fix."""
    with pytest.raises(
        NotFittedError,
        match=r"^This RFMScorer is not fitted yet: RFMScorer\.score needs its fitted state\. "
        r"Call fit\(summary\) first\.$",
    ):
        RFMScorer().score(summary_of([1], [1], [1]))
    with pytest.raises(NotFittedError, match=r"RFMScorer\.collapsed_bins needs"):
        RFMScorer().collapsed_bins()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"bins": 1}, "'bins' parameter of RFMScorer must be an int in \\[2, 100\\]. Got 1."),
        ({"bins": True}, "'bins' parameter"),
        ({"ties": "dense"}, "'ties' parameter of RFMScorer must be one of"),
        ({"binning": "tree"}, "'binning' parameter"),
        ({"one_time_buyers": "zero"}, "'one_time_buyers' parameter"),
        ({"seed": -1}, "'seed' parameter"),
        ({"bins": 4}, "'segments' parameter"),
        ({"segments": RFM_PACKAGE_SEGMENTS, "bins": 3}, "mention higher scores"),
        ({"segments": "rf"}, "a SegmentRules or None"),
        ({"thresholds": {"age": [1, 2, 3, 4]}}, "'thresholds' parameter"),
        ({"thresholds": {"frequency": [1, 2, 3]}}, "4 finite, strictly increasing"),
        (
            {"thresholds": {"recency": [1, 2, 3, 4]}},
            "strictly decreasing break points for 'recency'",
        ),
        ({"thresholds": {"monetary": ["a", 2, 3, 4]}}, "'thresholds' parameter"),
    ],
)
def test_bad_hyperparameters_fail_in_fit(kwargs, fragment):
    """Each bad hyperparameter raises InvalidInputError in fit, naming the parameter."""
    scorer = RFMScorer(**kwargs)  # __init__ stores verbatim and never raises
    with pytest.raises(InvalidInputError, match=fragment):
        scorer.fit(summary_of([1, 2], [1, 2], [5, 6]))


def test_bad_summaries():
    """Non-summaries, summaries without monetary and empty summaries are rejected clearly."""
    with pytest.raises(
        InvalidInputError,
        match=r"'summary' argument of RFMScorer\.fit must be a CustomerSummary\. Got list",
    ):
        RFMScorer().fit([1, 2, 3])
    no_money = CustomerSummary.from_arrays([1, 0], [3.0, 0.0], [5.0, 5.0])
    with pytest.raises(InvalidInputError, match="'monetary' column"):
        RFMScorer().fit(no_money)
    with pytest.raises(InvalidInputError, match="empty"):
        RFMScorer().fit(summary_of([], [], []))
    floats = CustomerSummary.from_arrays(
        [1, 1], [1.0, 1.0], [2.0, 2.0], monetary=[1, 1], customer_id=[0.5, 1.5]
    )
    with pytest.raises(InvalidInputError, match="integers or strings"):
        RFMScorer(ties="first").fit(floats)
    fitted = RFMScorer(ties="first").fit(summary_of([1], [1], [1], ids=["a"]))
    with pytest.raises(InvalidInputError, match="fitted on str ids"):
        fitted.score(summary_of([1], [1], [1], ids=[7]))


def test_empty_summary_scores_to_an_empty_table(small):
    """Scoring zero customers returns a table with all columns and no rows."""
    table = RFMScorer().fit(small).score(summary_of([], [], []))
    assert len(table) == 0
    assert "segment" in table.columns


def test_repr_lists_changed_hyperparameters():
    """repr shows only what differs from the defaults, then the fitted state."""
    assert repr(RFMScorer(ties="first", bins=5)) == "RFMScorer(ties='first')  # not fitted"
    s = summary_of([1, 2, 3], [1, 2, 3], [1, 2, 3])
    fitted = RFMScorer(ties="first", segments=SegmentRules([])).fit(s)
    assert repr(fitted).startswith("RFMScorer(ties='first', segments=SegmentRules(")
    assert repr(fitted).endswith(")  # fitted")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"ties": "first"},
        {"ties": "random", "seed": 11},
        {"binning": "nested"},
        {"binning": "nested", "ties": "random", "one_time_buyers": "unscored"},
        {"thresholds": {"frequency": [2, 3, 5, 8]}, "segments": RFM_PACKAGE_SEGMENTS},
    ],
)
def test_rfm_scorer_passes_check_scorer(kwargs):
    """The conformance kit passes for every configuration of the built-in scorer."""
    rng = np.random.default_rng(5)
    n = 60
    freq = rng.integers(0, 6, n)
    s = summary_of(
        frequency=freq,
        since_last=rng.integers(0, 50, n),
        monetary=np.where(freq > 0, rng.integers(0, 30, n), 0),
        ids=rng.permutation(1000)[:n],
    )
    check_scorer(RFMScorer(**kwargs), s)


customers = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 8), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
        st.permutations(range(n)),
    )
)


@given(data=customers, ties=st.sampled_from(["share", "first", "random"]))
def test_scores_invariant_to_customer_order(data, ties):
    """Fitting and scoring a shuffled summary gives every customer the same row."""
    freq, since, money, perm = data
    s = summary_of(
        freq, since, np.where(np.array(freq) > 0, money, 0), ids=[f"k{i}" for i in range(len(freq))]
    )
    shuffled = s.take(list(perm))
    a = RFMScorer(ties=ties).fit(s).score(s)
    b = RFMScorer(ties=ties).fit(shuffled).score(shuffled)
    assert b.align_to(a.customer_id) == a


@given(data=customers, ties=st.sampled_from(["share", "first", "random"]))
def test_scores_monotone_in_the_raw_value(data, ties):
    """A better raw value never gets a lower score; under shared ties, equal values score equal."""
    freq, since, money, _ = data
    money = np.where(np.array(freq) > 0, money, 0)
    s = summary_of(freq, since, money)
    t = RFMScorer(ties=ties).fit(s).score(s)
    checks = [
        (np.array(freq, dtype=float), t["frequency_score"]),
        (-np.array(since, dtype=float), t["recency_score"]),
    ]
    known = np.array(freq) > 0
    checks.append((money[known].astype(float), t["monetary_score"][known]))
    for value, score in checks:
        better = value[:, None] > value[None, :]
        assert not (better & (score[:, None] < score[None, :])).any()
        if ties == "share":
            equal = value[:, None] == value[None, :]
            assert not (equal & (score[:, None] != score[None, :])).any()


@given(data=customers, preset=st.sampled_from([RF_GRID_SEGMENTS, RFM_PACKAGE_SEGMENTS]))
def test_every_customer_lands_in_exactly_one_segment(data, preset):
    """Each customer's segment is the first rule containing its cell, else the fallback."""
    freq, since, money, _ = data
    s = summary_of(freq, since, np.where(np.array(freq) > 0, money, 0))
    t = RFMScorer(segments=preset).fit(s).score(s)
    for cell, segment in zip(
        zip(t["recency_score"], t["frequency_score"], t["monetary_score"], strict=True),
        t["segment"],
        strict=True,
    ):
        containing = [seg.name for seg in preset.segments if seg.matches(*cell)]
        assert segment == (containing[0] if containing else preset.fallback)


def test_cdnow_master_scores_every_customer(cdnow_summary):
    """On CDNOW master all 23,570 customers get scores and a segment; ties share bins."""
    scorer = RFMScorer().fit(cdnow_summary)
    table = scorer.score(cdnow_summary)
    assert len(table) == 23_570
    assert scorer.n_one_time_buyers_ == int((cdnow_summary.frequency == 0).sum()) == 12_054
    for column in ("recency_score", "frequency_score", "monetary_score"):
        assert set(np.unique(table[column])) <= {1, 2, 3, 4, 5}
    assert set(np.unique(table["segment"])) <= set(RF_GRID_SEGMENTS.names[:-1])
    # Frequency: the 12,054 one-time buyers (51%) share bin 1 and cover slot 2 entirely, so
    # bin 2 stays empty and two-purchase customers (starting in slot 3) score 3.
    freq = scorer.thresholds_["frequency"]
    assert freq.sizes[0] == 12_054
    assert freq.empty_bins == (2,)
    assert freq.cuts[:2].tolist() == [2.0, 2.0]
    purchases = cdnow_summary.frequency + 1
    n = len(cdnow_summary)
    below = np.searchsorted(np.sort(purchases), purchases, side="left")
    np.testing.assert_array_equal(table["frequency_score"], 1 + (5 * below) // n)
    # Recency on whole days: heavy ties, yet no tied pair is split.
    since = table["time_since_last_purchase"]
    order = np.argsort(since, kind="stable")
    same = since[order][1:] == since[order][:-1]
    assert (
        table["recency_score"][order][1:][same] == table["recency_score"][order][:-1][same]
    ).all()


def test_cdnow_rank_first_gives_equal_bins(cdnow_summary):
    """Rank-first tie-breaking by customer id fills five bins of 4,714 customers each."""
    scorer = RFMScorer(ties="first").fit(cdnow_summary)
    assert scorer.thresholds_["recency"].sizes.tolist() == [4714.0] * 5
    assert scorer.thresholds_["frequency"].sizes.tolist() == [4714.0] * 5
    table = scorer.score(cdnow_summary)
    assert np.bincount(table["frequency_score"]).tolist() == [0] + [4714] * 5


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("bins", 4),
        ("ties", "first"),
        ("binning", "nested"),
        ("thresholds", {"frequency": [2, 3, 4, 5]}),
    ],
)
def test_changing_hyperparameters_after_fit_is_caught(small, attribute, value):
    """Editing a hyperparameter after fit makes score refuse the stale thresholds."""
    scorer = RFMScorer(segments=SegmentRules([])).fit(small)
    setattr(scorer, attribute, value)
    with pytest.raises(InvalidInputError, match="changed since fit"):
        scorer.score(small)


@pytest.mark.parametrize(
    ("kwargs", "attribute", "value"),
    [
        ({"ties": "random", "seed": 1}, "seed", 2),
        ({"thresholds": {"frequency": [2, 3, 4, 5]}}, "thresholds", {"frequency": [2, 3, 4, 6]}),
        ({"thresholds": {"recency": [52, 26, 13, 4]}}, "thresholds", {"recency": [52, 26, 13, 3]}),
    ],
)
def test_changed_seed_or_fixed_cut_values_after_fit_are_caught(small, kwargs, attribute, value):
    """A new seed (random ties) or new fixed cut values after fit make score refuse the stale cuts."""
    scorer = RFMScorer(segments=SegmentRules([]), **kwargs).fit(small)
    scorer.score(small)
    setattr(scorer, attribute, value)
    with pytest.raises(InvalidInputError, match="changed since fit"):
        scorer.score(small)


def test_seed_change_is_harmless_without_random_ties(small):
    """The seed only matters for random ties: changing it under 'first' keeps the fit valid."""
    scorer = RFMScorer(ties="first", seed=1, segments=SegmentRules([])).fit(small)
    before = scorer.score(small)
    scorer.seed = 5
    assert scorer.score(small) == before


def test_rfm_cell_joins_scores_for_many_bins():
    """With more than 9 bins the cell joins the scores with '-', one per customer."""
    s = summary_of(
        frequency=list(range(12)),
        since_last=list(range(12)),
        monetary=[0, *range(1, 12)],
        ids=list(range(12)),
    )
    table = RFMScorer(bins=12, ties="first", segments=SegmentRules([])).fit(s).score(s)
    expected = [
        f"{r}-{f}-{m}"
        for r, f, m in zip(
            table["recency_score"].tolist(),
            table["frequency_score"].tolist(),
            table["monetary_score"].tolist(),
            strict=True,
        )
    ]
    assert table["rfm_cell"].tolist() == expected
    assert expected[0] == "12-1-1"  # most recent, one purchase, one-time buyer
