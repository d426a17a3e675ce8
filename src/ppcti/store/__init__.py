"""Persistence of the web application: users, holders, uploads, jobs and the index of their results.

Run results stay as files in a results folder (the run folders ``ppcti run`` writes); the database only
holds who may see what and where each job stands, so a server restart loses nothing. SQLAlchemy 2 talks
to SQLite (embedded, the default) or PostgreSQL; Alembic migrations ship inside the package and run on
start.
"""

from ppcti.store.db import Database, migrate
from ppcti.store.models import (
    ApiToken,
    Base,
    Holder,
    Job,
    JobState,
    Role,
    SigninFailure,
    Upload,
    User,
    WebSession,
)

__all__ = [
    "ApiToken",
    "Base",
    "Database",
    "Holder",
    "Job",
    "JobState",
    "Role",
    "SigninFailure",
    "Upload",
    "User",
    "WebSession",
    "migrate",
]
