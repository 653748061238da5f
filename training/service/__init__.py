"""The team's cloud service: enrolment, resumable idempotent session upload, labels and deletion.

FastAPI on uvicorn, SQLAlchemy 2 models and Alembic migrations; SQLite and a blob folder by default,
PostgreSQL and several processes at scale. Nothing here imports TensorFlow: it starts in a second.
"""
