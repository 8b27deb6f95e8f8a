"""App factory of the Khipu simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from marketred.sandbox.khipu import api, control_api, payer
from marketred.sandbox.khipu.controls import Controls
from marketred.sandbox.khipu.engine import KhipuSandbox
from marketred.sandbox.khipu.store import SandboxStore
from marketred.sandbox.khipu.validation import SandboxApiError
from marketred.settings import Settings

STATE_FILE = "khipu-sandbox.sqlite3"


def create_app(
    *,
    api_key: str,
    secret: str,
    receiver_id: int,
    public_url: str,
    state_path: Path | None,
    notify_base_delay: float = 0.2,
    notify_max_delay: float = 30.0,
    notify_max_attempts: int = 10,
    verify_delay: float = 0.0,
) -> FastAPI:
    """Build the simulator. `public_url` is where browsers and merchants reach it."""
    sandbox = KhipuSandbox(
        store=SandboxStore(state_path),
        controls=Controls(verify_delay=verify_delay),
        api_key=api_key,
        secret=secret,
        receiver_id=receiver_id,
        public_url=public_url,
        notify_base_delay=notify_base_delay,
        notify_max_delay=notify_max_delay,
        notify_max_attempts=notify_max_attempts,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sandbox.resume()
        yield
        await sandbox.stop()

    app = FastAPI(title="Khipu v3 sandbox", lifespan=lifespan, docs_url="/_sandbox/docs")
    app.state.sandbox = sandbox
    app.include_router(api.router)
    app.include_router(payer.router)
    app.include_router(control_api.router)

    @app.exception_handler(SandboxApiError)
    async def api_error(_request: Request, exc: SandboxApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    return app


def create_app_from_settings(settings: Settings) -> FastAPI:
    return create_app(
        api_key=settings.khipu_api_key,
        secret=settings.khipu_webhook_secret,
        receiver_id=settings.khipu_receiver_id,
        public_url=f"http://127.0.0.1:{settings.khipu_sandbox_port}",
        state_path=settings.home / STATE_FILE,
    )
