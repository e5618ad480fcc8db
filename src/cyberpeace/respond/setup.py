"""The response path as a process runs it: enforcers from the settings, one reconcile pass."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from cyberpeace.config import Settings
from cyberpeace.respond.enforcement import Alert, Reconciled, reconcile
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
        extra={"exabgp_socket": settings.exabgp_socket} if settings.exabgp_socket else None,
    )


def enforcers_for(settings: Settings) -> dict[str, Enforcer]:
    return build_enforcers(enforcer_config(settings))


def enforce_now(
    store: Store,
    settings: Settings,
    enforcers: Mapping[str, Enforcer] | None = None,
    alert: Callable[[Alert], None] | None = None,
) -> Reconciled:
    """Expire what is due and reconcile once, with the enforcers the settings configure."""
    from cyberpeace.respond.lifecycle import expire_due

    now = datetime.now(UTC)
    with store.session() as session:
        expire_due(session, now)
    chosen = enforcers if enforcers is not None else enforcers_for(settings)
    if alert is None:
        return reconcile(store, chosen, now)
    return reconcile(store, chosen, now, alert=alert)
