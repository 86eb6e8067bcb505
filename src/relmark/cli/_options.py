"""Choices of ``relmark score`` that its ``--help`` shows: plain data, cheap to import.

The parser is built on every ``relmark`` call, ``--help`` included, so what it needs lives
here, apart from the modules that import numpy and the models.
"""

from __future__ import annotations

__all__ = ["COLUMN_CANDIDATES", "MODELS"]

MODELS: dict[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}
"""``--model`` choices and their display names: a plain-data copy of
[`relmark.clv.registry`][relmark.clv.registry] (registry ``name`` → ``literature_name``), because
``relmark --help`` must not import numpy or the models. ``tests/clv/test_registry.py`` fails when
it differs from the registry."""

COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer_id",
        "customerid",
        "customer",
        "cust_id",
        "client_id",
        "user_id",
        "account_id",
        "id",
    ),
    "time": (
        "date",
        "order_date",
        "transaction_date",
        "purchase_date",
        "invoice_date",
        "invoicedate",
        "datetime",
        "timestamp",
        "time",
    ),
    "amount": (
        "amount",
        "value",
        "revenue",
        "dollar_value",
        "sales",
        "spend",
        "total",
        "price",
        "monetary",
    ),
}
"""Header names tried, in order, for each role when its option is omitted (case-insensitive;
spaces and hyphens count as underscores)."""
