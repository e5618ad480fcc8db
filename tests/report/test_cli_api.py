"""``cyberpeace report`` and ``/api/v1/reports``: success, not found, forbidden, bad input.

The HTML paths only; printing to PDF is tested, sparingly, in ``test_pdf.py``.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cyberpeace.cli import app as cli
from tests.api.conftest import API, TestClient, bearer
from tests.report.cases import AMBER_NOTE, RED_NOTE, Case

runner = CliRunner()
REPORTS = f"{API}/reports"
DAY = "since=2026-11-24&until=2026-11-25"


def test_api_serves_reports_for_the_tokens_reader(client: TestClient, case: Case) -> None:
    staff, arcadia = bearer(case.staff_token), bearer(case.arcadia_token)
    own = client.get(f"{REPORTS}/incidents/{case.amber}", headers=arcadia)
    assert own.status_code == 200, own.text
    assert own.headers["content-type"].startswith("text/html")
    assert own.headers["x-tlp"] == "TLP:AMBER"
    assert own.headers["cache-control"] == "no-store"
    assert f"Verification report: incident {case.amber}" in own.text
    assert AMBER_NOTE in own.text
    assert RED_NOTE not in own.text, "a party reads up to TLP:AMBER+STRICT"
    full = client.get(f"{REPORTS}/incidents/{case.amber}", headers=staff)
    assert RED_NOTE in full.text
    assert full.headers["x-tlp"] == "TLP:RED"
    green = client.get(f"{REPORTS}/situation?{DAY}&tlp=green", headers=staff)
    assert green.status_code == 200
    assert green.headers["x-tlp"] == "TLP:GREEN"
    assert case.green_title in green.text
    assert case.amber_title not in green.text


def test_api_refuses_with_the_reason(client: TestClient, case: Case) -> None:
    staff, arcadia = bearer(case.staff_token), bearer(case.arcadia_token)
    borduria = bearer(case.borduria_token)
    cases = [
        (f"/incidents/{case.amber}", {}, 401, "missing bearer token"),
        (f"/incidents/{case.red}", arcadia, 403, "not shared with you"),
        (f"/incidents/{case.red}", borduria, 403, "marked TLP:RED, above the reader's"),
        (f"/incidents/{case.amber}?tlp=green", staff, 403, "above the reader's TLP:GREEN"),
        (f"/incidents/{case.amber}?tlp=red", arcadia, 403, "cleared up to TLP:AMBER+STRICT"),
        ("/incidents/999999", staff, 404, "no incident 999999"),
        (f"/incidents/{case.amber}?tlp=purple", staff, 422, "unknown TLP level 'purple'"),
        (f"/incidents/{case.amber}?format=docx", staff, 422, "html"),
        ("/incidents/0", staff, 422, "greater than or equal to 1"),
        ("/situation?since=yesterday&until=2026-11-25", staff, 422, "not an ISO 8601"),
        ("/situation?since=2026-11-25&until=2026-11-24", staff, 422, "must be after since"),
        ("/situation?since=2026-11-24", staff, 422, "until"),
        ("/situation?since=2000-01-01&until=2026-01-01", staff, 422, "at most 366 days"),
    ]
    for path, headers, code, message in cases:
        response = client.get(REPORTS + path, headers=headers)
        assert response.status_code == code, (path, response.text)
        assert message in response.text, (path, response.text)


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["report", *args])
    return result.exit_code, result.output


def test_cli_writes_reports_and_refuses_bad_input(cli_case: Case, tmp_path: Path) -> None:
    out = tmp_path / "incident.html"
    code, output = _invoke("incident", str(cli_case.amber), "--out", str(out), "--tlp", "amber")
    assert code == 0, output
    assert f"wrote {out} (HTML" in output
    assert "TLP:AMBER" in output
    html = out.read_text("utf-8")
    assert AMBER_NOTE in html
    assert RED_NOTE not in html
    assert all(h in html for h in cli_case.hashes)
    situation = tmp_path / "week.html"
    code, output = _invoke(
        "situation",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-27",
        "--out",
        str(situation),
        "--party",
        "arcadia",
    )
    assert code == 0, output
    assert cli_case.green_title in situation.read_text("utf-8")
    assert "Wiper on the Borduria grid" not in situation.read_text("utf-8")
    refused = [
        (["incident", "999999", "--out", str(tmp_path / "a.pdf")], 1, "no incident 999999"),
        (["incident", str(cli_case.amber), "--out", str(tmp_path / "a.docx")], 2, ".pdf or .html"),
        (["incident", "1", "--out", str(tmp_path / "no" / "a.html")], 2, "no directory"),
        (["incident", "1", "--out", str(tmp_path / "a.html"), "--tlp", "mauve"], 2, "unknown TLP"),
        (
            ["incident", "1", "--out", str(tmp_path / "a.html"), "--party", "atlantis"],
            1,
            "no party 'atlantis'",
        ),
        (
            ["incident", str(cli_case.amber), "--out", str(tmp_path / "a.html"), "--tlp", "green"],
            1,
            "above the reader's TLP:GREEN",
        ),
        (
            [
                "situation",
                "--since",
                "2026-11-24",
                "--until",
                "soon",
                "--out",
                str(tmp_path / "a.html"),
            ],
            2,
            "until: 'soon' is not an ISO 8601",
        ),
    ]
    for args, expected, message in refused:
        code, output = _invoke(*args)
        assert code == expected, (args, output)
        assert message in output, (args, output)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "incident.html",
        "week.html",
    ], "a refused report leaves no file behind"
