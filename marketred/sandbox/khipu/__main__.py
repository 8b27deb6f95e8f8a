"""`python -m marketred.sandbox.khipu`: run the simulator alone on the settings' port."""

from __future__ import annotations

import uvicorn

from marketred.sandbox.khipu.app import create_app_from_settings
from marketred.settings import Settings


def serve(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    app = create_app_from_settings(settings)
    uvicorn.run(app, host="127.0.0.1", port=settings.khipu_sandbox_port)


if __name__ == "__main__":
    serve()
