"""`relmark program plan|report`: one cycle on files, and its error paths."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import numpy as np
import pytest

from relmark.cli import main
from relmark.program import load_state, simulate_responses


def _scores(path: Path, n: int = 400) -> None:
    rng = np.random.default_rng(5)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(("customer_id", "clv", "clv_tier", "probability_alive", "segment"))
        for i in range(n):
            out.writerow(
                (
                    f"c{i:04d}",
                    repr(float(rng.gamma(2, 80))),
                    ["low", "medium", "high"][i % 3],
                    repr(float(rng.uniform())),
                    ["Champions", "At Risk"][i % 2],
                )
            )


def _run(args: list[str]) -> tuple[int, str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(args)
    return status, buffer.getvalue()


def test_plan_then_report_on_files(tmp_path: Path) -> None:
    """plan writes a contact list and a campaign; report prints effects and learns them."""
    scores, contacts, state = (
        tmp_path / "scores.csv",
        tmp_path / "contacts.csv",
        tmp_path / "p.json",
    )
    _scores(scores)
    status, out = _run(
        [
            "program", "plan", str(scores), "--state", str(state), "-o", str(contacts),
            "--budget", "60", "--campaign-id", "spring", "--start", "2024-03-01T09:00+01:00",
            "--control-share", "0.3",
        ]
    )  # fmt: skip
    assert status == 0, out
    assert "Planned" in out
    with contacts.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert {r["arm"] for r in rows} == {"treatment", "control"}
    saved = load_state(state)
    campaign = saved.campaign("spring")
    assert len(campaign.contacts) == len(rows)
    log = simulate_responses(
        campaign,
        control_rate={"Champions": 0.2, "At Risk": 0.05},
        uplift={("At Risk", a.name): 0.1 for a in campaign.actions},
        seed=1,
    )
    transactions = tmp_path / "tx.csv"
    with transactions.open("w", newline="", encoding="utf-8") as handle:
        out_csv = csv.writer(handle)
        out_csv.writerow(("customer_id", "date", "amount"))
        for c, t, a in zip(log.customer_id, log.time, log.amount, strict=True):
            out_csv.writerow((c, str(t), repr(float(a))))
    effects = tmp_path / "effects.csv"
    status, out = _run(
        [
            "program", "report", str(state), str(transactions), "--campaign-id", "spring",
            "--timezone", "UTC", "--plain", "-o", str(effects),
        ]
    )  # fmt: skip
    assert status == 0, out
    assert "incremental response" in out
    assert effects.exists()
    after = load_state(state)
    assert [r.campaign_id for r in after.reports] == ["spring"]
    assert after.beliefs.evidence


def test_plan_refuses_to_write_over_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output path equal to the scores file is a usage error (exit 2); nothing is written."""
    scores = tmp_path / "scores.csv"
    _scores(scores, 10)
    before = scores.read_bytes()
    status = main(
        [
            "program", "plan", str(scores), "--state", str(tmp_path / "p.json"), "-o", str(scores),
            "--budget", "5", "--campaign-id", "x", "--start", "2024-03-01T09:00+00:00",
        ]
    )  # fmt: skip
    assert status == 2
    assert "never writes over its input" in capsys.readouterr().err
    assert scores.read_bytes() == before
    assert not (tmp_path / "p.json").exists()


def test_plan_requires_an_offset_in_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A start time without offset is refused with the expected form in the message."""
    scores = tmp_path / "scores.csv"
    _scores(scores, 10)
    status = main(
        [
            "program", "plan", str(scores), "--state", str(tmp_path / "p.json"),
            "-o", str(tmp_path / "c.csv"), "--budget", "5", "--campaign-id", "x",
            "--start", "2024-03-01",
        ]
    )  # fmt: skip
    assert status == 2
    assert "--start must be an ISO 8601 time with an offset" in capsys.readouterr().err


def test_report_names_an_unknown_campaign(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reporting on a campaign the state lacks lists the campaigns there are."""
    scores, state = tmp_path / "scores.csv", tmp_path / "p.json"
    _scores(scores, 20)
    assert (
        main(
            [
                "program", "plan", str(scores), "--state", str(state), "-o",
                str(tmp_path / "c.csv"), "--budget", "5", "--campaign-id", "a",
                "--start", "2024-03-01T00:00+00:00",
            ]
        )
        == 0
    )  # fmt: skip
    tx = tmp_path / "tx.csv"
    tx.write_text("customer_id,date,amount\nc0000,2024-03-02,1.0\n", encoding="utf-8")
    status = main(["program", "report", str(state), str(tx), "--campaign-id", "b"])
    assert status == 2
    assert "No campaign 'b'" in capsys.readouterr().err
