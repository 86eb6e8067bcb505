"""Write the tutorial notebooks from the cell sources in this file.

The notebooks are generated, not edited by hand: reviews read the Python below, and the
``.ipynb`` files are committed without outputs so their diffs stay small. Cell ids are derived
from the notebook name and the cell position, so rebuilding an unchanged notebook changes nothing.

Usage::

    python notebooks/_build.py           # (re)write every notebook
    python notebooks/_build.py --check   # exit 1 if a committed notebook is out of date

CI executes the written notebooks with ``pytest --nbmake notebooks``.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]


def md(text: str) -> Cell:
    """A Markdown cell."""
    return ("markdown", textwrap.dedent(text).strip())


def code(text: str) -> Cell:
    """A code cell."""
    return ("code", textwrap.dedent(text).strip())


# ------------------------------------------------------------------------------------ quickstart
QUICKSTART: list[Cell] = [
    md("""
        # Quickstart: from CDNOW transactions to customer value

        This notebook runs the whole relmark workflow on real data, the CDNOW log: every purchase
        made until June 1998 by the 23,570 people who first bought from the online music store
        CDNOW in the first quarter of 1997. The steps:

        1. load the transaction log;
        2. cut it into a calibration period and a holdout period;
        3. fit a model of *how often and for how long* customers buy (BG/NBD) and a model of
           *how much* they spend (Gamma-Gamma);
        4. check the purchase forecasts against the holdout the model never saw;
        5. turn both models into a customer lifetime value (CLV) per customer;
        6. put the customers into RFM segments and see how segments and CLV relate.

        Everything runs offline: the data ship inside the package.
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import relmark
        from relmark import plotting
        from relmark.clv import diagnostics
        from relmark.datasets import load_cdnow
    """),
    md("""
        ## 1. The transaction log

        A `TransactionLog` holds one row per transaction: who bought, when,
        and for how much. `load_cdnow()` returns the CDNOW log already parsed; for your own data
        use `TransactionLog.from_frame`, `read_csv` or `read_parquet`.
    """),
    code("""
        log = load_cdnow()
        print(f"{len(log):,} transactions by {log.n_customers:,} customers")
        print(f"from {log.start} to {log.end}")
    """),
    md("""
        ## 2. Calibration and holdout

        A forecast is only worth something if it holds on data the model did not see. So the
        first 39 weeks (up to 30 September 1997) are the *calibration* period the models learn
        from, and the following 39 weeks (up to 30 June 1998) are the *holdout* we compare the
        forecasts with.

        `split` condenses each customer's calibration history into four numbers, plus what they
        did in the holdout:

        - `frequency`: repeat purchases (purchases after the first one);
        - `recency`: time from the first to the last purchase;
        - `T`: time from the first purchase to the end of calibration (the customer's "age");
        - `monetary`: mean value of the repeat purchases;
        - `frequency_holdout`, `monetary_holdout`, `duration_holdout`: the same for the holdout.

        `period="D"` counts all of a customer's transactions on one day as one purchase, and
        `unit="W"` measures `recency` and `T` in weeks.
    """),
    code("""
        summary = log.split("1997-09-30", "1998-06-30", period="D", unit="W")
        frame = summary.to_frame("pandas")
        frame.head()
    """),
    code("""
        frame[["frequency", "recency", "T", "monetary", "frequency_holdout"]].describe().round(2)
    """),
    code("""
        share_one_time = (summary.frequency == 0).mean()
        print(f"{share_one_time:.0%} of the customers made no repeat purchase in calibration")
    """),
    md("""
        Most customers never came back after their first purchase. Some of them have left for
        good, some are merely between purchases, and the log alone cannot tell which. That is
        exactly what a "buy till you die" model estimates.

        ## 3. The purchase model: BG/NBD

        The BG/NBD model (Fader, Hardie & Lee 2005) tells a simple story about each customer:

        - while active, they buy at their own steady rate (purchases arrive like a Poisson
          process), and rates differ from customer to customer (a gamma distribution);
        - after each purchase they may drop out for good, with a probability that also differs
          between customers (a beta distribution).

        Nobody's drop-out is observed, so the model infers it: a customer who used to buy often
        but has not bought for a long time has probably left. The four parameters are estimated
        by maximum likelihood. The fit works on the distinct (frequency, recency, T) rows with
        their counts, which is why it takes about a second on 23,570 customers.
    """),
    code("""
        bgnbd = relmark.BGNBD().fit(summary)
        print(bgnbd.summary())
    """),
    code("""
        fit = bgnbd.fit_
        print(f"log-likelihood {fit.log_likelihood:,.1f}, AIC {fit.aic:,.1f}, BIC {fit.bic:,.1f}")
        print(f"{fit.n_observations:,.0f} customers in {fit.n_rows:,} distinct rows, {fit.message}")
    """),
    md("""
        The parameters have a direct reading: $r/\\alpha$ is the average purchase rate of an
        active customer (per week, the unit of the summary), and $a/(a+b)$ is the average
        probability of dropping out after a purchase.
    """),
    code("""
        p = bgnbd.params_
        print(
            f"purchase rate while active: {p.r / p.alpha:.3f} per week, {52 * p.r / p.alpha:.1f} per year"
        )
        print(f"probability of dropping out after a purchase: {p.a / (p.a + p.b):.2f}")
    """),
    md("""
        Before forecasting, check that the model describes the data it was fitted on: how many
        customers made 0, 1, 2, … repeat purchases in calibration, against how many the model
        expects (figure 1 of Fader, Hardie & Lee 2005). The title reports a $\\chi^2$
        goodness-of-fit test; with 23,570 customers it detects even small misfits, so judge the
        size of the gaps in the plot as well. The `relmark.plotting` functions draw each
        diagnostic into the matplotlib axes you give them.
    """),
    code("""
        histogram = diagnostics.repeat_purchase_histogram(bgnbd, summary)
        fig, ax = plt.subplots(figsize=(8, 4))
        plotting.plot_period_transactions(histogram, ax=ax)
        plt.show()
    """),
    md("""
        ## 4. Forecasts against the holdout

        For every customer the model predicts the number of purchases in their holdout period,
        given their calibration history. Grouping customers by the number of repeat purchases
        they made in calibration and comparing the mean forecast with the mean of what they
        actually did is the standard first check (it is figure 3 of Fader, Hardie & Lee 2005).
    """),
    code("""
        table = diagnostics.calibration_holdout_table(bgnbd, summary)
        table.to_frame().round(3)
    """),
    code("""
        fig, ax = plt.subplots(figsize=(7, 4))
        plotting.plot_calibration_holdout(table, ax=ax)
        plt.show()
    """),
    code("""
        print(f"holdout purchases, actual:   {table.actual_total:,.0f}")
        print(f"holdout purchases, forecast: {table.predicted_total:,.0f}")
    """),
    md("""
        The forecast has the right shape: the more a customer bought in calibration, the more
        they buy in the holdout, and the model gets the size of that effect nearly right. But it
        is low in every group, most of all for customers with one or two repeat purchases, and
        in total it forecasts fewer holdout purchases than were made.

        A second check looks at the customer base as a whole: the cumulative number of repeat
        purchases, week by week, against what the model expects for a cohort acquired on the
        same days (figure 2 of the same paper). Left of the dotted line the model has seen the
        data; right of it, it has not.
    """),
    code("""
        curves = diagnostics.tracking_curves(bgnbd, log, calibration_end="1997-09-30")

        fig, ax = plt.subplots(figsize=(7, 4))
        plotting.plot_tracking(curves, ax=ax)
        plt.show()
    """),
    md("""
        Through calibration the two curves lie on top of each other. In the holdout the actual
        curve pulls ahead: the cohort bought more in 1998 than a model of steady buying and
        quiet attrition extrapolates from 1997. Knowing the size of such a gap on past data
        tells you how much to trust the forecasts you make today.

        ## 5. Who is still a customer?

        `probability_alive` is the model's probability that a customer has not dropped out by
        the end of calibration. Customers who never repurchased get a probability of 1 from the
        BG/NBD (in this model one can only drop out right after a purchase); the MBG/NBD and
        Pareto/NBD models in the [BTYD models notebook](btyd-models.ipynb) treat them
        differently.
    """),
    code("""
        alive = bgnbd.probability_alive(summary)
        repeaters = summary.frequency > 0

        fig, ax = plt.subplots(figsize=(7, 4))
        ax.hist(alive[repeaters], bins=40, color="tab:blue")
        ax.set_xlabel("P(alive) at the end of calibration")
        ax.set_ylabel("customers")
        ax.set_title("Customers with at least one repeat purchase")
        plt.show()
    """),
    md("""
        ## 6. The spend model: Gamma-Gamma

        The Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV") describes how much a
        customer spends per purchase: each customer's transaction values scatter around their
        own mean, and those means differ between customers. With only a few purchases a
        customer's observed average is noisy, so the model pulls it towards the population mean;
        the more purchases, the less it pulls.

        It is fitted on the customers with at least one repeat purchase, and it assumes that
        how often people buy tells nothing about how much they spend. Check that first: the
        correlation should be weak.
    """),
    code("""
        correlation = np.corrcoef(summary.frequency[repeaters], summary.monetary[repeaters])[0, 1]
        print(f"correlation of frequency and mean spend among repeat buyers: {correlation:.3f}")
    """),
    code("""
        spend = relmark.GammaGamma().fit(summary)
        print(spend.summary())
    """),
    code("""
        expected_spend = spend.expected_spend(summary)
        frame["expected_spend"] = expected_spend
        frame.loc[repeaters, ["frequency", "monetary", "expected_spend"]].head(8).round(2)
    """),
    md("""
        ## 7. Customer lifetime value

        CLV combines the two models: in each future month, the expected number of purchases
        times the expected spend per purchase, discounted back to today and summed. Every
        choice is an argument, none is implied:

        - `horizon=12, unit="M"`: twelve periods of one month each;
        - `discount_rate=0.01`: 1 % per month, each month's purchases discounted as if made at
          its end;
        - `margin=0.3`: 30 % of revenue is profit, so the result is profit, not revenue.

        The values below are as of the end of calibration. Once a model has passed its holdout
        checks you would refit it on all the data to value customers today.
    """),
    code("""
        clv = relmark.customer_lifetime_value(
            bgnbd, spend, summary, horizon=12, unit="M", discount_rate=0.01, margin=0.3
        )
        frame["probability_alive"] = alive
        frame["clv"] = clv
        print(f"total 12-month CLV: ${clv.sum():,.0f}; median customer: ${np.median(clv):.2f}")
        frame.sort_values("clv", ascending=False).head(10).round(2)
    """),
    md("""
        Value is concentrated: a small share of the customers holds most of it. The curve below
        ranks customers from most to least valuable and shows the share of total CLV held by
        the top share of customers.
    """),
    code("""
        ranked = np.sort(clv)[::-1]
        customer_share = np.arange(1, ranked.size + 1) / ranked.size
        value_share = np.cumsum(ranked) / ranked.sum()
        top_tenth = value_share[int(0.1 * ranked.size) - 1]

        fig, ax = plt.subplots(figsize=(5, 5))
        ax.plot(customer_share, value_share, label="CDNOW customers")
        ax.plot([0, 1], [0, 1], ":", color="grey", label="equal value")
        ax.scatter([0.1], [top_tenth], color="tab:red", zorder=3)
        ax.annotate(f"top 10 % hold {top_tenth:.0%}", (0.1, top_tenth), (0.25, 0.55))
        ax.set_xlabel("share of customers (most valuable first)")
        ax.set_ylabel("share of total 12-month CLV")
        ax.legend(loc="lower right")
        plt.show()
    """),
    md("""
        ## 8. RFM segments next to CLV

        RFM scoring needs no model: it ranks customers into five bins on recency (how long
        since the last purchase), frequency (how many purchases) and monetary value, and maps
        the scores to named segments. It describes the past, where CLV forecasts the future,
        so it is worth seeing how the two line up. The [RFM notebook](rfm.ipynb) covers the
        options.
    """),
    code("""
        rfm = relmark.RFMScorer().fit(summary).score(summary).to_frame("pandas")
        rfm["clv"] = clv
        rfm["probability_alive"] = alive
        by_segment = (
            rfm.groupby("segment")
            .agg(
                customers=("clv", "size"),
                mean_clv=("clv", "mean"),
                mean_p_alive=("probability_alive", "mean"),
                total_clv=("clv", "sum"),
            )
            .assign(share_of_clv=lambda t: t["total_clv"] / t["total_clv"].sum())
            .sort_values("mean_clv", ascending=False)
        )
        by_segment.round(3)
    """),
    code("""
        fig, ax = plt.subplots(figsize=(7, 4))
        ordered = by_segment.sort_values("mean_clv")
        ax.barh(ordered.index, ordered["mean_clv"], color="tab:green")
        ax.set_xlabel("mean 12-month CLV per customer ($)")
        ax.set_title("CLV by RFM segment")
        plt.show()
    """),
    md("""
        The segments order themselves by CLV much as their names suggest, and Champions hold
        most of the value. Two things RFM alone would not show: "Hibernating", the largest
        segment, still adds up to a noticeable share of total value because it is so large; and
        the few "Can't Lose" customers, who used to buy often but stopped long ago, are valued
        lowest of all, because the model judges that they have almost certainly left. RFM tells
        you where a customer stands; CLV tells you what they are expected to be worth.

        ## 9. The same in one call

        Every scorer is registered under a name, and `relmark.score` fits several of them on one
        summary and joins their columns into one table. The `"clv"` scorer fits the BG/NBD and
        Gamma-Gamma models internally and adds a value tier.
    """),
    code("""
        scores = relmark.score(
            summary,
            ["rfm", "clv"],
            params={"clv": {"horizon": 12, "unit": "M", "discount_rate": 0.01, "margin": 0.3}},
        )
        scores.to_frame("pandas").head()
    """),
    code("""
        np.testing.assert_allclose(scores["clv"], clv)
        print("the scorer's CLV equals the step-by-step CLV")
    """),
    md("""
        ## 10. Save the model

        Fitted models are saved as JSON (never pickled): parameters, covariance, fit statistics
        and the time unit. Loading gives back an equivalent model.
    """),
    code("""
        text = relmark.to_json(bgnbd)
        again = relmark.from_json(text, relmark.BGNBD)
        np.testing.assert_allclose(again.probability_alive(summary), alive)
        print(f"{len(text):,} characters of JSON; the loaded model gives the same P(alive)")
    """),
    md("""
        ## Where next

        - [BTYD models](btyd-models.ipynb): BG/NBD, MBG/NBD and Pareto/NBD compared, the
          discrete-time BG/BB and the contractual shifted-beta-geometric model.
        - [RFM](rfm.ipynb): tie policies, fixed thresholds and your own segment rules.
        - [Commitment and trust](commitment-trust.ipynb): survey reliability, the KMV model,
          behavioural proxies.
        - [Profiles](profiles.ipynb): staged customer profiles with consent.
    """),
]

# ------------------------------------------------------------------------------------ BTYD models
BTYD: list[Cell] = [
    md("""
        # Comparing buy-till-you-die models

        Which purchase model should you use? This notebook fits three continuous-time models to
        the CDNOW calibration period and compares them on the same checks, then shows the two
        models for other settings:

        - **BG/NBD**: customers may drop out right after each purchase;
        - **MBG/NBD**: the same, but customers may also drop out before their first repeat
          purchase;
        - **Pareto/NBD**: customers may drop out at any moment, with an exponential lifetime;
        - **BG/BB**: purchases can only happen at discrete occasions (a yearly fund-raiser);
        - **shifted beta-geometric**: contracts that are renewed or cancelled each period.
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import relmark
        from relmark import plotting
        from relmark.clv import diagnostics
        from relmark.datasets import load_cdnow, load_donations
    """),
    md("""
        ## 1. Fit three models on the same calibration data

        The same 39-week calibration / 39-week holdout split as in the quickstart, on a 1-in-10
        systematic sample of the customers (every customer whose id ends in 1), as in Fader,
        Hardie & Lee's (2005) analyses of CDNOW. The sample keeps this notebook quick: the
        Pareto/NBD likelihood is the most expensive of the three. The log's columns are plain
        arrays, so a sample is a mask away. All three models read the same summary and are
        fitted by maximum likelihood.
    """),
    code("""
        cdnow = load_cdnow()
        sample = cdnow.customer_id % 10 == 1
        log = relmark.TransactionLog.from_arrays(
            cdnow.customer_id[sample], cdnow.time[sample], cdnow.amount[sample]
        )
        print(f"{log.n_customers:,} customers, {len(log):,} transactions")
        summary = log.split("1997-09-30", "1998-06-30", period="D", unit="W")
        models = {
            "BG/NBD": relmark.BGNBD().fit(summary),
            "MBG/NBD": relmark.MBGNBD().fit(summary),
            "Pareto/NBD": relmark.ParetoNBD().fit(summary),
        }
        for name, model in models.items():
            print(name)
            print(model.summary())
            print()
    """),
    md("""
        ## 2. Likelihood, information criteria and holdout error

        `compare_models` puts the fit statistics of the models side by side, and, given a
        summary with a holdout, each model's error in forecasting every customer's holdout
        purchases. Lower AIC and BIC are better; since all three models have four parameters,
        they rank the models exactly as the log-likelihood does.
    """),
    code("""
        comparison = diagnostics.compare_models(models, summary)
        comparison.to_frame().set_index("name").round(3)
    """),
    code("""
        print(f"actual holdout purchases: {comparison.holdout_actual_total:,.0f}")

        fig, axes = plt.subplots(1, 2, figsize=(12, 3))
        plotting.plot_model_comparison(comparison, metric="bic", ax=axes[0])
        plotting.plot_model_comparison(comparison, metric="holdout_mae", ax=axes[1])
        plt.show()
    """),
    md("""
        On these data the three models are close: their log-likelihoods differ by a few points
        and their holdout errors by a few percent, and all three forecast fewer holdout
        purchases than were made. The choice between them then rests on their assumptions,
        which the next sections make visible.
    """),
    md("""
        ## 3. Conditional expectations

        The per-group holdout check of the quickstart, now for all three models.
    """),
    code("""
        fig, ax = plt.subplots(figsize=(7, 4))
        first = diagnostics.calibration_holdout_table(models["BG/NBD"], summary)
        ax.plot(first.frequency, first.actual, "ko-", label="actual")
        for (name, model), marker in zip(models.items(), ["s", "^", "v"], strict=True):
            table = diagnostics.calibration_holdout_table(model, summary)
            ax.plot(table.frequency, table.predicted, marker + "--", label=name)
        ax.set_xticks(first.frequency, first.label)
        ax.set_xlabel("repeat purchases in calibration")
        ax.set_ylabel("mean purchases in holdout")
        ax.legend()
        plt.show()
    """),
    md("""
        ## 4. How many customers made 0, 1, 2, … repeat purchases?

        A model fitted to the calibration data should reproduce how the customers spread over
        repeat-purchase counts in that same period. `repeat_purchase_histogram` computes the
        expected number of customers in each bin and a Pearson $\\chi^2$ goodness-of-fit test
        (bins are pooled until each expects at least five customers). With thousands of
        customers the test has a lot of power: even small misfits give small p-values, so read
        the statistic as a relative measure between models, together with the plot.
    """),
    code("""
        histograms = {
            name: diagnostics.repeat_purchase_histogram(model, summary) for name, model in models.items()
        }
        for name, hist in histograms.items():
            print(
                f"{name:>10}: chi2 = {hist.chi_square:6.1f} on {hist.degrees_of_freedom} df, "
                f"p = {hist.p_value:.3f}"
            )
    """),
    code("""
        hist = histograms["BG/NBD"]
        width = 0.2
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.bar(hist.frequency - 1.5 * width, hist.actual, width, color="black", label="actual")
        for offset, (name, h) in zip([-0.5, 0.5, 1.5], histograms.items(), strict=True):
            ax.bar(h.frequency + offset * width, h.expected, width, label=name)
        ax.set_xticks(hist.frequency, hist.label)
        ax.set_yscale("log")
        ax.set_xlabel("repeat purchases in calibration")
        ax.set_ylabel("customers (log scale)")
        ax.legend()
        plt.show()
    """),
    md("""
        ## 5. Week by week

        The tracking curve compares the repeat purchases of the whole cohort per week with what
        each model expects, through calibration and into the holdout. The rise over the first
        twelve weeks is the cohort still being acquired: each customer enters the expected curve
        on their own first-purchase day. The week-to-week spikes of the actual curve are beyond
        all three models, which describe steady buying without seasons or promotions.
    """),
    code("""
        fig, ax = plt.subplots(figsize=(8, 4))
        for name, model in models.items():
            curves = diagnostics.tracking_curves(model, log, calibration_end="1997-09-30")
            ax.plot(curves.period_end, curves.expected, label=name)
        ax.plot(curves.period_end, curves.actual, color="black", linewidth=1, label="actual")
        ax.axvline(curves.calibration_end, color="grey", linestyle=":")
        ax.set_ylabel("repeat purchases per week")
        ax.legend()
        fig.autofmt_xdate()
        plt.show()
    """),
    md("""
        ## 6. Where the models differ: customers who never came back

        The models disagree most about one-time buyers. In the BG/NBD, a customer can only
        drop out right after a purchase, so someone with no repeat purchase is taken to be
        alive with certainty, however long ago they bought. MBG/NBD and Pareto/NBD let them
        drop out too. `frequency_recency_matrix` evaluates $P(\\text{alive})$ over a grid of
        frequency and recency for customers observed for 39 weeks.
    """),
    code("""
        fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
        for ax, (name, model) in zip(axes, models.items(), strict=True):
            grid = diagnostics.frequency_recency_matrix(
                model, 39.0, max_frequency=15, kind="probability_alive"
            )
            image = ax.imshow(
                grid.values,
                origin="lower",
                aspect="auto",
                vmin=0,
                vmax=1,
                cmap="viridis",
                extent=(-0.5, grid.recency[-1] + 0.5, -0.5, grid.frequency[-1] + 0.5),
            )
            ax.set_title(name)
            ax.set_xlabel("recency (weeks)")
        axes[0].set_ylabel("repeat purchases")
        fig.colorbar(image, ax=axes, label="P(alive) at T = 39 weeks")
        plt.show()
    """),
    md("""
        In all three, a frequent buyer who has not bought for a long time (top left) has most
        likely left, while a frequent buyer who bought recently (top right) is almost surely
        still active. The bottom row, one-time buyers, is bright yellow only for the BG/NBD.
        When one-time buyers matter to your decisions, prefer the MBG/NBD or the Pareto/NBD.

        ## 7. Discrete occasions: BG/BB on donation data

        Some purchases can only happen at fixed occasions: a yearly fund-raising drive, an
        annual conference. The BG/BB model (Fader, Hardie & Shang 2010) is the discrete-time
        counterpart of the BG/NBD: at each occasion a living customer buys with their own
        probability $p$ and may die before the next with their own probability $\\theta$.

        `load_donations` holds 11,104 donors first acquired in 1995 and their donations in the
        six yearly drives 1996–2001, as 22 weighted patterns.
    """),
    code("""
        donations = load_donations()
        bgbb = relmark.BGBB().fit(donations)
        print(bgbb.summary())
    """),
    code("""
        expected = bgbb.expected_frequency_counts(6, donations.weights.sum())
        actual = np.bincount(donations.frequency, weights=donations.weights, minlength=7)
        counts = np.arange(7)

        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar(counts - 0.2, actual, 0.4, color="black", label="actual")
        ax.bar(counts + 0.2, expected, 0.4, label="BG/BB")
        ax.set_xlabel("donations in 1996-2001 (six occasions)")
        ax.set_ylabel("donors")
        ax.legend()
        plt.show()
    """),
    code("""
        alive_next = bgbb.probability_alive_at(1, donations)  # alive at the next occasion
        patterns = donations.to_frame("pandas")
        patterns["p_alive_next_year"] = alive_next
        patterns.sort_values(["frequency", "recency"]).round(3).tail(8)
    """),
    md("""
        ## 8. Contracts: the shifted beta-geometric model

        In a contractual setting (subscriptions, memberships) you do see who leaves. The
        shifted beta-geometric model (Fader & Hardie 2007) explains why retention rates rise
        with tenure even when no single customer changes: every customer has their own
        constant probability of cancelling each period, and the cohort sorts itself as the
        likely cancellers leave first.

        The survivor counts below are the "regular" and "high end" customer cohorts of Fader &
        Hardie (2007): 1,000 customers each, counted at the start of each of 13 years. We fit
        on the first eight counts (seven years) and project the remaining five.
    """),
    code("""
        cohorts = {
            "regular": [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173],
            "high end": [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394],
        }
        years = np.arange(13)

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, survivors in cohorts.items():
            sbg = relmark.ShiftedBetaGeometric().fit_cohort(survivors[:8])
            p = sbg.params_
            print(f"{name:>8}: alpha = {p.alpha:.3f}, beta = {p.beta:.3f}")
            (line,) = ax.plot(years, survivors, "o", label=f"{name}, actual")
            ax.plot(years, 1000 * sbg.survival(years), "-", color=line.get_color(), label=f"{name}, sBG")
        ax.axvline(7, color="grey", linestyle=":", label="end of calibration")
        ax.set_xlabel("year")
        ax.set_ylabel("customers still active (of 1,000)")
        ax.legend()
        plt.show()
    """),
    md("""
        The projections track the five years the model never saw. A model that instead
        assumed one retention rate for everybody would have to predict the same percentage
        loss every year, and would underestimate how many customers stay.

        For how to choose between the models, see the explanation page *Choosing a model* in
        the documentation.
    """),
]

# ------------------------------------------------------------------------------------ RFM
RFM: list[Cell] = [
    md("""
        # RFM scores and segments

        RFM ranks customers on three observable quantities:

        - **recency**: how long ago the last purchase was (recent is better);
        - **frequency**: how many purchases (more is better);
        - **monetary**: how much they spend per purchase (more is better).

        Each is cut into five bins (score 1 = worst, 5 = best), and combinations of scores are
        mapped to named segments. This notebook scores the CDNOW customers, looks at how ties
        are handled, writes and checks segment rules, and finally asks whether the segments say
        anything about the future.
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import relmark
        from relmark.datasets import load_cdnow
    """),
    md("""
        ## 1. Score the customers

        We summarize the first 39 weeks of the CDNOW log and keep the following 39 weeks as a
        holdout for the last section. The scorer learns its bin thresholds in `fit` and applies
        them in `score`, so new customers can later be scored on the same scale.
    """),
    code("""
        summary = load_cdnow().split("1997-09-30", "1998-06-30", period="D", unit="W")
        scorer = relmark.RFMScorer().fit(summary)
        table = scorer.score(summary)
        rfm = table.to_frame("pandas")
        rfm.head()
    """),
    md("""
        `time_since_last_purchase` is `T - recency` in weeks, `purchases` counts the first
        purchase too. The learned thresholds can be inspected; recency cut points are times
        since the last purchase and decrease from bin to bin:
    """),
    code("""
        for dimension in ("recency", "frequency", "monetary"):
            bins = scorer.thresholds_[dimension]
            print(f"{dimension:>9}: cuts {np.round(bins.cuts, 2)}, customers per bin {bins.sizes}")
        print("bins left empty:", scorer.collapsed_bins())
    """),
    md("""
        ## 2. Ties

        Most CDNOW customers bought only once, so 60 % of them share the same frequency. Five
        equal bins are then impossible without splitting identical customers. The default,
        `ties="share"`, keeps equal values in one bin, and bins left empty are reported, never
        silently relabelled. `ties="first"` and `ties="random"` make equal-size bins by breaking
        ties by customer id or by a seeded random key.
    """),
    code("""
        policies = {
            "share": relmark.RFMScorer(ties="share"),
            "first": relmark.RFMScorer(ties="first"),
            "random": relmark.RFMScorer(ties="random", seed=7),
        }
        fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=True)
        for ax, (name, policy) in zip(axes, policies.items(), strict=True):
            scores = policy.fit(summary).score(summary)["frequency_score"]
            ax.bar(np.arange(1, 6), np.bincount(scores, minlength=6)[1:])
            ax.set_title(f'ties="{name}"')
            ax.set_xlabel("frequency score")
        axes[0].set_ylabel("customers")
        plt.show()
    """),
    md("""
        Equal-size bins look tidy, but two customers with identical histories can then get
        different scores, which is hard to explain to anyone using them. Sharing bins keeps
        scores a function of the data. Whatever the policy, results do not depend on the order
        of the rows.

        Thresholds can also be set by hand, for instance from business rules, per dimension;
        dimensions left out are still learned from the data:
    """),
    code("""
        fixed = relmark.RFMScorer(thresholds={"recency": [26, 13, 8, 4], "frequency": [2, 3, 5, 8]}).fit(
            summary
        )
        fixed.score(summary).to_frame("pandas")[["recency_score", "frequency_score"]].apply(
            lambda column: column.value_counts().sort_index()
        )
    """),
    md("""
        ## 3. Segments

        The default segment table, `RF_GRID_SEGMENTS`, names each cell of the recency ×
        frequency grid. The heatmap shows how many customers fall in each cell and which
        segment it belongs to.
    """),
    code("""
        counts = np.zeros((5, 5))
        np.add.at(counts, (rfm["frequency_score"] - 1, rfm["recency_score"] - 1), 1)
        names = {}
        for (r, f), segment in rfm.groupby(["recency_score", "frequency_score"])["segment"]:
            names[r, f] = segment.iloc[0]

        fig, ax = plt.subplots(figsize=(8, 6))
        image = ax.imshow(counts, origin="lower", cmap="Blues")
        for (r, f), name in names.items():
            n_cell = counts[f - 1, r - 1]
            color = "white" if n_cell > counts.max() / 2 else "black"
            ax.text(
                r - 1, f - 1, f"{name}\\n{n_cell:.0f}", ha="center", va="center", fontsize=7, color=color
            )
        ax.set_xticks(range(5), range(1, 6))
        ax.set_yticks(range(5), range(1, 6))
        ax.set_xlabel("recency score")
        ax.set_ylabel("frequency score")
        fig.colorbar(image, label="customers")
        plt.show()
    """),
    md("""
        The frequency-score-2 row is empty: it is the bin that ties collapsed. Cells without
        customers are not labelled. A rule table is
        data, and it can be checked before use. `lint` enumerates every cell of the score
        grid and reports the cells claimed by several rules (the first rule wins, so rule order
        matters there), the cells no rule claims (they fall to the fallback), and rules that
        never win a cell. The default grid is a partition; the ten segments of the R `rfm`
        package are not:
    """),
    code("""
        print(relmark.RF_GRID_SEGMENTS.lint(bins=5))
        print()
        report = relmark.RFM_PACKAGE_SEGMENTS.lint(bins=5)
        print(report)
        report.overlaps[:3]
    """),
    md("""
        ## 4. Your own rules

        A `Segment` is a box of score ranges (leave a dimension out to accept any score) or an
        explicit list of cells; `SegmentRules` applies them in order, first match wins. Here is
        a small rule set aimed at a retention campaign. The linter shows that "Slipping
        regulars" is partly hidden by "Big spenders" above it.
    """),
    code("""
        rules = relmark.SegmentRules(
            [
                relmark.Segment("Best", r=(4, 5), f=(4, 5), m=(4, 5)),
                relmark.Segment("Big spenders", m=(5, 5)),
                relmark.Segment("Slipping regulars", r=(1, 2), f=(3, 5)),
                relmark.Segment("Recent", r=(4, 5)),
            ],
            fallback="Everyone else",
        )
        report = rules.lint(bins=5)
        print(report)
        print("first overlaps:", [(o.cell, o.segments, o.winner) for o in report.overlaps[:3]])
    """),
    code("""
        custom = relmark.RFMScorer(segments=rules).fit(summary).score(summary)
        custom.to_frame("pandas")["segment"].value_counts()
    """),
    md("""
        ## 5. Do segments predict anything?

        RFM describes the past. A fair test of whether it is useful is what the segments'
        customers did next: the mean number of purchases in the 39-week holdout, and the share
        of customers who bought at all.
    """),
    code("""
        rfm["holdout_purchases"] = summary.frequency_holdout
        rfm["bought_again"] = summary.frequency_holdout > 0
        outcome = (
            rfm.groupby("segment")
            .agg(
                customers=("segment", "size"),
                holdout_purchases=("holdout_purchases", "mean"),
                bought_again=("bought_again", "mean"),
            )
            .sort_values("holdout_purchases")
        )
        outcome.round(3)
    """),
    code("""
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.barh(outcome.index, outcome["bought_again"], color="tab:purple")
        ax.set_xlabel("share of customers who bought in the next 39 weeks")
        ax.set_title("RFM segments against the holdout")
        plt.show()
    """),
    md("""
        The ranking mostly holds: Champions buy again far more often than Hibernating customers.
        The 28 "Can't Lose" customers are too few to read much into. RFM has no notion of *how
        much* more a segment will buy, or of time: for forecasts in purchases or money, use a
        purchase model (see the [quickstart](quickstart.ipynb)).

        The RFM scorer is registered as `"rfm"`, so it also runs through `relmark.score`,
        with its hyperparameters passed by name:
    """),
    code("""
        relmark.score(summary, ["rfm"], params={"rfm": {"ties": "first"}}).to_frame("pandas").head()
    """),
]

# ------------------------------------------------------------------------------------ trust
TRUST: list[Cell] = [
    md("""
        # Commitment and trust

        Morgan & Hunt's (1994) commitment–trust theory holds that relationships last when the
        partners are committed and trust each other, and it names what builds trust and
        commitment (shared values, communication, the benefits of the relationship, the cost of
        ending it, the absence of opportunism) and what they lead to (cooperation, staying).
        This is the "KMV" (key mediating variable) model.

        This notebook measures the constructs with a survey instrument, checks that the
        measurement is reliable, tests the KMV model against a rival, and then scores customers
        from their behaviour, for the many who never answer a survey.

        The survey answers here are **simulated** from a known structure, so we know what the
        analysis should find. With real data you would read them from a file.
    """),
    code("""
        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd

        import relmark
    """),
    md("""
        ## 1. The instrument

        An instrument lists constructs, their questionnaire items (answered on a 1–7 scale) and
        the hypothesised paths between constructs. Some items are worded in reverse (agreeing
        means *less* of the construct); they are recoded before scoring.
    """),
    code("""
        kmv = relmark.default_kmv_instrument()
        pd.DataFrame(
            {
                "construct": [c.name for c in kmv.constructs],
                "items": [", ".join(c.item_codes) for c in kmv.constructs],
                "reverse keyed": [
                    ", ".join(i.code for i in c.items if i.reverse_keyed) for c in kmv.constructs
                ],
            }
        )
    """),
    code("""
        for path in kmv.paths:
            print(f"{path.source:>24} -> {path.target:<28} expected sign {path.sign.name.lower()}")
    """),
    md("""
        ## 2. Simulate survey answers

        We draw 500 respondents whose latent constructs follow the KMV structure: antecedents
        are independent, trust and commitment are driven by their antecedents (and trust drives
        commitment), and the outcomes are driven by trust and commitment only. Each item is the
        latent value plus noise, rounded to the 1–7 scale; reverse-keyed items are flipped. A
        few answers are left blank.
    """),
    code("""
        rng = np.random.default_rng(20240601)
        n = 500
        latent = {
            name: rng.standard_normal(n)
            for name in (
                "termination_costs",
                "relationship_benefits",
                "shared_values",
                "communication",
                "opportunistic_behaviour",
            )
        }
        latent["trust"] = (
            0.4 * latent["shared_values"]
            + 0.4 * latent["communication"]
            - 0.4 * latent["opportunistic_behaviour"]
            + 0.6 * rng.standard_normal(n)
        )
        latent["commitment"] = (
            0.3 * latent["termination_costs"]
            + 0.3 * latent["relationship_benefits"]
            + 0.3 * latent["shared_values"]
            + 0.4 * latent["trust"]
            + 0.6 * rng.standard_normal(n)
        )
        outcome_paths = {
            "acquiescence": {"commitment": 0.5},
            "propensity_to_leave": {"commitment": -0.6},
            "cooperation": {"commitment": 0.4, "trust": 0.4},
            "functional_conflict": {"trust": 0.5},
            "decision_making_uncertainty": {"trust": -0.5},
        }
        for target, sources in outcome_paths.items():
            latent[target] = sum(w * latent[s] for s, w in sources.items()) + 0.7 * rng.standard_normal(n)

        answers = {}
        for construct in kmv.constructs:
            standardized = latent[construct.name] / latent[construct.name].std()
            for item in construct.items:
                raw = 4 + 1.1 * standardized + 0.8 * rng.standard_normal(n)
                if item.reverse_keyed:
                    raw = 8 - raw
                answers[item.code] = np.clip(np.round(raw), 1, 7)
        for code in ("TRU2", "COM3", "LEA1"):
            answers[code][rng.choice(n, size=10, replace=False)] = np.nan
        respondents = np.array([f"c{i:03d}" for i in range(n)])
    """),
    md("""
        ## 3. Construct scores

        A construct's score is the mean of its items after reverse keying. The missing-item
        policy decides what happens when items are blank: the default prorates (averages the
        answered items) when at least half are answered. Indices rescale scores to 0–100.
    """),
    code("""
        scores = relmark.score_constructs(kmv, answers, respondent_id=respondents)
        indices = pd.DataFrame(scores.indices(), index=respondents)
        indices[["trust", "commitment", "cooperation", "propensity_to_leave"]].describe().round(1)
    """),
    md("""
        ## 4. Reliability

        Before interpreting scores, check that each construct's items measure one thing
        consistently. The report gives, per construct, Cronbach's alpha (with a confidence
        interval), McDonald's omega, composite reliability (CR) and average variance extracted
        (AVE), and checks discriminant validity between constructs with the Fornell–Larcker
        criterion. Usual thresholds: alpha, omega and CR at least 0.7, AVE at least 0.5.
        `warn=False` collects problems in `report.warnings` instead of raising them as Python
        warnings.
    """),
    code("""
        report = relmark.reliability_report(kmv, answers, respondent_id=respondents, warn=False)
        pd.DataFrame(
            [
                {
                    "construct": c.construct,
                    "n": c.n_respondents,
                    "alpha": c.alpha,
                    "alpha 95% CI": f"{c.alpha_ci[0]:.2f}-{c.alpha_ci[1]:.2f}",
                    "omega": c.omega,
                    "CR": c.composite_reliability,
                    "AVE": c.ave,
                }
                for c in report.constructs
            ]
        ).round(3)
    """),
    code("""
        failed = [check for check in report.fornell_larcker if not check.passed]
        print(f"{len(report.fornell_larcker)} construct pairs checked, {len(failed)} failed")
        print(f"{len(report.warnings)} warnings")
        for warning in report.warnings[:5]:
            print("-", warning)
    """),
    md("""
        ## 5. Test the KMV model as a latent-variable SEM

        Morgan & Hunt fitted the KMV model as a structural equation model: each construct is a
        latent variable measured by its items, so measurement error is part of the model and
        does not bias the paths. `fit_sem` fits it by maximum likelihood (respondents with a
        blank item are left out and counted) and reports the global fit a reviewer expects:
        χ², CFI, TLI, RMSEA with its interval, SRMR. Morgan & Hunt compared the KMV model with a
        rival in which the antecedents also act on the outcomes directly; the KMV model is
        nested in it, so the likelihood-ratio (χ² difference) test applies. If trust and
        commitment really mediate, the direct paths add nothing.
    """),
    code("""
        from relmark.trust import (
            fit_disattenuated_path_model,
            fit_sem,
            keyed_responses,
            kmv_model,
            kmv_rival_model,
            likelihood_ratio_test,
        )

        keyed = keyed_responses(kmv, answers, respondent_id=respondents)
        sem = fit_sem(kmv_model(kmv), keyed)
        rival = fit_sem(kmv_rival_model(kmv), keyed)
        lr = likelihood_ratio_test(sem, rival)
        print(f"{sem.n_respondents} respondents used, {sem.n_dropped} left out for a blank item")
        print(f"{sem.n_supported()} of {sem.n_hypothesised} hypothesised paths supported")
        print(
            f"rival's direct paths: chi-square difference {lr.chi_square:.1f} on {lr.df} df, p = {lr.p_value:.3f}"
        )
        pd.DataFrame(
            [
                {
                    "model": name,
                    "chi-square": f.chi_square,
                    "df": f.df,
                    "p": f.p_value,
                    "CFI": f.cfi,
                    "TLI": f.tli,
                    "RMSEA": f.rmsea,
                    "RMSEA 90% CI": f"{f.rmsea_ci[0]:.3f}-{f.rmsea_ci[1]:.3f}",
                    "SRMR": f.srmr,
                    "BIC": f.bic,
                }
                for name, f in (("KMV", sem.fit), ("rival", rival.fit))
            ]
        ).round(3)
    """),
    code("""
        paths = sem.paths
        labels = [f"{p.rhs} → {p.lhs}" for p in paths]
        coefficients = np.array([p.std_estimate for p in paths])
        errors = 1.96 * np.array([p.std_standard_error for p in paths])
        colors = ["tab:green" if p.supported() else "tab:red" for p in paths]

        fig, ax = plt.subplots(figsize=(8, 5))
        ax.barh(labels, coefficients, xerr=errors, color=colors)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel("standardized path coefficient (95 % interval)")
        ax.set_title("KMV paths, latent SEM (green: hypothesis supported)")
        plt.show()
    """),
    md("""
        The data were simulated from a fully mediated structure, and the latent SEM says so:
        every path is recovered with its sign, the fit indices are good and the rival's direct
        paths are not needed.

        ## 6. Composite scores: fast, but attenuated

        A quicker analysis regresses the construct *scores* (item means) on each other. The
        scores carry measurement error, which shrinks their correlations, so the paths come out
        too small — and the antecedents then "explain" part of what trust and commitment should
        carry, so the rival test finds direct effects that are not there, more often the more
        respondents you have. Dividing each composite correlation by $\\sqrt{\\omega_i\\omega_j}$
        (the disattenuated variant) removes most of that bias, but it has no global fit test.
    """),
    code("""
        comparison = relmark.compare_with_rival(scores, kmv)
        corrected = fit_disattenuated_path_model(kmv, answers, n_bootstrap=100, seed=1)
        print(f"composite rival test: p = {comparison.lr_p_value:.3f}")
        pd.DataFrame(
            [
                {
                    "path": f"{p.rhs} → {p.lhs}",
                    "latent SEM": p.std_estimate,
                    "composite OLS": comparison.model.path(p.rhs, p.lhs).coefficient,
                    "disattenuated": corrected.path(p.rhs, p.lhs).coefficient,
                }
                for p in sem.paths
            ]
        ).round(3)
    """),
    md("""
        ## 7. Net Promoter Score

        Many firms also ask how likely a customer is to recommend them (0–10). The NPS is the
        share of promoters (9–10) minus the share of detractors (0–6), in points, here with a
        confidence interval. We simulate ratings that rise with commitment.
    """),
    code("""
        ratings = np.clip(np.round(7.5 + 1.5 * latent["commitment"] + rng.standard_normal(n)), 0, 10)
        nps = relmark.net_promoter_score(ratings)
        print(
            f"NPS {nps.value:.1f} (95 % CI {nps.ci[0]:.1f} to {nps.ci[1]:.1f}); promoters "
            f"{nps.promoters:.0%}, passives {nps.passives:.0%}, detractors {nps.detractors:.0%}"
        )
    """),
    code("""
        values, counts = np.unique(ratings, return_counts=True)
        colors = ["tab:red" if v <= 6 else "tab:grey" if v <= 8 else "tab:green" for v in values]
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.bar(values, counts, color=colors)
        ax.set_xticks(range(11))
        ax.set_xlabel("likelihood to recommend (red: detractors, green: promoters)")
        ax.set_ylabel("respondents")
        plt.show()
    """),
    md("""
        ## 8. Customers without a survey: behavioural proxies

        Surveys reach few customers. For everyone else, relmark computes **proxies** from what
        can be observed: for trust, how balanced the communication is, how many complaints are
        resolved and how fast, how quickly requests are answered; for commitment, tenure,
        repeat-purchase rate and purchase continuity. They are not measurements of the
        constructs, only behaviour the theory expects to go with them, so it is worth checking
        them against the survey where both exist.

        We simulate a complaint for 60 % of the respondents; high-trust customers' complaints
        are more often resolved, and resolved faster, and each resolution is an outbound
        touchpoint. Purchase histories are simulated so that committed customers buy more
        often.
    """),
    code("""
        start = np.datetime64("2024-01-01T09:00", "s")
        has_complaint = rng.random(n) < 0.6
        complainers = np.flatnonzero(has_complaint)
        opened = start + rng.integers(0, 180, complainers.size) * np.timedelta64(1, "D")
        trust_z = latent["trust"][complainers] / latent["trust"].std()
        days_to_resolve = rng.exponential(4.0 * np.exp(-0.8 * trust_z))
        resolved = rng.random(complainers.size) < 1 / (1 + np.exp(-1.5 - trust_z))
        resolved_at = np.where(
            resolved, opened + (days_to_resolve * 86_400).astype("timedelta64[s]"), np.datetime64("NaT")
        )
        replies = complainers[resolved]
        touchpoints = relmark.TouchpointTable.from_arrays(
            counterpart_id=np.concatenate([respondents[complainers], respondents[replies]]),
            at=np.concatenate([opened, resolved_at[resolved]]),
            kind=["complaint"] * complainers.size + ["complaint_resolution"] * replies.size,
            direction=["inbound"] * complainers.size + ["outbound"] * replies.size,
            resolved_at=np.concatenate([resolved_at, np.full(replies.size, np.datetime64("NaT"))]),
        )

        commitment_z = latent["commitment"] / latent["commitment"].std()
        T = rng.uniform(20, 104, n)
        frequency = rng.poisson(np.exp(1.0 + 0.5 * commitment_z) * T / 52)
        recency = np.where(frequency > 0, T * rng.beta(4 + frequency, 1), 0.0)
        purchases = relmark.CustomerSummary.from_arrays(
            frequency=frequency, recency=recency, T=T, customer_id=respondents, unit="W"
        )
    """),
    md("""
        `CommitmentTrustScorer` learns the reference distributions of tenure and repeat rate in
        `fit`, and `score` returns one row per customer with the proxies, the behavioural
        indices (0–100) and, when survey scores are passed, the survey indices next to them.
    """),
    code("""
        scorer = relmark.CommitmentTrustScorer(resolution_half_life_days=3.0).fit(purchases)
        table = scorer.score(purchases, touchpoints=touchpoints, survey=scores).to_frame("pandas")
        table[
            [
                "behavioural_trust_index",
                "trust_proxy_count",
                "survey_trust_index",
                "behavioural_commitment_index",
                "survey_commitment_index",
            ]
        ].head()
    """),
    code("""
        with_complaint = table["trust_proxy_count"] > 0
        trust_r = (
            table.loc[with_complaint, ["behavioural_trust_index", "survey_trust_index"]].corr().iloc[0, 1]
        )
        commitment_r = table[["behavioural_commitment_index", "survey_commitment_index"]].corr().iloc[0, 1]
        print(
            f"trust: behavioural vs survey r = {trust_r:.2f} ({with_complaint.sum()} customers with a complaint)"
        )
        print(f"commitment: behavioural vs survey r = {commitment_r:.2f} ({len(table)} customers)")

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].scatter(
            table.loc[with_complaint, "survey_trust_index"],
            table.loc[with_complaint, "behavioural_trust_index"],
            s=8,
            alpha=0.5,
        )
        axes[0].set_xlabel("survey trust index")
        axes[0].set_ylabel("behavioural trust index")
        axes[1].scatter(
            table["survey_commitment_index"], table["behavioural_commitment_index"], s=8, alpha=0.5
        )
        axes[1].set_xlabel("survey commitment index")
        axes[1].set_ylabel("behavioural commitment index")
        plt.show()
    """),
    md("""
        The proxies go with the survey scores, but loosely: one complaint or a purchase count
        carries far less information than a dozen questionnaire items. The three bands of the
        behavioural trust index show it: complaints left open (0), resolved after the response
        window, and resolved within it; the spread inside a band is resolution speed. Use behavioural indices
        to rank and monitor customers nobody has surveyed, and keep a surveyed sample to check
        that the relation still holds in your data.
    """),
]

# ------------------------------------------------------------------------------------ profiles
PROFILES: list[Cell] = [
    md("""
        # Staged customer profiles

        A relationship deepens in stages, and so should what a firm knows about a customer:
        contact details at account opening, purchase behaviour once they buy, preferences once
        they trust the firm enough to share them. relmark's profiles follow this:

        - a **catalogue** lists every field the firm may hold, its stage, the purpose it serves
          and the lawful basis for processing it;
        - every value keeps its **provenance**: declared by the customer or derived, when, and
          under which consents;
        - the **next questions** to ask are chosen by expected value, among those that are
          lawful to ask now;
        - consent can be withdrawn, processing objected to, and values erased.
    """),
    code("""
        import datetime as dt
        import json

        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd

        import relmark
        from relmark.datasets import load_cdnow
        from relmark.domain import Customer, CustomerId
        from relmark.profile import PriceSensitivity, ValueSource
    """),
    md("""
        ## 1. The catalogue

        The default catalogue has fields for the four stages. Purpose and lawful basis decide
        when a field may be asked or derived: fields needed to run the contract may always be
        processed, fields used for personalisation need consent for that purpose.
    """),
    code("""
        builder = relmark.ProfileBuilder()
        pd.DataFrame(
            [
                {
                    "field": f.name,
                    "stage": f.stage.name.lower(),
                    "purpose": f.purpose,
                    "lawful basis": f.lawful_basis.name.lower(),
                    "sensitivity": f.sensitivity.name.lower(),
                    "asked": f.askable,
                }
                for f in builder.catalogue
            ]
        )
    """),
    md("""
        ## 2. Account opening

        A profile starts from a customer record; the e-mail address on the record is stored as
        declared at opening. The builder then suggests what to ask next, and answers are
        recorded with their source and time.
    """),
    code("""
        opened = dt.datetime(1997, 1, 1, 9, tzinfo=dt.UTC)
        ada = Customer(customer_id=CustomerId("ada"), opened_at=opened, email="ada@example.org")
        profile = builder.new(ada)
        print("ask first:", [f.name for f in builder.next_questions(profile, budget=2, now=opened)])

        profile = builder.observe_many(
            profile, {"full_name": "Ada L.", "country": "GB"}, source=ValueSource.DECLARED, at=opened
        )
        print("stage:", profile.stage.name)
    """),
    md("""
        ## 3. Stage 2: derive behaviour for a whole customer base

        Purchase behaviour is not asked, it is derived: from the customer summary and from
        score tables. Here we score the 23,570 CDNOW customers with RFM and CLV at the end of
        June 1998 and derive the stage-2 fields for all of them at once. `derive_book` keeps the
        result columnar; a `Profile` is built only for the customers you look at.
    """),
    code("""
        summary = load_cdnow().summarize("1998-06-30", period="D", unit="W")
        rfm_scorer = relmark.RFMScorer().fit(summary)
        clv_scorer = relmark.get_scorer("clv", margin=0.3).fit(summary)
        tables = {"rfm": rfm_scorer.score(summary), "clv": clv_scorer.score(summary)}
        at = dt.datetime(1998, 7, 1, tzinfo=dt.UTC)
        book = builder.derive_book(summary, tables, at=at, profiles=())
        print(f"{len(book):,} profiles; derived fields: {list(book.columns)}")
    """),
    code("""
        one = book.profile(summary.customer_id[4])
        pd.DataFrame(
            [
                {
                    "field": v.field,
                    "value": v.value,
                    "source": v.provenance.source.value,
                    "by": v.provenance.collector,
                }
                for v in one.observations
            ]
        )
    """),
    code("""
        stages, present = book.column("lifecycle_stage")
        stage_counts = pd.Series(np.asarray(stages)[present]).value_counts()

        fig, ax = plt.subplots(figsize=(6, 3))
        ax.barh(stage_counts.index, stage_counts.to_numpy(), color="tab:orange")
        ax.set_xlabel("customers")
        ax.set_title("CDNOW customers by derived lifecycle stage, July 1998")
        plt.show()
    """),
    md("""
        ## 4. Consent, then the most valuable questions

        Ada has bought; her derived fields come from the same scoring. Once she grants consent
        for personalisation, preference questions become lawful to ask. The ranker scores each
        candidate question by how much the answer is expected to be worth (weighted by the
        customer's value) against how intrusive it is, and says why.
    """),
    code("""
        ada_log = relmark.TransactionLog.from_arrays(
            ["ada"] * 4, ["1997-01-01", "1997-03-10", "1997-09-02", "1998-05-20"], [25.0, 40.0, 32.0, 55.0]
        )
        ada_summary = ada_log.summarize("1998-06-30", period="D", unit="W")
        ada_rfm = rfm_scorer.score(ada_summary)
        (profile,) = builder.derive([profile], ada_summary, {"rfm": ada_rfm}, at=at)
        print("segment:", profile.value("rfm_segment"), "| stage:", profile.stage.name)

        profile = builder.grant_consent(profile, "personalisation", at=at)
        for question in builder.rank_questions(profile, budget=3, now=at):
            print(f"{question.field.name:<22} {question.score:.4f}  {question.reason}")
    """),
    md("""
        Ada was scored on the scale learned from all CDNOW customers (`fit(summary)`), so her
        segment is comparable with theirs.

        ## 5. Withdrawal, objection, erasure, JSON

        Withdrawing consent stops the questions for that purpose; objecting stops derivations
        that rely on legitimate interest; erasure removes values and keeps a record of what was
        erased, when and why, but never the values themselves. A profile goes to JSON through
        `relmark.to_json` with every value's provenance, and `relmark.from_json` reads it back
        unchanged, checked against the builder's catalogue (never one from the payload).
    """),
    code("""
        later = at + dt.timedelta(days=30)
        profile = builder.observe(
            profile, "price_sensitivity", PriceSensitivity.HIGH, source=ValueSource.DECLARED, at=later
        )
        profile = builder.withdraw_consent(profile, "personalisation", at=later)
        print(
            "questions after withdrawal:",
            [f.name for f in builder.next_questions(profile, budget=3, now=later)],
        )

        profile = builder.erase(
            profile, ["price_sensitivity"], at=later, requested_by="customer", reason="erasure request"
        )
        print(profile.erasures[-1])

        text = relmark.to_json(profile)
        assert relmark.from_json(text, relmark.Profile, catalogue=builder.catalogue) == profile
        payload = json.loads(text)
        print(f"{len(text):,} characters of JSON, {len(payload['observations'])} values, round trip exact")
        [value for value in payload["observations"] if value["field"] == "rfm_segment"]
    """),
    md("""
        ## 6. How close a relationship can the firm afford?

        Kotler's matrix recommends a relationship level from the number of customers and the
        profit margin: many customers with thin margins call for a basic level of service,
        few customers with high margins for a partnership. And each customer's lifecycle stage
        follows from their purchases, tenure and probability of being alive.
    """),
    code("""
        recommendation = relmark.recommend_relationship_level(summary.customer_id.size, 0.3)
        print(recommendation.level.name, "-", recommendation.reason)
        print(
            relmark.recommend_relationship_level(40, 0.45).level.name, "for 40 customers at a 45 % margin"
        )

        assessment = relmark.lifecycle_stage(purchases=4, tenure_days=535, probability_alive=0.8)
        print(assessment.stage.name, "-", assessment.reason)
    """),
]


# ------------------------------------------------------------------------------------ program
PROGRAM: list[Cell] = [
    md("""
        # The relationship program loop

        From scores to action, one cycle at a time: describe every customer's state, let a
        playbook propose actions, choose the contact list with the largest expected incremental
        value within a budget, hold out a control group, read the response-tracking report, and
        learn from it for the next cycle. The responses here are *simulated* with a known true
        uplift per RFM segment, so we can see whether the report recovers it. The
        [explanation page](../explanation/relationship-program.md) gives the statistics.
    """),
    code("""
        import tempfile
        from datetime import UTC, datetime
        from pathlib import Path

        import matplotlib.pyplot as plt
        import numpy as np

        from relmark.clv import CLVScorer
        from relmark.datasets import load_cdnow
        from relmark.program import (
            DEFAULT_PLAYBOOK,
            Campaign,
            CustomerStates,
            ProgramState,
            ResponseBeliefs,
            load_state,
            plan_contacts,
            plot_uplift,
            response_report,
            save_state,
            simulate_responses,
        )
        from relmark.rfm import RFMScorer

        log = load_cdnow()
        summary = log.summarize("1998-06-30", period="D", unit="W")
        scores = CLVScorer(horizon=12, unit="M").fit(summary).score(summary)
        scores = scores.join(RFMScorer().fit(summary).score(summary))
        states = CustomerStates.from_scores(scores, relationship="accountable")
        print(DEFAULT_PLAYBOOK.lint())
    """),
    md("""
        ## Plan under a budget

        We know nothing yet: every action is believed to make 8 % of contacted customers buy in
        the next 30 days against 5 % without contact, in every segment. The value at stake of a
        response is the customer's 12-month CLV. Each row of the plan says why it was chosen;
        `upper_bound` is the optimum of the linear relaxation, which no plan can beat.
    """),
    code("""
        actions = [a.name for a in DEFAULT_PLAYBOOK.actions]
        beliefs = ResponseBeliefs.from_priors(dict.fromkeys(actions, 0.08), control=0.05, strength=5)
        stake = np.asarray(scores["clv"])
        plan = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=1000.0)
        print(
            f"{len(plan)} contacts, spent {plan.spent:.0f}, expected value "
            f"{plan.expected_total:.0f} (bound {plan.upper_bound:.0f})"
        )
        print(plan.reason[0])
        plan.to_frame().groupby(["state", "action"]).size()
    """),
    md("""
        ## A campaign with a control group, and its report

        Half of each stratum is held out by a stable hash of campaign and customer id. The
        simulated truth: a contact adds nothing for Champions (they buy anyway) and most for
        customers At Risk.
    """),
    code("""
        control_rate = {
            "Champions": 0.20,
            "Loyal": 0.10,
            "Potential Loyalists": 0.08,
            "New Customers": 0.06,
            "Promising": 0.05,
            "Need Attention": 0.05,
            "About To Sleep": 0.03,
            "At Risk": 0.03,
            "Can't Lose": 0.03,
            "Hibernating": 0.01,
            "Others": 0.01,
        }
        true_uplift = {
            "Champions": 0.00,
            "Loyal": 0.02,
            "Potential Loyalists": 0.04,
            "New Customers": 0.03,
            "Promising": 0.03,
            "Need Attention": 0.06,
            "About To Sleep": 0.05,
            "At Risk": 0.12,
            "Can't Lose": 0.15,
            "Hibernating": 0.02,
            "Others": 0.00,
        }
        campaign = Campaign.from_plan(
            plan,
            campaign_id="summer-98",
            start=datetime(1998, 7, 1, tzinfo=UTC),
            response_window_days=30,
            control_share=0.5,
            actions=DEFAULT_PLAYBOOK.actions,
            by="segment",
        )
        responses = simulate_responses(
            campaign,
            control_rate=control_rate,
            uplift={(s, a): u for s, u in true_uplift.items() for a in actions},
            seed=2,
        )
        report = response_report(campaign, responses)
        effects = report.to_frame("effects")
        effects["true"] = effects["state"].map(true_uplift)
        effects[
            ["state", "action", "treated", "control", "true", "uplift", "uplift_low", "uplift_high", "roi"]
        ].round(3)
    """),
    code("""
        main_action = effects.loc[effects["state"] == "*"].sort_values("treated").iloc[-1]["action"]
        ax = plot_uplift(report, main_action)
        plt.show()
    """),
    md("""
        ## Close the loop

        The report's counts update the beliefs (Beta-Binomial per segment × action, shrunk
        towards the segment's baseline plus the pooled uplift). The program state is plain JSON,
        written atomically, so the loop survives a restart. The second cycle, with a smaller
        budget, leaves the Champions and goes where contacts add purchases.
    """),
    code("""
        program = ProgramState(beliefs=beliefs).record(campaign, report)
        path = Path(tempfile.mkdtemp()) / "program.json"
        save_state(program, path)
        assert load_state(path) == program

        second = plan_contacts(states, DEFAULT_PLAYBOOK, program.beliefs, stake, budget=300.0)


        def true_value(p):
            truth = np.array([true_uplift[s] for s in p.state])
            return float((truth * p.value_at_stake - p.cost).sum())


        for name, p in (("cycle 1", plan), ("cycle 2", second)):
            print(
                f"{name}: spent {p.spent:6.0f}, true incremental value per unit spent "
                f"{true_value(p) / p.spent:+.2f}"
            )
        second.to_frame().groupby("state").size().sort_values(ascending=False)
    """),
]


NOTEBOOKS: dict[str, list[Cell]] = {
    "quickstart": QUICKSTART,
    "btyd-models": BTYD,
    "rfm": RFM,
    "commitment-trust": TRUST,
    "profiles": PROFILES,
    "program": PROGRAM,
}


def build(name: str, cells: list[Cell]) -> str:
    """Return the notebook ``name`` as JSON text, without outputs and with stable cell ids."""
    notebook = new_notebook(
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )
    for index, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
        cell["id"] = f"{name}-{index:02d}"
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str]) -> int:
    """Write the notebooks, or with ``--check`` report those that differ from this file."""
    check = "--check" in argv
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / f"{name}.ipynb"
        text = build(name, cells)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date (run python notebooks/_build.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
