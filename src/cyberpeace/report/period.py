"""The period a situation report covers: [since, until) in UTC, read from ISO 8601 text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cyberpeace.report.policy import policy
from cyberpeace.report.reader import ReportError


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


def parse_moment(text: str, name: str) -> datetime:
    """'2026-11-24', '2026-11-24T10:00' or '2026-11-24T10:00:00+02:00'; no zone means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(
            f"{name}: {text!r} is not an ISO 8601 date or time (e.g. 2026-11-24 or "
            "2026-11-24T10:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period_of(since: datetime, until: datetime) -> Period:
    """A checked period: zone-aware, ``until`` after ``since``, no longer than the policy allows."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ReportError("since and until need a time zone (or be read with parse_moment)")
    if until <= since:
        raise ReportError(f"until ({until.isoformat()}) must be after since ({since.isoformat()})")
    longest = timedelta(days=policy().limits.max_period_days)
    if until - since > longest:
        raise ReportError(f"a situation report covers at most {longest.days} days")
    return Period(since.astimezone(UTC), until.astimezone(UTC))


def parse_period(since: str, until: str) -> Period:
    return period_of(parse_moment(since, "since"), parse_moment(until, "until"))
