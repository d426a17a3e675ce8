from webapp_fixtures import (  # noqa: F401
    db_url,
    fhe_keys,
    finished,
    finished_pg,
    postgres_server,
    taxii_server,
    world,
)
