"""`relmark demo`: the CDNOW main job end to end, its sections, and --output."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import importlib.util
import io
import json
import sys
import time
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from relmark.cli import main
from relmark.datasets import load_cdnow
from relmark.domain import Touchpoint
from relmark.io import from_json

CDNOW_CUSTOMERS = 23_570


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, float]:
    """The whole demo, plain, with --output: (stdout, output directory, seconds)."""
    out_dir = tmp_path_factory.mktemp("demo") / "report"
    buffer = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        status = main(["demo", "--plain", "--output", str(out_dir)])
    elapsed = time.perf_counter() - start
    assert status == 0
    return buffer.getvalue(), out_dir, elapsed


@pytest.mark.slow
def test_full_demo_runs_well_under_a_minute(full_demo: tuple[str, Path, float]) -> None:
    """The full demo, with plots and report, finishes in under 60 s and prints every section."""
    out, _, elapsed = full_demo
    assert elapsed < 60
    for heading in (
        "1. CDNOW",
        "2. Customer-base models",
        "3. Holdout accuracy",
        "4. Spend and customer lifetime value",
        "5. RFM segments",
        "6. Commitment-trust",
        "7. A staged customer profile",
        "8. The relationship program loop",
        "9. Records and JSON",
    ):
        assert heading in out, heading
    assert "9 section(s) in" in out
    for expected in ("BG/NBD", "MBG/NBD", "Pareto/NBD", "Gamma-Gamma", "P(alive)", "Champions"):
        assert expected in out, expected
    assert "Customer lifetime value over the next 12 months" in out
    assert "discounted at 0.01 per month" in out


def test_program_section_learns_and_spends_better(full_demo: tuple[str, Path, float]) -> None:
    """Cycle 2 earns more per unit spent than cycle 1, random and top-value-first lists."""
    _, out_dir, _ = full_demo
    rows = {r["contact list"]: r for r in _read_csv(out_dir / "program_cycles.csv")}
    per_unit = {name: float(r["per unit spent"]) for name, r in rows.items()}
    learned = per_unit.pop("cycle 2 (learned)")
    best = next(v for k, v in per_unit.items() if k.startswith("best possible"))
    assert all(learned > v for k, v in per_unit.items() if not k.startswith("best possible"))
    assert learned <= best
    uplift = _read_csv(out_dir / "program_uplift.csv")
    assert len(uplift) >= 4
    for row in uplift:
        assert float(row["low"]) <= float(row["estimate"]) <= float(row["high"])


def test_holdout_table_matches_the_raw_transactions(full_demo: tuple[str, Path, float]) -> None:
    """Actual holdout purchases by calibration frequency agree with a count from the raw log."""
    _, out_dir, _ = full_demo
    log = load_cdnow()
    day = log.time.astype("datetime64[D]")
    ids = log.customer_id
    # Distinct purchase days per customer, split at 1997-09-30 (independent of relmark.data).
    pairs = np.unique(np.stack([ids, day.astype(np.int64)]), axis=1)
    cut = np.datetime64("1997-09-30").astype(np.int64)
    calibration_days = np.bincount(pairs[0][pairs[1] <= cut], minlength=ids.max() + 1)
    holdout_days = np.bincount(pairs[0][pairs[1] > cut], minlength=ids.max() + 1)
    customers = np.unique(ids)
    repeat = np.minimum(calibration_days[customers] - 1, 7)
    holdout = holdout_days[customers]
    rows = _read_csv(out_dir / "holdout_by_frequency.csv")
    assert [r["repeat purchases"] for r in rows] == [*map(str, range(7)), "7+"]
    for k, row in enumerate(rows):
        in_group = repeat == k
        assert float(row["customers"]) == in_group.sum()
        assert float(row["actual"]) == pytest.approx(holdout[in_group].mean(), rel=1e-12)
        for model in ("BG/NBD", "MBG/NBD", "Pareto/NBD"):
            assert 0 < float(row[model]) < 10
    assert sum(float(r["customers"]) for r in rows) == CDNOW_CUSTOMERS


def test_model_comparison_csv(full_demo: tuple[str, Path, float]) -> None:
    """The comparison lists three models with AIC = 2k - 2LL and BIC = k ln N - 2LL."""
    _, out_dir, _ = full_demo
    rows = _read_csv(out_dir / "model_comparison.csv")
    assert [r["model"] for r in rows] == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    for row in rows:
        k, ll = float(row["params"]), float(row["log-lik."])
        assert float(row["AIC"]) == pytest.approx(2 * k - 2 * ll)
        assert float(row["BIC"]) == pytest.approx(k * np.log(CDNOW_CUSTOMERS) - 2 * ll)
        assert float(row["MAE"]) > 0
    params = _read_csv(out_dir / "model_parameters.csv")
    assert len(params) == 12
    assert all(float(p["lower"]) < float(p["estimate"]) < float(p["upper"]) for p in params)


def test_clv_deciles_and_top_customers(full_demo: tuple[str, Path, float]) -> None:
    """Deciles cover every customer once and shares sum to 1; the top table is sorted by CLV."""
    _, out_dir, _ = full_demo
    deciles = _read_csv(out_dir / "clv_deciles.csv")
    assert [int(d["decile"]) for d in deciles] == list(range(1, 11))
    assert sum(int(d["customers"]) for d in deciles) == CDNOW_CUSTOMERS
    assert sum(float(d["share of total"]) for d in deciles) == pytest.approx(1.0)
    means = [float(d["mean CLV"]) for d in deciles]
    assert means == sorted(means, reverse=True)
    top = _read_csv(out_dir / "top_customers.csv")
    assert len(top) == 10
    clv = [float(t["CLV"]) for t in top]
    assert clv == sorted(clv, reverse=True)
    assert clv[0] == pytest.approx(float(deciles[0]["max CLV"]))
    assert all(0 <= float(t["P(alive)"]) <= 1 for t in top)


def test_rfm_segments_cover_every_customer(full_demo: tuple[str, Path, float]) -> None:
    """Segment counts add up to the customer base; the R preset's lint reports its overlaps."""
    _, out_dir, _ = full_demo
    segments = _read_csv(out_dir / "rfm_segments.csv")
    assert sum(int(s["customers"]) for s in segments) == CDNOW_CUSTOMERS
    assert {s["segment"] for s in segments} <= {
        "Champions",
        "Loyal",
        "Potential Loyalists",
        "New Customers",
        "Promising",
        "Need Attention",
        "About To Sleep",
        "At Risk",
        "Can't Lose",
        "Hibernating",
    }
    lint = {r["check"]: r["result"] for r in _read_csv(out_dir / "rfm_package_lint.csv")}
    assert int(lint["cells claimed by several segments"]) > 0
    assert lint["is a partition"] == "no"


def test_output_writes_csv_png_and_self_contained_html(full_demo: tuple[str, Path, float]) -> None:
    """--output writes one CSV per table, PNG plots, and an HTML page embedding both."""
    _, out_dir, _ = full_demo
    names = {p.name for p in out_dir.iterdir()}
    for table in (
        "data",
        "model_parameters",
        "model_comparison",
        "repeat_purchase_histogram",
        "holdout_by_frequency",
        "scoring_parameters",
        "clv_deciles",
        "top_customers",
        "rfm_segments",
        "trust_reliability",
        "trust_fit",
        "trust_paths",
        "trust_proxies",
        "profile_stages",
    ):
        assert f"{table}.csv" in names, table
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Top 10 customers by CLV" in page
    assert "Can&#x27;t Lose" in page or "Can&#39;t Lose" in page  # escaped text
    if importlib.util.find_spec("matplotlib") is not None:
        pngs = sorted(n for n in names if n.endswith(".png"))
        assert pngs
        for png in pngs:
            assert (out_dir / png).read_bytes().startswith(b"\x89PNG")
        assert page.count('src="data:image/png;base64,') == len(pngs)
    assert 'src="http' not in page  # nothing fetched from elsewhere


def test_sections_subset_without_cdnow(capsys: pytest.CaptureFixture[str]) -> None:
    """--sections runs only the named sections, in demo order, each timed."""
    assert main(["demo", "--plain", "--sections", "records,profile"]) == 0
    out = capsys.readouterr().out
    assert out.index("7. A staged customer profile") < out.index("9. Records and JSON")
    assert "1. CDNOW" not in out
    assert "(profile:" in out
    assert "(records:" in out
    assert "2 section(s) in" in out


def test_records_section_prints_json_that_reads_back(capsys: pytest.CaptureFixture[str]) -> None:
    """The records section prints JSON that relmark.io reads back into the same touchpoint."""
    assert main(["demo", "--plain", "--sections", "records"]) == 0
    out = capsys.readouterr().out
    first, _ = json.JSONDecoder().raw_decode(out[out.index("{") :])
    touchpoint = from_json(json.dumps(first), Touchpoint)
    assert touchpoint.kind.value == "complaint"
    assert touchpoint.at.utcoffset() == dt.timedelta(hours=2)
    assert "2024-05-07T09:30:00+02:00" in out


@pytest.fixture
def no_time_zone_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Like Windows without the tzdata package: ZoneInfo finds no named zone at all."""
    monkeypatch.setitem(sys.modules, "tzdata", None)
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
            zoneinfo.ZoneInfo("Europe/Berlin")
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("no_time_zone_database")
def test_records_section_needs_no_time_zone_database(capsys: pytest.CaptureFixture[str]) -> None:
    """The records section runs without a time-zone database (Windows without tzdata)."""
    assert main(["demo", "--plain", "--sections", "records"]) == 0
    assert '"kind": "complaint"' in capsys.readouterr().out


def test_trust_section_reports_reliability_and_paths(capsys: pytest.CaptureFixture[str]) -> None:
    """The trust section shows reliability, the latent KMV SEM's fit indices and its paths."""
    assert main(["demo", "--plain", "--sections", "trust"]) == 0
    out = capsys.readouterr().out
    for expected in ("alpha 95% CI", "omega", "AVE", "trust", "commitment", "supported"):
        assert expected in out, expected
    for expected in ("CFI", "TLI", "RMSEA 90% CI", "SRMR", "latent SEM", "chi-square difference"):
        assert expected in out, expected
    # The demo survey has no mediating structure: the fit table must show the KMV misfit
    # (SRMR 0.130 in lavaan on the same answers) rather than only counting supported paths.
    assert "0.130" in out
    assert "Behavioural trust proxies" in out


def test_profile_section_walks_through_stages(capsys: pytest.CaptureFixture[str]) -> None:
    """The profile section shows the stage rising and the questions changing."""
    assert main(["demo", "--plain", "--sections", "profile"]) == 0
    out = capsys.readouterr().out
    assert "identification" in out
    assert "full_name" in out
    assert "Hibernating" in out or "RFM segment" in out


def test_rich_rendering(capsys: pytest.CaptureFixture[str]) -> None:
    """With rich, tables have box borders and bracketed headers survive (no markup eaten)."""
    pytest.importorskip("rich")
    assert main(["demo", "--sections", "trust"]) == 0
    out = capsys.readouterr().out
    assert "┃" in out
    assert "alpha 95% CI" in out
