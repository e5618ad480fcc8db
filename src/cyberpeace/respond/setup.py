"""The response path as a process runs it: enforcers from the settings, one reconcile pass."""

from __future__ import annotations

from datetime import UTC, datetime

from cyberpeace.config import Settings
from cyberpeace.respond.enforcement import Reconciled, reconcile
from cyberpeace.respond.enforcers import build_enforcers
from cyberpeace.respond.registry import Enforcer, EnforcerConfig
from cyberpeace.store import Store


def enforcer_config(settings: Settings) -> EnforcerConfig:
    return EnforcerConfig(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        nft_table=settings.nft_table,
        nft_chain=settings.nft_chain,
        nft_hook=settings.nft_hook,
        nft_netns=settings.nft_netns,
        blocklist_dir=settings.blocklist_dir,
    )


def enforcers_for(settings: Settings) -> dict[str, Enforcer]:
    return build_enforcers(enforcer_config(settings))


def enforce_now(store: Store, settings: Settings) -> Reconciled:
    """Expire what is due and reconcile once, with the enforcers the settings configure."""
    from cyberpeace.respond.lifecycle import expire_due

    now = datetime.now(UTC)
    with store.session() as session:
        expire_due(session, now)
    return reconcile(store, enforcers_for(settings), now)
