from webapp_fixtures import db_url, finished, postgres_server, world  # noqa: F401
