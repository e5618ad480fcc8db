"""Content negotiation for TAXII 2.1 (section 1.6.8): Accept and Content-Type headers."""

from __future__ import annotations

from cyberpeace.share.taxii_errors import TaxiiError

TAXII_TYPE = "application/taxii+json"
_WILDCARDS = ("*/*", "application/*")


def _parse(item: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in item.split(";"))
    values: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        values[name.strip().lower()] = value.strip().strip('"')
    return kind.lower(), values


def _taxii_21(kind: str, params: dict[str, str]) -> bool:
    return kind == TAXII_TYPE and params.get("version", "2.1") == "2.1"


def check_accept(header: str | None) -> None:
    """406 unless the client accepts TAXII 2.1 JSON; no Accept header accepts anything."""
    if header is None or not header.strip():
        return
    for item in header.split(","):
        kind, params = _parse(item)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in _WILDCARDS or _taxii_21(kind, params):
            return
    raise TaxiiError(
        406,
        f"this server answers only in {TAXII_TYPE};version=2.1, which Accept: {header!r} "
        "does not allow",
        error_code="not-acceptable",
    )


def check_content_type(header: str | None) -> None:
    """415 unless a request body is declared as TAXII 2.1 JSON (section 5.4)."""
    kind, params = _parse(header or "")
    if not _taxii_21(kind, params):
        raise TaxiiError(
            415,
            f"a TAXII 2.1 request body must be {TAXII_TYPE};version=2.1, not {header!r}",
            error_code="unsupported-media-type",
        )
