"""The expansion module in the real misp-modules server, queried over its HTTP API as MISP does."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
from servers import ppcti_wrapper

pytestmark = pytest.mark.slow

MODULE = "ppcti_blacklist"


def _post(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(url + "/query", data=orjson.dumps(payload), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=300) as resp:
        return orjson.loads(resp.read())


@pytest.fixture(scope="module")
def config(fhe_service: dict[str, Any], holder_keys: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    wrapper = ppcti_wrapper(tmp_path_factory.mktemp("bin"))
    return {
        "service_url": fhe_service["url"],
        "keys_dir": str(holder_keys),
        "ppcti": str(wrapper),
        "blacklist": "c2feed",
    }


def test_module_is_listed_with_its_interface(misp_modules: str) -> None:
    with urllib.request.urlopen(misp_modules + "/modules", timeout=30) as resp:
        modules = {m["name"]: m for m in orjson.loads(resp.read())}
    ours = modules[MODULE]
    assert ours["type"] == "expansion"
    assert "ip-src" in ours["mispattributes"]["input"]
    assert "email-src" in ours["mispattributes"]["input"]
    assert ours["meta"]["config"] == [
        "service_url",
        "keys_dir",
        "blacklist",
        "ppcti",
        "cafile",
        "kafka_bootstrap",
        "shards",
    ]
    assert set(ours["meta"]["module-type"]) == {"expansion", "hover"}


@pytest.mark.parametrize(
    ("attribute", "verdict"),
    [
        ({"type": "ip-src", "value": "93.19.228.74"}, "found"),
        ({"type": "ip-dst", "value": "198.51.100.200"}, "found"),  # inside a listed /24
        ({"type": "ip-dst|port", "value": "45.33.32.156|22"}, "found"),  # listed inside an ip-port object
        ({"type": "email-src", "value": "PHISH@evil.example"}, "found"),
        ({"type": "ip-src", "value": "8.8.8.8"}, "not found"),  # in the feed with to_ids off
        ({"type": "domain|ip", "value": "example.org|192.0.2.1"}, "not found"),
    ],
    ids=["ip", "cidr", "ip-port", "email", "to_ids-off", "domain-ip"],
)
def test_standard_format(misp_modules: str, config: dict, attribute: dict, verdict: str) -> None:
    attr = {**attribute, "uuid": "5a0b6b0e-0000-4000-8000-000000000001"}
    answer = _post(misp_modules, {"module": MODULE, "attribute": attr, "config": config})
    assert answer == {
        "results": [
            {
                "types": ["text"],
                "categories": ["External analysis"],
                "values": [f"{verdict} on c2feed"],
                "comment": "ppcti private blacklist lookup (homomorphic encryption)",
            }
        ]
    }


def test_legacy_format(misp_modules: str, config: dict) -> None:
    answer = _post(misp_modules, {"module": MODULE, "ip-dst": "203.0.113.9", "config": config})
    assert answer["results"][0]["values"] == ["found on c2feed"]


def test_errors_name_no_value(misp_modules: str, config: dict) -> None:
    secretish = "not-an-address.example"
    answer = _post(misp_modules, {"module": MODULE, "ip-src": secretish, "config": config})
    assert "error" in answer
    assert secretish not in answer["error"]
    answer = _post(misp_modules, {"module": MODULE, "ip-src": "1.2.3.4", "config": {}})
    assert answer == {"error": "configure service_url (or kafka_bootstrap) and keys_dir for this module"}
    sharded = {**config, "kafka_bootstrap": "127.0.0.1:9", "shards": "two"}
    answer = _post(misp_modules, {"module": MODULE, "ip-src": "1.2.3.4", "config": sharded})
    assert answer == {"error": "shards must be a whole number of at least 1"}
    answer = _post(
        misp_modules, {"module": MODULE, "md5": "d41d8cd98f00b204e9800998ecf8427e", "config": config}
    )
    assert answer == {"error": "no supported attribute in the request"}
    down = {**config, "service_url": "http://127.0.0.1:9"}
    answer = _post(misp_modules, {"module": MODULE, "ip-src": "1.2.3.4", "config": down})
    assert answer["error"].startswith("ppcti lookup failed: correlation service unreachable")
    assert "1.2.3.4" not in answer["error"]
