"""Bearer-token authentication: each request resolves to a Viewer (staff or one party)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from cyberpeace.store import Store, Viewer, viewer_for

_bearer = HTTPBearer(auto_error=False, description="A token from `cyberpeace token create`.")
COOKIE = "cyberpeace_token"


def session_dependency(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    store: Store = request.app.state.store
    with store.session() as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is never reported
# as a success (FastAPI's default, "request", runs the exit code after sending the response).
DbSession = Annotated[Session, Depends(session_dependency, scope="function")]


def current_viewer(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Viewer:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    viewer = viewer_for(session, credentials.credentials)
    if viewer is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or revoked token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
