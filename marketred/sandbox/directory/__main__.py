"""`python -m marketred.sandbox.directory`: run the directory sandbox on the settings' port."""

from __future__ import annotations

import uvicorn

from marketred.sandbox.directory.app import create_app_from_settings
from marketred.settings import Settings


def serve(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    app = create_app_from_settings(settings)
    uvicorn.run(app, host="127.0.0.1", port=settings.directory_sandbox_port, log_level="warning")


if __name__ == "__main__":
    serve()
