"""The FastAPI application: settings in, migrations run, routes mounted under /v1."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from cloud_client.protocol import API_PREFIX
from training.service import db as database
from training.service.api.routes import deletions, devices, enrol, jobs, sessions, uploads
from training.service.blobs import LocalFolderBlobs
from training.service.core.config import Settings
from training.service.errors import ApiError, api_error_handler
from training.service.learning import UPDATES_PATH, ServiceJobs, repo_dir
from training.service.uploads import RunningHashes, expire_uploads

logger = logging.getLogger(__name__)


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (devices, enrol, uploads, sessions, deletions, jobs):
        router.include_router(module.router)
    return router


def create_app(settings: Settings) -> FastAPI:
    """The service for `settings`; the database is migrated when the app starts (and here, once)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = database.make_engine(settings.database_url)
    database.migrate(engine)

    hashes = RunningHashes()
    jobs = ServiceJobs(settings.data_dir, settings.database_url, settings.blob_dir,
                       settings.auto_retrain_after, settings.auto_retrain_small)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        jobs.close()
        hashes.close()
        engine.dispose()

    app = FastAPI(title="Trackside cloud", version="1", lifespan=lifespan,
                  description="Enrolment, resumable idempotent session upload, labels and deletion.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.make_db = database.session_factory(engine)
    with app.state.make_db.begin() as db:
        expired = expire_uploads(db, settings)
    if expired:
        logger.info("dropped %d expired or orphaned uploads", expired)
    app.state.blobs = LocalFolderBlobs(settings.blob_dir)
    app.state.hashes = hashes
    app.state.jobs = jobs
    app.add_exception_handler(ApiError, api_error_handler)
    app.include_router(api_router())
    mount_updates(app, settings)
    return app


def mount_updates(app: FastAPI, settings: Settings) -> None:
    """The signed update repository, read-only, at /updates/ (metadata/ and targets/).

    Served without a device token: every file is checked by the laptop's TUF client against the
    root of trust it already holds, and a model is no athlete's data. Empty until
    `trackside-cloud init` (a laptop then hears "not found" and keeps its model).
    """
    folder = repo_dir(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    app.mount(UPDATES_PATH, StaticFiles(directory=folder), name="updates")


def app_from_env() -> FastAPI:
    """The app for uvicorn's --workers (each worker builds its own): settings from TRACKSIDE_CLOUD_*."""
    from training.service.core.config import load_settings

    return create_app(load_settings())
