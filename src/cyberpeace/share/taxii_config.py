"""The TAXII 2.1 server's fixed settings, read from ``data/taxii.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class TaxiiConfig:
    media_type: str
    stix_media_type: str
    api_root: str
    title: str
    description: str
    default_page: int
    max_page: int
    max_content_length: int
    open_levels: tuple[str, ...]


@cache
def taxii_config() -> TaxiiConfig:
    text = resources.files("cyberpeace.share").joinpath("data/taxii.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    raw["open_levels"] = tuple(raw["open_levels"])
    return TaxiiConfig(**raw)
