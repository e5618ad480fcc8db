"""create_app(settings): the API and the console as one FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from cyberpeace import __version__
from cyberpeace.api.case_routes import router as case_router
from cyberpeace.api.message_routes import router as message_router
from cyberpeace.api.routes import router as api_router
from cyberpeace.config import Settings
from cyberpeace.correlation.correlation_routes import router as correlation_router
from cyberpeace.investigate.routes import router as investigate_router
from cyberpeace.mission import Mandate, load_mandate
from cyberpeace.report.routes import router as report_router
from cyberpeace.respond.feed_routes import router as blocklist_router
from cyberpeace.respond.sweeper import sweeping
from cyberpeace.share.taxii_routes import mount_taxii
from cyberpeace.store import Forbidden, InvalidTransition, NotFound, Store, open_store, sync_mandate
from cyberpeace.web.case_pages import router as case_pages_router
from cyberpeace.web.patterns_routes import router as patterns_console_router
from cyberpeace.web.routes import router as console_router


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """Build the application; it opens (and migrates) the case store named in the settings.

    With ``settings.mandate`` set, the mandate's parties and safe areas are loaded at start-up.
    """
    owned = store is None
    store = store or open_store(settings.database_url)
    mandate: Mandate | None = load_mandate(settings.mandate) if settings.mandate else None
    if mandate is not None:
        with store.session() as session:
            sync_mandate(session, mandate)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with sweeping(store, settings) as app.state.sweeper:  # respond/sweeper.py
            yield
        if owned:
            store.close()

    app = FastAPI(
        title="cyberpeace",
        version=__version__,
        description="API of a cyber peacekeeping mission: parties, safe areas, detections, "
        "incidents and the audit log. Authenticate with `Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.mandate = mandate
    app.state.default_tlp = mandate.data_policy.default_tlp if mandate else "TLP:AMBER"
    _add_error_handlers(app)
    app.include_router(api_router)
    app.include_router(report_router)
    app.include_router(correlation_router)
    app.include_router(console_router)
    mount_taxii(app)
    app.include_router(investigate_router)
    app.include_router(patterns_console_router)
    app.include_router(case_router)
    app.include_router(case_pages_router)
    app.include_router(blocklist_router)
    app.include_router(message_router)
    static = resources.files("cyberpeace.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(InvalidTransition, conflict)
