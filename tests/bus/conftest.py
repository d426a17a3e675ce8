from kafka_fixtures import bus_settings, kafka_bootstrap, make_topics, read_topics  # noqa: F401
