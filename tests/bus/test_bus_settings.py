"""Bus settings: one place for defaults, the environment read only by from_env, clear refusals."""

from __future__ import annotations

import pytest

from ppcti.bus.settings import KIND_TOPICS, TOPICS, BusSettings
from ppcti.bus.worker import WorkerOptions
from ppcti.errors import ConfigError


def test_from_env_is_none_without_a_bootstrap() -> None:
    assert BusSettings.from_env(env={}) is None
    assert BusSettings.from_env(env={"PPCTI_KAFKA_BOOTSTRAP": "  "}) is None


def test_from_env_reads_the_variables_and_the_option_wins() -> None:
    env = {
        "PPCTI_KAFKA_BOOTSTRAP": "kafka:9092",
        "PPCTI_KAFKA_TOPIC_PREFIX": "acme.",
        "PPCTI_KAFKA_DELIVERY_TIMEOUT": "7.5",
        "PPCTI_KAFKA_COMPRESSION": "zstd",
    }
    settings = BusSettings.from_env(env=env)
    assert settings == BusSettings(
        "kafka:9092", topic_prefix="acme.", delivery_timeout_s=7.5, compression="zstd"
    )
    assert BusSettings.from_env("other:1", env=env).bootstrap == "other:1"


def test_bad_environment_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="number of seconds"):
        BusSettings.from_env(env={"PPCTI_KAFKA_BOOTSTRAP": "k:1", "PPCTI_KAFKA_DELIVERY_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="compression"):
        BusSettings.from_env(env={"PPCTI_KAFKA_BOOTSTRAP": "k:1", "PPCTI_KAFKA_COMPRESSION": "rar"})


@pytest.mark.parametrize(
    "kwargs",
    [{"bootstrap": ""}, {"delivery_timeout_s": 0}, {"events_per_batch": 0}, {"topic_names": {"nope": "x"}}],
    ids=["empty-bootstrap", "timeout", "batch", "topic-name"],
)
def test_invalid_settings_are_refused(kwargs) -> None:
    with pytest.raises(ConfigError):
        BusSettings(**{"bootstrap": "k:1", **kwargs})


def test_topic_names_follow_the_prefix_unless_overridden() -> None:
    settings = BusSettings("k:1", topic_prefix="p-", topic_names={"cti": "shared-cti"})
    assert settings.topic("pii") == "p-pii"
    assert settings.topic("cti") == "shared-cti"
    assert settings.topic_for_kind("cti-bundle") == "shared-cti"
    assert settings.topic_for_kind("kg-additions") == "p-pii"
    assert set(KIND_TOPICS.values()) <= set(TOPICS)
    with pytest.raises(ConfigError, match="unknown bus message kind"):
        settings.topic_for_kind("gossip")


def test_producer_is_idempotent_and_bounded() -> None:
    config = BusSettings("k:1", delivery_timeout_s=3).producer_config()
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"
    assert config["message.timeout.ms"] == 3000


@pytest.mark.parametrize(
    "kwargs",
    [{"group": ""}, {"batch": 0}, {"max_messages": 0}, {"idle_timeout_s": 0}, {"poll_timeout_s": -1}],
    ids=["group", "batch", "max", "idle", "poll"],
)
def test_invalid_worker_options_are_refused(kwargs) -> None:
    with pytest.raises(ConfigError):
        WorkerOptions(**{"group": "g", "input_topic": "t", **kwargs})
