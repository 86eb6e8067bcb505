r"""Per-customer prediction intervals from parameter uncertainty: parametric draws or bootstrap.

A fitted model's predictions for a customer (expected purchases, $P(\text{alive})$, expected
spend, CLV) are functions of the estimated parameters $\hat\theta$. Their sampling uncertainty is
obtained by evaluating the prediction at many plausible parameter vectors $\theta^{(1)}, \dots,
\theta^{(B)}$ and taking percentiles per customer:

- **parametric**: $\log\theta^{(b)} \sim N(\log\hat\theta, \hat\Sigma_{\log})$, the asymptotic
  normal distribution of the maximum-likelihood estimator in the log-parameter space the models
  are fitted in (``log_covariance_``, the inverse observed information), so draws stay positive;
- **bootstrap**: customers are resampled with replacement and the model is refitted with the same
  specification (the approach of CLVTools). On compressed rows a resample is a multinomial
  re-weighting of the distinct rows, so each refit is a small weighted fit. When a spend model is
  given, both models are refitted on the *same* resampled customers, so CLV intervals carry the
  joint uncertainty.

These are intervals for the **expected** value of a customer with that history (parameter
uncertainty). They are not the spread of the customer's actual future purchases, which is much
wider; see ``docs/explanation/uncertainty.md``.

[`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws] holds the draws once and gives
intervals for every quantity from them, in row blocks so memory stays bounded by
``draws × block`` whatever the number of customers. Predictions of $(x, t_x, T)$ alone are
evaluated on the summary's distinct rows; for the BG/NBD and the MBG/NBD, $P(\text{alive})$ and
expected purchases are evaluated for all draws at once (see ``docs/explanation/uncertainty.md``,
"How the intervals are computed").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Self, cast

import attrs
import numpy as np

from relmark._estimator import fitted_attribute
from relmark._validation import check_probability, cmp
from relmark.clv._base import ParametricModel, RepeatBuyingModel
from relmark.clv._checks import check_clv_periods
from relmark.clv._draws import DropoutOddsStack, percentiles
from relmark.clv.gamma_gamma import GammaGamma
from relmark.clv.value import customer_lifetime_value, discount_schedule, lifetime_value_of
from relmark.core import gamma_gamma as spend_kernels
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = ["ParameterDraws", "PredictionInterval"]

Method = Literal["parametric", "bootstrap"]

_CLV_OWNER = "customer_lifetime_value"

_BLOCK_ELEMENTS = 1 << 23
"""Draws × rows evaluated at once: bounds the temporary of one block (64 MiB of float64)."""


@attrs.frozen(kw_only=True)
class PredictionInterval:
    """A prediction per customer with the lower and upper ends of its interval.

    Attributes:
        estimate: The prediction at the estimated parameters.
        lower: The ``(1 - level) / 2`` percentile of the prediction over the parameter draws.
        upper: The ``(1 + level) / 2`` percentile.
        level: Nominal coverage, in $(0, 1)$.
        method: ``"parametric"`` or ``"bootstrap"``.
        draws: Number of parameter draws the percentiles come from.
    """

    estimate: FloatArray = attrs.field(eq=cmp)
    lower: FloatArray = attrs.field(eq=cmp)
    upper: FloatArray = attrs.field(eq=cmp)
    level: float
    method: Method
    draws: int

    def __len__(self) -> int:
        """Number of customers (or rows)."""
        return int(self.estimate.size)

    def columns(self, name: str) -> dict[str, FloatArray]:
        """The three columns named ``name``, ``name_lower`` and ``name_upper``.

        Examples:
            >>> iv = PredictionInterval(
            ...     estimate=np.array([1.0]),
            ...     lower=np.array([0.5]),
            ...     upper=np.array([2.0]),
            ...     level=0.9,
            ...     method="parametric",
            ...     draws=100,
            ... )
            >>> sorted(iv.columns("clv"))
            ['clv', 'clv_lower', 'clv_upper']
        """
        return {name: self.estimate, f"{name}_lower": self.lower, f"{name}_upper": self.upper}

    def to_frame(self, name: str = "value", backend: str | None = None) -> Any:
        """The three columns as a data frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``).

        Args:
            name: Name of the estimate column (the bounds get ``_lower`` and ``_upper``).
            backend: The frame library; by default the first of them that is installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame(self.columns(name), frame_backend(backend))

    def _repr_html_(self) -> str:
        """The first and last rows as an HTML table (Jupyter)."""
        from relmark._display import html_table

        return html_table(
            self.columns("estimate"),
            title=f"{100 * self.level:g}% {self.method} intervals over {self.draws} draws",
        )


def _check_draws(draws: object) -> int:
    if (
        isinstance(draws, bool)
        or not isinstance(draws, int | np.integer)
        or not 2 <= draws <= 100_000
    ):
        raise InvalidInputError(
            f"The 'draws' argument must be a whole number in [2, 100000]. Got {draws!r}."
        )
    return int(draws)


def _check_model(model: object, name: str, expected: type[Any]) -> Any:
    if not isinstance(model, expected):
        raise InvalidInputError(
            f"The {name!r} argument must be a fitted {expected.__name__}. "
            f"Got {type(model).__name__}."
        )
    fitted_attribute(model, "params_", argument=name, owner="ParameterDraws")
    return model


def _check_some(model: object, spend_model: object) -> None:
    if model is None and spend_model is None:
        raise InvalidInputError(
            "ParameterDraws needs a fitted transaction model, a fitted spend model, or both."
        )


def _log_normal_draws(
    model: ParametricModel, draws: int, rng: np.random.Generator, name: str
) -> FloatArray:
    """Parameter vectors whose logs are drawn from N(log θ̂, Σ_log)."""
    estimate = model._params_array()  # noqa: SLF001 - same package
    cov = np.asarray(model.log_covariance_, dtype=np.float64)
    if model.fit_ is None or not np.all(np.isfinite(cov)):
        raise InvalidInputError(
            f"The {name!r} model has no finite covariance (it was built from known parameters, "
            "or its fit is singular), so parametric intervals are undefined; fit it on data, or "
            "use method='bootstrap' with the summary it was fitted on."
        )
    # A covariance that is positive semi-definite only up to rounding still has a square root.
    values, vectors = np.linalg.eigh((cov + cov.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    z = rng.standard_normal((draws, estimate.size))
    return np.asarray(np.exp(np.log(estimate) + z @ root.T), dtype=np.float64)


def _refit(model: RepeatBuyingModel | GammaGamma, data: Any) -> FloatArray:
    fresh = type(model)(penalizer=model.penalizer)
    fresh.fit(data)
    return fresh._params_array()  # noqa: SLF001 - same package


@attrs.frozen(kw_only=True)
class ParameterDraws:
    """Parameter vectors drawn once, from which intervals for every prediction are computed.

    Build one with [`parametric`][relmark.clv.uncertainty.ParameterDraws.parametric] or
    [`bootstrap`][relmark.clv.uncertainty.ParameterDraws.bootstrap], then ask it for
    intervals; each interval evaluates the prediction once per draw, on the summary's distinct
    rows where the prediction depends only on $(x, t_x, T)$.

    Attributes:
        model: The fitted transaction model (BG/NBD, MBG/NBD or Pareto/NBD), or ``None`` for
            spend intervals only.
        spend_model: The fitted spend model, or ``None``.
        method: ``"parametric"`` or ``"bootstrap"``.
        transaction_draws: One parameter vector of ``model`` per row, in its parameter order,
            or ``None``.
        spend_draws: One parameter vector of ``spend_model`` per row, or ``None``.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> from relmark.datasets import load_cdnow
        >>> summary = load_cdnow().summarize("1997-09-30")
        >>> model = BGNBD().fit(summary)
        >>> draws = ParameterDraws.parametric(model, draws=100, seed=1)
        >>> iv = draws.probability_alive(summary, level=0.9)
        >>> bool(((iv.lower <= iv.estimate) & (iv.estimate <= iv.upper)).all())
        True
    """

    model: RepeatBuyingModel | None
    spend_model: GammaGamma | None
    method: Method
    transaction_draws: FloatArray | None = attrs.field(eq=cmp)
    spend_draws: FloatArray | None = attrs.field(eq=cmp)

    @classmethod
    def create(
        cls,
        model: RepeatBuyingModel | None,
        summary: CustomerSummary,
        spend_model: GammaGamma | None = None,
        *,
        method: Method = "parametric",
        draws: int = 200,
        seed: int | np.random.Generator | None = None,
    ) -> Self:
        """Parametric or bootstrap draws, chosen by name.

        See [`parametric`][relmark.clv.uncertainty.ParameterDraws.parametric] and
        [`bootstrap`][relmark.clv.uncertainty.ParameterDraws.bootstrap].

        Raises:
            InvalidInputError: For a ``method`` other than ``"parametric"`` or ``"bootstrap"``.
        """
        if method == "parametric":
            return cls.parametric(model, spend_model, draws=draws, seed=seed)
        if method == "bootstrap":
            return cls.bootstrap(model, summary, spend_model, draws=draws, seed=seed)
        raise InvalidInputError(
            f"The 'method' argument must be 'parametric' or 'bootstrap'. Got {method!r}."
        )

    @classmethod
    def parametric(
        cls,
        model: RepeatBuyingModel | None,
        spend_model: GammaGamma | None = None,
        *,
        draws: int = 200,
        seed: int | np.random.Generator | None = None,
    ) -> Self:
        r"""Draw parameters from the asymptotic normal distribution of the log-parameters.

        Args:
            model: A transaction model fitted on data (it needs ``log_covariance_``).
            spend_model: A spend model fitted on data, for spend and CLV intervals.
            draws: Number of parameter vectors, $B$.
            seed: Seed or generator; the same seed gives the same draws.

        Returns:
            The draws.

        Raises:
            InvalidInputError: For an unfitted model, one without finite covariance, or bad
                ``draws``.
        """
        n = _check_draws(draws)
        _check_some(model, spend_model)
        rng = np.random.default_rng(seed)
        transaction = None
        if model is not None:
            model = _check_model(model, "model", RepeatBuyingModel)
            transaction = _log_normal_draws(model, n, rng, "model")
        spend = None
        if spend_model is not None:
            spend_model = _check_model(spend_model, "spend_model", GammaGamma)
            spend = _log_normal_draws(spend_model, n, rng, "spend_model")
        return cls(
            model=model,
            spend_model=spend_model,
            method="parametric",
            transaction_draws=transaction,
            spend_draws=spend,
        )

    @classmethod
    def bootstrap(
        cls,
        model: RepeatBuyingModel | None,
        summary: CustomerSummary,
        spend_model: GammaGamma | None = None,
        *,
        draws: int = 200,
        seed: int | np.random.Generator | None = None,
    ) -> Self:
        r"""Resample customers with replacement and refit, ``draws`` times.

        A resample of $N$ customers gives each customer a multinomial count $c_i$; the transaction
        model is refitted on its distinct $(x, t_x, T)$ rows re-weighted by the summed counts (an
        exact weighted fit, so a refit costs one fit on the distinct rows), and the spend model on
        the same counts. A customer's own weight (``summary.weights``) multiplies its count.

        Args:
            model: The fitted transaction model; refits use its ``penalizer``.
            summary: The customers the models were fitted on.
            spend_model: The fitted spend model, refitted on the same resamples.
            draws: Number of resamples, $B$.
            seed: Seed or generator; the same seed gives the same resamples and refits.

        Returns:
            The draws.

        Raises:
            InvalidInputError: For an unfitted model, a summary that is not a
                ``CustomerSummary`` or is empty, or bad ``draws``.
            ConvergenceError: When a refit fails (a resample can be degenerate on tiny data).
        """
        n = _check_draws(draws)
        _check_some(model, spend_model)
        if model is not None:
            model = _check_model(model, "model", RepeatBuyingModel)
        if spend_model is not None:
            spend_model = _check_model(spend_model, "spend_model", GammaGamma)
        if not isinstance(summary, CustomerSummary) or len(summary) == 0:  # type: ignore[redundant-expr]
            raise InvalidInputError(
                "The 'summary' argument must be the non-empty CustomerSummary the models were "
                f"fitted on. Got {type(summary).__name__}."
            )
        rng = np.random.default_rng(seed)
        rows = summary.compress()
        own = summary.row_weights
        customers = len(summary)
        transaction = None if model is None else np.empty((n, len(model.parameter_names())))
        spend = None if spend_model is None else np.empty((n, 3), dtype=np.float64)
        uniform = np.full(customers, 1.0 / customers)
        for b in range(n):
            counts = rng.multinomial(customers, uniform).astype(np.float64) * own
            if transaction is not None and model is not None:
                weights = np.bincount(rows.inverse, weights=counts, minlength=len(rows))
                kept = weights > 0
                resampled = CompressedSummary(
                    frequency=rows.frequency[kept],
                    recency=rows.recency[kept],
                    T=rows.T[kept],
                    weights=weights[kept].astype(np.float64),
                    inverse=np.zeros(0, dtype=np.int64),
                    unit=rows.unit,
                )
                transaction[b] = _refit(model, resampled)
            if spend is not None and spend_model is not None:
                spend[b] = _refit(spend_model, attrs.evolve(summary, weights=counts))
        return cls(
            model=model,
            spend_model=spend_model,
            method="bootstrap",
            transaction_draws=transaction,
            spend_draws=spend,
        )

    @property
    def draws(self) -> int:
        """Number of parameter draws, $B$."""
        present = self.transaction_draws if self.transaction_draws is not None else self.spend_draws
        return 0 if present is None else int(present.shape[0])

    def _fitted_transaction(self) -> tuple[RepeatBuyingModel, FloatArray]:
        if self.model is None or self.transaction_draws is None:
            raise InvalidInputError(
                "Purchase, P(alive) and CLV intervals need a transaction model: build the draws "
                "with model=BGNBD().fit(summary) (or another transaction model)."
            )
        return self.model, self.transaction_draws

    def _transaction_model(self, index: int) -> RepeatBuyingModel:
        model, draws = self._fitted_transaction()
        values = dict(zip(model.parameter_names(), draws[index].tolist(), strict=True))
        return type(model).from_params(**values, unit=model.unit_)  # type: ignore[attr-defined, no-any-return]

    def _fitted_spend(self) -> tuple[GammaGamma, FloatArray]:
        if self.spend_draws is None or self.spend_model is None:
            raise InvalidInputError(
                "Spend and CLV intervals need a spend model: build the draws with "
                "spend_model=GammaGamma().fit(summary)."
            )
        return self.spend_model, self.spend_draws

    def _spend_model(self, index: int) -> GammaGamma:
        p, q, gamma = self._fitted_spend()[1][index].tolist()
        return GammaGamma.from_params(p=p, q=q, gamma=gamma)

    def _on_rows(
        self,
        summary: CustomerSummary,
        predict: Callable[[RepeatBuyingModel, CompressedSummary], FloatArray],
        level: float,
        stacked: Callable[[DropoutOddsStack], tuple[FloatArray, FloatArray]] | None = None,
    ) -> PredictionInterval:
        """Percentiles over draws of a prediction that depends on (x, t_x, T) only.

        ``stacked`` computes them for all draws at once where the model allows it (BG/NBD,
        MBG/NBD); otherwise the prediction runs once per draw and block of distinct rows.
        """
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(
                f"The 'summary' argument must be a CustomerSummary. Got {type(summary).__name__}."
            )
        model, draws = self._fitted_transaction()
        rows = summary.compress()
        estimate = predict(model, rows)
        stack = (
            None
            if stacked is None
            else DropoutOddsStack.for_model(
                model,
                draws,
                *model._columns(rows),  # noqa: SLF001 - same package: rows in the model's unit
                _BLOCK_ELEMENTS,
            )
        )
        if stack is not None and stacked is not None:
            lower, upper = stacked(stack)
        else:
            models = [self._transaction_model(b) for b in range(self.draws)]
            lower, upper = percentiles(
                len(rows),
                self.draws,
                level,
                lambda block: _block_of(rows, block),
                lambda b, part: predict(models[b], part),  # type: ignore[arg-type]
                _BLOCK_ELEMENTS,
            )
        inverse = rows.inverse
        return PredictionInterval(
            estimate=estimate[inverse],
            lower=lower[inverse],
            upper=upper[inverse],
            level=level,
            method=self.method,
            draws=self.draws,
        )

    def expected_purchases(
        self, t: float, summary: CustomerSummary, *, level: float = 0.9
    ) -> PredictionInterval:
        """Interval for each customer's expected purchases in the next ``t`` (model's unit).

        Args:
            t: A horizon, in the model's unit.
            summary: The customers.
            level: Nominal coverage.

        Returns:
            One interval per customer.
        """
        coverage = check_probability(level, name="level", role="argument")
        stacked = None
        if np.ndim(t) == 0:  # one horizon for all; the estimate's call checks its value

            def stacked(stack: DropoutOddsStack) -> tuple[FloatArray, FloatArray]:
                return stack.expected_purchases(float(t), coverage)

        return self._on_rows(
            summary, lambda m, rows: m.expected_purchases(t, rows), coverage, stacked
        )

    def probability_alive(
        self, summary: CustomerSummary, *, level: float = 0.9
    ) -> PredictionInterval:
        """Interval for each customer's probability of being alive at the end of observation."""
        coverage = check_probability(level, name="level", role="argument")
        return self._on_rows(
            summary,
            lambda m, rows: m.probability_alive(rows),
            coverage,
            lambda stack: stack.probability_alive(coverage),
        )

    def _per_customer(
        self,
        summary: CustomerSummary,
        predict: Callable[[RepeatBuyingModel | None, GammaGamma, CustomerSummary], FloatArray],
        level: float,
        *,
        needs_transactions: bool,
    ) -> PredictionInterval:
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(
                f"The 'summary' argument must be a CustomerSummary. Got {type(summary).__name__}."
            )
        spend_model, _ = self._fitted_spend()
        if needs_transactions:
            self._fitted_transaction()

        models = [
            self._transaction_model(b) if needs_transactions else None for b in range(self.draws)
        ]
        spend_models = [self._spend_model(b) for b in range(self.draws)]
        estimate = predict(self.model, spend_model, summary)
        lower, upper = percentiles(
            len(summary),
            self.draws,
            level,
            lambda block: _block_of(summary, block),
            lambda b, part: predict(models[b], spend_models[b], part),  # type: ignore[arg-type]
            _BLOCK_ELEMENTS,
        )
        return PredictionInterval(
            estimate=estimate,
            lower=lower,
            upper=upper,
            level=level,
            method=self.method,
            draws=self.draws,
        )

    def expected_spend(self, summary: CustomerSummary, *, level: float = 0.9) -> PredictionInterval:
        """Interval for each customer's expected average spend per purchase (Gamma-Gamma)."""
        coverage = check_probability(level, name="level", role="argument")
        return self._per_customer(
            summary, lambda _m, g, s: g.expected_spend(s), coverage, needs_transactions=False
        )

    def customer_lifetime_value(
        self,
        summary: CustomerSummary,
        *,
        horizon: int,
        unit: str | TimeUnit,
        discount_rate: float,
        margin: float = 1.0,
        level: float = 0.9,
    ) -> PredictionInterval:
        """Interval for each customer's CLV (arguments as in ``customer_lifetime_value``)."""
        coverage = check_probability(level, name="level", role="argument")
        fast = self._stacked_lifetime_value(
            summary,
            horizon=horizon,
            unit=unit,
            discount_rate=discount_rate,
            margin=margin,
            level=coverage,
        )
        if fast is not None:
            return fast

        def clv(m: RepeatBuyingModel | None, g: GammaGamma, s: CustomerSummary) -> FloatArray:
            return customer_lifetime_value(
                m,  # type: ignore[arg-type]  # present: needs_transactions below
                g,
                s,
                horizon=horizon,
                unit=unit,
                discount_rate=discount_rate,
                margin=margin,
            )

        return self._per_customer(summary, clv, coverage, needs_transactions=True)

    def _stacked_lifetime_value(
        self,
        summary: CustomerSummary,
        *,
        horizon: int,
        unit: str | TimeUnit,
        discount_rate: float,
        margin: float,
        level: float,
    ) -> PredictionInterval | None:
        r"""CLV intervals with all draws at once (BG/NBD or MBG/NBD with a Gamma-Gamma), else ``None``.

        The estimate comes from ``customer_lifetime_value`` (which validates every argument);
        the draws' values are margin × spend × discounted purchases
        ([`lifetime_value_of`][relmark.clv.value.lifetime_value_of]), the discounted purchases
        from the stacked kernels over the period ends and weights of
        [`discount_schedule`][relmark.clv.value.discount_schedule], and the spend from the
        Gamma-Gamma kernel (F&H 2013 eq. 5) with one column per draw.
        """
        if (
            self.model is None
            or self.transaction_draws is None
            or self.spend_model is None
            or self.spend_draws is None
            or type(self.spend_model) is not GammaGamma
            or not isinstance(summary, CustomerSummary)
        ):
            return None
        model, spend_model = self.model, self.spend_model
        rows = summary.compress()
        stack = DropoutOddsStack.for_model(
            model,
            self.transaction_draws,
            *model._columns(rows),  # noqa: SLF001 - same package: rows in the model's unit
            _BLOCK_ELEMENTS,
        )
        if stack is None:
            return None
        estimate = customer_lifetime_value(
            model,
            spend_model,
            summary,
            horizon=horizon,
            unit=unit,
            discount_rate=discount_rate,
            margin=margin,
        )
        period = parse_unit(unit)
        horizons, weights = discount_schedule(
            model.unit_,
            periods=check_clv_periods(horizon, period, owner=_CLV_OWNER, role="argument"),
            period=period,
            rate=float(discount_rate),
        )
        frequency = summary.frequency.astype(np.float64)
        monetary = summary.monetary
        if monetary is None:  # pragma: no cover - the estimate's spend model has checked it
            raise InvalidInputError("CLV intervals need the summary's 'monetary' column.")
        p, q, gamma = (np.ascontiguousarray(column) for column in self.spend_draws.T)

        def combine(customers: IntArray, discounted: FloatArray) -> FloatArray:
            # The kernel is elementwise in its parameters (annotated as floats): one column per
            # draw, as each draw's GammaGamma would compute it.
            spend = spend_kernels.conditional_expected_spend(
                frequency[customers][:, np.newaxis],
                monetary[customers][:, np.newaxis],
                cast("float", p),
                cast("float", q),
                cast("float", gamma),
            )
            return lifetime_value_of(discounted, spend, float(margin))

        lower, upper = stack.discounted_purchases(horizons, weights, rows.inverse, combine, level)
        return PredictionInterval(
            estimate=estimate,
            lower=lower,
            upper=upper,
            level=level,
            method=self.method,
            draws=self.draws,
        )


def _block_of(
    source: CompressedSummary | CustomerSummary, block: slice
) -> CompressedSummary | CustomerSummary:
    """Rows ``block`` of a compressed summary, or customers ``block`` of a summary."""
    if isinstance(source, CustomerSummary):
        if block.start == 0 and block.stop == len(source):
            return source
        return source.take(np.arange(block.start, block.stop))
    return CompressedSummary(
        frequency=source.frequency[block],
        recency=source.recency[block],
        T=source.T[block],
        weights=source.weights[block],
        inverse=np.arange(block.stop - block.start, dtype=np.int64),
        unit=source.unit,
    )
