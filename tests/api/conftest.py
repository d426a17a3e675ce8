from webapp_fixtures import db_url, finished, finished_pg, postgres_server, world  # noqa: F401
