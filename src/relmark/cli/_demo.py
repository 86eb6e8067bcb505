"""The sections of ``relmark demo``: the main job on the CDNOW data, then the other models.

Each section is a function of a `Report` and a
`DemoData`; the data object computes what a section asks for on
first use and keeps it, so any subset of sections can run (``--sections``) and later sections
reuse the fits of earlier ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark.cli._program import demo_program
from relmark.cli._report import Cell, Report, Table
from relmark.clv.bgnbd import BGNBD
from relmark.clv.diagnostics import (
    CalibrationHoldoutTable,
    ModelComparison,
    calibration_holdout_table,
    compare_models,
    repeat_purchase_histogram,
    tracking_curves,
)
from relmark.clv.mbgnbd import MBGNBD
from relmark.clv.paretonbd import ParetoNBD
from relmark.clv.scorers import CLVScorer
from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary
from relmark.data.touchpoints import TouchpointTable
from relmark.datasets import load_cdnow
from relmark.domain import (
    Channel,
    Customer,
    CustomerId,
    Direction,
    Touchpoint,
    TouchpointId,
    TouchpointKind,
    Transaction,
    TransactionId,
)
from relmark.errors import InvalidInputError
from relmark.io import to_json
from relmark.profile import ProfileBuilder, ValueSource
from relmark.rfm import RFM_PACKAGE_SEGMENTS, RFMScorer
from relmark.scoring import ScoreTable
from relmark.trust import (
    MissingItemPolicy,
    behavioural_trust_index,
    default_kmv_instrument,
    fit_path_model,
    fit_sem,
    keyed_responses,
    kmv_model,
    kmv_rival_model,
    likelihood_ratio_test,
    reliability_report,
    score_constructs,
    touchpoint_proxies,
)
from relmark.typing import FloatArray

__all__ = ["DEMO_SECTIONS", "DemoData", "Section"]

CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"
CET_WEEKS = 52
_TOP = 10
_SURVEY_SEED = 7
_TOUCHPOINT_SEED = 11


class DemoData:
    """The demo's data and fits, each computed on first use and then reused."""

    @functools.cached_property
    def log(self) -> TransactionLog:
        """The CDNOW master transaction log."""
        return load_cdnow()

    @functools.cached_property
    def calibration(self) -> CustomerSummary:
        """Calibration summary (to 1997-09-30, weeks) with holdout columns (to 1998-06-30)."""
        return self.log.split(CALIBRATION_END, OBSERVATION_END, period="D", unit="W")

    @functools.cached_property
    def calibration_models(self) -> dict[str, BGNBD | MBGNBD | ParetoNBD]:
        """BG/NBD, MBG/NBD and Pareto/NBD fitted on the calibration summary, by display name."""
        return {
            "BG/NBD": BGNBD().fit(self.calibration),
            "MBG/NBD": MBGNBD().fit(self.calibration),
            "Pareto/NBD": ParetoNBD().fit(self.calibration),
        }

    @functools.cached_property
    def comparison(self) -> ModelComparison:
        """Fit statistics and holdout errors of the calibration models."""
        return compare_models(self.calibration_models, self.calibration)

    @functools.cached_property
    def holdout_tables(self) -> dict[str, CalibrationHoldoutTable]:
        """Actual vs predicted holdout purchases by calibration frequency, per model."""
        return {
            name: calibration_holdout_table(model, self.calibration)
            for name, model in self.calibration_models.items()
        }

    @functools.cached_property
    def summary(self) -> CustomerSummary:
        """All 78 weeks summarized (to 1998-06-30): the customers as they stand today."""
        return self.log.summarize(OBSERVATION_END, period="D", unit="W")

    @functools.cached_property
    def clv_scorer(self) -> CLVScorer:
        """BG/NBD and Gamma-Gamma fitted on all 78 weeks; CLV over 12 months at 1% a month."""
        return CLVScorer(horizon=12, unit="M", discount_rate=0.01, margin=1.0).fit(self.summary)

    @functools.cached_property
    def values(self) -> ScoreTable:
        """P(alive), expected purchases, expected spend, CLV and CLV tier of every customer."""
        return self.clv_scorer.score(self.summary)

    @functools.cached_property
    def cet(self) -> FloatArray:
        """Expected purchases in the next ``CET_WEEKS`` weeks."""
        return self.clv_scorer.transaction_model_.expected_purchases(float(CET_WEEKS), self.summary)

    @functools.cached_property
    def rfm(self) -> ScoreTable:
        """RFM scores and the recency × frequency grid segments."""
        return RFMScorer().fit(self.summary).score(self.summary)


@attrs.frozen
class Section:
    """One demo section: its ``--sections`` name, its title and the function that prints it."""

    name: str
    title: str
    run: Callable[[Report, DemoData], None]


# ---------------------------------------------------------------- helpers


def _date(value: np.datetime64) -> str:
    return str(value.astype("datetime64[D]"))


def _column(values: NDArray[Any] | None, name: str) -> NDArray[Any]:
    """A summary column the demo needs; the CDNOW summaries always have it."""
    if values is None:
        raise InvalidInputError(
            f"The CDNOW summary has no {name!r} column; the demo needs it (is the installed "
            "relmark.datasets copy of CDNOW complete?)."
        )
    return values


# ---------------------------------------------------------------- CDNOW sections


def demo_data(report: Report, data: DemoData) -> None:
    """Section: the CDNOW log and its calibration/holdout split."""
    report.heading("1. CDNOW: transactions, calibration and holdout")
    log, calibration = data.log, data.calibration
    frequency_holdout = _column(calibration.frequency_holdout, "frequency_holdout")
    duration_holdout = _column(calibration.duration_holdout, "duration_holdout")
    report.text(
        "The CDNOW master data (Fader, Hardie & Lee 2005): a cohort of customers who first "
        "bought in Q1 1997, followed to mid-1998. Purchases are counted once per customer per "
        "day; durations are in weeks."
    )
    rows: list[tuple[Cell, ...]] = [
        ("transactions", len(log)),
        ("customers", log.n_customers),
        ("first transaction", _date(log.start)),
        ("last transaction", _date(log.end)),
        ("calibration period", f"{_date(log.start)} .. {CALIBRATION_END}"),
        ("holdout period", f"after {CALIBRATION_END} .. {OBSERVATION_END}"),
        ("holdout length (weeks)", float(duration_holdout[0])),
        ("customers in calibration", len(calibration)),
        ("repeat purchases in calibration", int(calibration.frequency.sum())),
        ("customers with a repeat purchase", int((calibration.frequency > 0).sum())),
        ("purchases in holdout", int(frequency_holdout.sum())),
    ]
    report.table(
        Table(
            name="data",
            title="The data",
            columns=("quantity", "value"),
            rows=rows,
            formats=("", ","),
        )
    )


def _parameter_rows(name: str, model: Any) -> list[tuple[Cell, ...]]:
    table = model.summary()
    return [
        (
            name,
            table.names[i],
            float(table.estimate[i]),
            float(table.standard_error[i]),
            float(table.lower[i]),
            float(table.upper[i]),
        )
        for i in range(len(table.names))
    ]


def demo_models(report: Report, data: DemoData) -> None:
    """Section: BG/NBD, MBG/NBD and Pareto/NBD fitted on the calibration period, compared."""
    report.heading("2. Customer-base models fitted on the calibration period")
    calibration = data.calibration
    parameters = [
        row
        for name, model in data.calibration_models.items()
        for row in _parameter_rows(name, model)
    ]
    report.table(
        Table(
            name="model_parameters",
            title="Maximum-likelihood estimates (95% Wald intervals on the log scale)",
            columns=("model", "parameter", "estimate", "std. error", "lower", "upper"),
            rows=parameters,
            formats=("", "", ".4f", ".4f", ".4f", ".4f"),
        )
    )
    comparison = data.comparison
    report.table(
        Table(
            name="model_comparison",
            title=(
                f"Model comparison: fitted on {len(calibration):,} customers; "
                f"{comparison.holdout_actual_total:,.0f} actual purchases in the 39-week holdout"
            ),
            columns=(
                "model",
                "params",
                "log-lik.",
                "AIC",
                "BIC",
                "pred. holdout",
                "MAE",
                "RMSE",
            ),
            rows=[
                (
                    str(comparison.name[i]),
                    int(comparison.n_params[i]),
                    float(comparison.log_likelihood[i]),
                    float(comparison.aic[i]),
                    float(comparison.bic[i]),
                    float(comparison.holdout_predicted_total[i]),
                    float(comparison.holdout_mae[i]),
                    float(comparison.holdout_rmse[i]),
                )
                for i in range(comparison.name.size)
            ],
            formats=("", "d", ",.1f", ",.1f", ",.1f", ",.0f", ".4f", ".4f"),
        )
    )
    report.note("MAE and RMSE are per customer, over the holdout purchases.")
    bgnbd = data.calibration_models["BG/NBD"]
    histogram = repeat_purchase_histogram(bgnbd, calibration)
    report.table(
        Table(
            name="repeat_purchase_histogram",
            title=(
                "Customers by repeat purchases in calibration, actual vs BG/NBD "
                f"(chi-square {histogram.chi_square:.1f}, df {histogram.degrees_of_freedom}, "
                f"p = {histogram.p_value:.2g})"
            ),
            columns=("repeat purchases", "actual", "BG/NBD expected"),
            rows=[
                (str(histogram.label[i]), float(histogram.actual[i]), float(histogram.expected[i]))
                for i in range(histogram.label.size)
            ],
            formats=("", ",.0f", ",.1f"),
        )
    )
    if report.figures:
        from relmark import plotting

        curves = tracking_curves(bgnbd, data.log, period="W", calibration_end=CALIBRATION_END)
        report.figure(
            "tracking",
            "Cumulative repeat transactions, actual vs BG/NBD (fitted on weeks 1-39)",
            lambda axes: plotting.plot_tracking(curves, ax=axes),
        )
        report.figure(
            "repeat_purchase_histogram",
            "Customers by repeat purchases in calibration, actual vs BG/NBD",
            lambda axes: plotting.plot_period_transactions(histogram, ax=axes),
        )
        report.figure(
            "model_comparison",
            "Holdout MAE per customer by model",
            lambda axes: plotting.plot_model_comparison(comparison, metric="holdout_mae", ax=axes),
        )


def demo_holdout(report: Report, data: DemoData) -> None:
    """Section: actual vs predicted holdout purchases by calibration frequency."""
    report.heading("3. Holdout accuracy by calibration frequency")
    tables = data.holdout_tables
    first = next(iter(tables.values()))
    report.table(
        Table(
            name="holdout_by_frequency",
            title=(
                "Mean purchases per customer in the holdout, actual vs predicted, by number of "
                "repeat purchases in the calibration period"
            ),
            columns=("repeat purchases", "customers", "actual", *tables),
            rows=[
                (
                    str(first.label[g]),
                    float(first.n_customers[g]),
                    float(first.actual[g]),
                    *(float(t.predicted[g]) for t in tables.values()),
                )
                for g in range(first.label.size)
            ],
            formats=("", ",.0f", ".3f", *(".3f" for _ in tables)),
        )
    )
    if report.figures:
        from relmark import plotting

        report.figure(
            "holdout_by_frequency",
            "Conditional expectations in the holdout, actual vs BG/NBD",
            lambda axes: plotting.plot_calibration_holdout(tables["BG/NBD"], ax=axes),
        )


def demo_value(report: Report, data: DemoData) -> None:
    """Section: Gamma-Gamma spend model, CLV deciles and the most valuable customers."""
    report.heading("4. Spend and customer lifetime value (as of 1998-06-30)")
    summary, values = data.summary, data.values
    scorer = data.clv_scorer
    report.text(
        f"CLVScorer: BG/NBD and Gamma-Gamma refitted on all 78 weeks ({len(summary):,} "
        f"customers). CLV in dollars of revenue (margin 1): {values.info['clv'].description} "
        f"CET: expected purchases in the next {CET_WEEKS} weeks."
    )
    report.table(
        Table(
            name="scoring_parameters",
            title="Models used for scoring (fitted on weeks 1-78)",
            columns=("model", "parameter", "estimate", "std. error", "lower", "upper"),
            rows=[
                *_parameter_rows("BG/NBD", scorer.transaction_model_),
                *_parameter_rows("Gamma-Gamma", scorer.spend_model_),
            ],
            formats=("", "", ".4f", ".4f", ".4f", ".4f"),
        )
    )
    clv = values["clv"]
    order = np.argsort(-clv, kind="stable")
    total = float(clv.sum())
    deciles = np.array_split(order, 10)
    report.table(
        Table(
            name="clv_deciles",
            title=f"CLV deciles (1 = most valuable tenth); total CLV ${total:,.0f}",
            columns=("decile", "customers", "mean CLV", "min CLV", "max CLV", "share of total"),
            rows=[
                (
                    k + 1,
                    int(idx.size),
                    float(clv[idx].mean()),
                    float(clv[idx].min()),
                    float(clv[idx].max()),
                    float(clv[idx].sum()) / total,
                )
                for k, idx in enumerate(deciles)
            ],
            formats=("d", ",d", ",.2f", ",.2f", ",.2f", ".1%"),
        )
    )
    top = order[:_TOP]
    monetary = _column(summary.monetary, "monetary")
    # Parameter uncertainty of the top customers' CLV: 200 parametric draws of both models.
    from relmark.clv.uncertainty import ParameterDraws

    interval = ParameterDraws.parametric(
        scorer.transaction_model_, scorer.spend_model_, draws=200, seed=1
    ).customer_lifetime_value(
        summary.take(top), horizon=12, unit="M", discount_rate=0.01, margin=1.0, level=0.9
    )
    report.table(
        Table(
            name="top_customers",
            title=(
                f"Top {_TOP} customers by CLV (x repeat purchases, t_x and T in weeks, mean $ "
                "of repeat purchases; 90% interval of CLV from parameter uncertainty, 200 draws)"
            ),
            columns=(
                "customer",
                "x",
                "t_x",
                "T",
                "mean $",
                "P(alive)",
                f"CET {CET_WEEKS}w",
                "E[spend]",
                "CLV",
                "CLV 90% low",
                "CLV 90% high",
            ),
            rows=[
                (
                    summary.customer_id[i].item(),
                    int(summary.frequency[i]),
                    float(summary.recency[i]),
                    float(summary.T[i]),
                    float(monetary[i]),
                    float(values["probability_alive"][i]),
                    float(data.cet[i]),
                    float(values["expected_spend"][i]),
                    float(clv[i]),
                    float(interval.lower[k]),
                    float(interval.upper[k]),
                )
                for k, i in enumerate(top)
            ],
            formats=("", "d", ".1f", ".1f", ",.2f", ".3f", ".2f", ",.2f", ",.2f", ",.2f", ",.2f"),
        )
    )

    def draw(axes: Any) -> None:
        shares = [float(clv[idx].sum()) / total for idx in deciles]
        axes.bar(np.arange(1, 11), shares, color="tab:blue")
        axes.set_xticks(np.arange(1, 11))
        axes.set_xlabel("CLV decile (1 = most valuable)")
        axes.set_ylabel("share of total CLV")

    report.figure("clv_deciles", "Share of total CLV by decile", draw)


def demo_rfm(report: Report, data: DemoData) -> None:
    """Section: RFM segments with their size and value, and the lint of a published rule set."""
    report.heading("5. RFM segments (as of 1998-06-30)")
    table, clv = data.rfm, data.values["clv"]
    segments = table["segment"]
    names, inverse, counts = np.unique(segments, return_inverse=True, return_counts=True)
    totals = np.bincount(inverse, weights=clv)
    order = np.argsort(-totals, kind="stable")
    n = len(segments)
    report.text(
        "Quintile scores (ties share a score), segments from the recency x frequency grid "
        "(RF_GRID_SEGMENTS, a partition: every cell in exactly one segment)."
    )
    report.table(
        Table(
            name="rfm_segments",
            title="RFM segments with their customer lifetime value",
            columns=("segment", "customers", "share", "total CLV", "mean CLV"),
            rows=[
                (
                    str(names[k]),
                    int(counts[k]),
                    float(counts[k]) / n,
                    float(totals[k]),
                    float(totals[k]) / float(counts[k]),
                )
                for k in order
            ],
            formats=("", ",d", ".1%", ",.0f", ",.2f"),
        )
    )
    lint = RFM_PACKAGE_SEGMENTS.lint()
    report.table(
        Table(
            name="rfm_package_lint",
            title="Lint of the R rfm package's example segments (RFM_PACKAGE_SEGMENTS)",
            columns=("check", "result"),
            rows=[
                ("cells (5 x 5 x 5)", lint.bins**3),
                ("cells claimed by several segments", len(lint.overlaps)),
                ("cells claimed by none (fall back to 'Others')", len(lint.gaps)),
                ("segments that never win a cell", ", ".join(lint.shadowed) or "none"),
                ("is a partition", "yes" if lint.is_partition else "no"),
            ],
        )
    )


# ---------------------------------------------------------------- other models


def _simulated_survey(n: int) -> tuple[dict[str, FloatArray], list[str]]:
    """Seeded 7-point answers to the KMV instrument sharing one general attitude."""
    kmv = default_kmv_instrument()
    rng = np.random.default_rng(_SURVEY_SEED)
    mood = rng.standard_normal(n)
    negative = {"opportunistic_behaviour", "propensity_to_leave", "decision_making_uncertainty"}
    answers: dict[str, FloatArray] = {}
    for construct in kmv.constructs:
        sign = -1.0 if construct.name in negative else 1.0
        latent = 0.7 * sign * mood + 0.7 * rng.standard_normal(n)
        for item in construct.items:
            raw = 4 + 1.2 * latent + 0.6 * rng.standard_normal(n)
            if item.reverse_keyed:
                raw = 8 - raw
            answers[item.code] = np.clip(np.round(raw), 1, 7)
    return answers, [f"r{i:03d}" for i in range(n)]


def _simulated_touchpoints() -> TouchpointTable:
    """A seeded log of inquiries and complaints from six customers, and the firm's replies.

    Each customer meets a different service level: the chance of an answer and its delay.
    """
    rng = np.random.default_rng(_TOUCHPOINT_SEED)
    start = np.datetime64("2024-03-01T09:00", "s")
    hour = np.timedelta64(3600, "s")
    never = np.datetime64("NaT", "s")
    rows: list[tuple[str, np.datetime64, str, str, np.datetime64]] = []
    for c, service in enumerate(np.linspace(0.2, 0.95, 6)):
        customer = f"c{c + 1}"
        for _ in range(int(rng.integers(2, 7))):
            when = start + int(rng.integers(0, 60 * 24)) * hour
            kind = "complaint" if rng.random() < 0.4 else "inquiry"
            answered = rng.random() < service
            delay = int(rng.integers(1, 1 + int(200 * (1.0 - service)) + 1)) * hour
            done = when + delay if answered and kind == "complaint" else never
            rows.append((customer, when, kind, "inbound", done))
            if answered:
                reply = "complaint_resolution" if kind == "complaint" else "support"
                rows.append((customer, when + delay, reply, "outbound", never))
    ids, at, kinds, directions, resolved = zip(*rows, strict=True)
    return TouchpointTable.from_arrays(
        counterpart_id=list(ids),
        at=np.array(at, dtype="datetime64[s]"),
        kind=list(kinds),
        direction=list(directions),
        resolved_at=np.array(resolved, dtype="datetime64[s]"),
    )


def demo_trust(report: Report, _data: DemoData) -> None:
    """Section: the KMV instrument on a simulated survey; behavioural proxies from touchpoints."""
    report.heading("6. Commitment-trust (simulated survey and touchpoints)")
    kmv = default_kmv_instrument()
    n = 300
    answers, respondents = _simulated_survey(n)
    report.text(
        f"The default KMV instrument (Morgan & Hunt 1994): {len(kmv.constructs)} constructs, "
        f"{len(kmv.item_codes)} items, answered by {n} simulated respondents (seed "
        f"{_SURVEY_SEED}) who share one general attitude."
    )
    reliability = reliability_report(kmv, answers, respondent_id=respondents, warn=False)
    report.table(
        Table(
            name="trust_reliability",
            title="Reliability per construct (alpha with 95% Feldt interval)",
            columns=("construct", "items", "alpha", "alpha 95% CI", "omega", "CR", "AVE"),
            rows=[
                (
                    c.construct,
                    len(c.item_codes),
                    c.alpha,
                    f"{c.alpha_ci[0]:.3f} .. {c.alpha_ci[1]:.3f}",
                    c.omega,
                    c.composite_reliability,
                    c.ave,
                )
                for c in reliability.constructs
            ],
            formats=("", "d", ".3f", "", ".3f", ".3f", ".3f"),
        )
    )
    scores = score_constructs(
        kmv,
        answers,
        respondent_id=respondents,
        policy=MissingItemPolicy(strategy="prorate", min_answered=0.5),
    )
    keyed = keyed_responses(kmv, answers, respondent_id=respondents)
    latent = fit_sem(kmv_model(kmv), keyed, warn=False)
    rival = fit_sem(kmv_rival_model(kmv), keyed, warn=False)
    lr = likelihood_ratio_test(latent, rival)
    report.table(
        Table(
            name="trust_fit",
            title="Global fit of the KMV model and its direct-effects rival (latent SEM, ML)",
            columns=(
                "model",
                "chi-square",
                "df",
                "p",
                "CFI",
                "TLI",
                "RMSEA",
                "RMSEA 90% CI",
                "SRMR",
                "AIC",
                "BIC",
            ),
            rows=[
                (
                    name,
                    fit.chi_square,
                    fit.df,
                    fit.p_value,
                    fit.cfi,
                    fit.tli,
                    fit.rmsea,
                    f"{fit.rmsea_ci[0]:.3f} .. {fit.rmsea_ci[1]:.3f}",
                    fit.srmr,
                    fit.aic,
                    fit.bic,
                )
                for name, fit in (("KMV", latent.fit), ("rival", rival.fit))
            ],
            formats=("", ",.1f", "d", ".3g", ".3f", ".3f", ".3f", "", ".3f", ",.1f", ",.1f"),
        )
    )
    composite = fit_path_model(scores, kmv.paths)
    report.table(
        Table(
            name="trust_paths",
            title=(
                f"KMV paths as a latent SEM: {latent.n_supported()} of "
                f"{latent.n_hypothesised} hypothesised paths supported (standardized; the last "
                "column is the attenuated OLS on composite scores, for comparison)"
            ),
            columns=(
                "from",
                "to",
                "estimate",
                "std. error",
                "p",
                "sign holds",
                "supported",
                "composite OLS",
            ),
            rows=[
                (
                    p.rhs,
                    p.lhs,
                    p.std_estimate,
                    p.std_standard_error,
                    p.p_value,
                    "yes" if np.sign(p.estimate) == p.hypothesised_sign.value else "no",
                    "yes" if p.supported() else "no",
                    composite.path(p.rhs, p.lhs).coefficient,
                )
                for p in latent.paths
                if p.hypothesised_sign is not None
            ],
            formats=("", "", "+.3f", ".3f", ".3g", "", "", "+.3f"),
        )
    )
    report.text(
        f"Against the rival with direct paths: chi-square difference {lr.chi_square:,.1f} on "
        f"{lr.df} df (p = {lr.p_value:.3g}); SRMR {latent.fit.srmr:.3f} (KMV) vs "
        f"{rival.fit.srmr:.3f} (rival). These simulated answers share one general attitude and "
        "have no mediating structure, so the KMV model misfits and the rival is expected to "
        "win: supported paths alone say nothing about a model's fit."
    )
    proxies = touchpoint_proxies(_simulated_touchpoints())
    index, used = behavioural_trust_index(proxies)
    report.table(
        Table(
            name="trust_proxies",
            title=(
                "Behavioural trust proxies from a simulated touchpoint log (service level rises "
                "from c1 to c6)"
            ),
            columns=(
                "customer",
                "inbound",
                "outbound",
                "complaints",
                "balance",
                "resolution rate",
                "resolution speed",
                "responsiveness",
                "trust index",
                "proxies used",
            ),
            rows=[
                (
                    str(proxies.counterpart_id[i]),
                    int(proxies.inbound[i]),
                    int(proxies.outbound[i]),
                    int(proxies.complaints[i]),
                    _finite(proxies.communication_balance[i]),
                    _finite(proxies.complaint_resolution_rate[i]),
                    _finite(proxies.resolution_speed[i]),
                    _finite(proxies.responsiveness[i]),
                    _finite(index[i]),
                    int(used[i]),
                )
                for i in range(len(proxies))
            ],
            formats=("", "d", "d", "d", ".2f", ".2f", ".2f", ".2f", ".1f", "d"),
        )
    )


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def demo_profile(report: Report, _data: DemoData) -> None:
    """Section: one customer's profile through the stages, with the next questions to ask."""
    report.heading("7. A staged customer profile")
    builder = ProfileBuilder()
    opened = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    customer = Customer(customer_id=CustomerId("ada"), opened_at=opened, email="ada@example.org")
    rows: list[tuple[Cell, ...]] = []

    def step(event: str, profile: Any, now: dt.datetime) -> None:
        asked = builder.next_questions(profile, budget=3, now=now)
        rows.append(
            (
                now.date().isoformat(),
                event,
                profile.stage.name.lower(),
                ", ".join(f.name for f in asked) or "-",
            )
        )

    profile = builder.new(customer)
    step("account opened (e-mail given)", profile, opened)
    profile = builder.observe_many(
        profile, {"full_name": "Ada L.", "country": "GB"}, source=ValueSource.DECLARED, at=opened
    )
    step("name and country answered", profile, opened)
    log = TransactionLog.from_arrays(
        ["ada", "ada", "ada"], ["2024-01-11", "2024-02-10", "2024-04-10"], [20.0, 35.0, 50.0]
    )
    summary = log.summarize("2024-04-30", period="D", unit="W")
    rfm = RFMScorer().fit(summary).score(summary)
    later = opened + dt.timedelta(days=120)
    (profile,) = builder.derive([profile], summary, {"rfm": rfm}, at=later)
    step("3 purchases; behaviour derived", profile, later)
    profile = builder.grant_consent(profile, "personalisation", at=later)
    step("consent to personalisation", profile, later)
    report.table(
        Table(
            name="profile_stages",
            title="Customer 'ada': stage reached and the next questions (best first)",
            columns=("date", "event", "stage", "next questions"),
            rows=rows,
        )
    )
    segment = profile.current("rfm_segment")
    report.text(
        f"Derived: repeat purchases = {profile.value('repeat_purchases')}, RFM segment = "
        f"{profile.value('rfm_segment')!r} (provenance: "
        f"{'-' if segment is None else segment.provenance.collector})."
    )


def demo_records(report: Report, _data: DemoData) -> None:
    """Section: a purchase and a complaint as typed records and as JSON."""
    report.heading("9. Records and JSON")
    # A fixed offset rather than ZoneInfo("Europe/Berlin"): that needs a time-zone database,
    # which Windows lacks unless the tzdata package is installed.
    cest = dt.timezone(dt.timedelta(hours=2), "CEST")
    purchase = Transaction(
        transaction_id=TransactionId("O-5001"),
        customer_id=CustomerId("C-1001"),
        at=dt.datetime(2024, 5, 3, 18, 42, tzinfo=cest),
        amount=59.9,
        currency="EUR",
        quantity=2,
        channel=Channel.WEB,
    )
    complaint = Touchpoint(
        touchpoint_id=TouchpointId("T-4"),
        customer_id=CustomerId("C-1001"),
        at=dt.datetime(2024, 5, 7, 9, 30, tzinfo=cest),
        channel=Channel.PHONE,
        direction=Direction.INBOUND,
        kind=TouchpointKind.COMPLAINT,
        resolved_at=dt.datetime(2024, 5, 8, 14, 0, tzinfo=cest),
    )
    report.text(
        f"A {complaint.kind.value} by {complaint.counterpart_id} via "
        f"{complaint.channel.value}, resolved in {complaint.resolution_time}; as JSON "
        "(relmark.io.to_json):"
    )
    report.code(to_json(complaint, indent=2))
    report.code(to_json(purchase, indent=2))


DEMO_SECTIONS: tuple[Section, ...] = (
    Section("data", "CDNOW data and split", demo_data),
    Section("models", "BG/NBD, MBG/NBD, Pareto/NBD", demo_models),
    Section("holdout", "holdout accuracy", demo_holdout),
    Section("value", "Gamma-Gamma and CLV", demo_value),
    Section("rfm", "RFM segments", demo_rfm),
    Section("trust", "commitment-trust", demo_trust),
    Section("profile", "staged profile", demo_profile),
    Section("program", "relationship program loop", demo_program),
    Section("records", "records and JSON", demo_records),
)
"""The sections ``relmark demo`` prints, in order."""
