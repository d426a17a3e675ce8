"""The optimised bundle builder against today's output: same bytes, same problems, same aggregate inputs.

Three references: digests of today's ``bundles`` bytes for fixed seeded events (pinned when the builder
was optimised, so they hold even if both builders changed alike), the frozen pre-optimisation builder
(``legacy_build.py``) on the events of the bundled sample upload, and the same on hypothesis-generated
events full of near-misses (invalid addresses, ports, timestamps, protocols, verdicts, directions).
Since the builder writes JSON text (second pass of issue #17) also: digests of ``write_cti``'s files
pinned before that change, the ids and parts the aggregate reads, and free text (any Unicode, quotes,
backslashes, control characters, lone surrogates) in every name that reaches an id or the JSON.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from legacy_build import BundleBuilder as LegacyBuilder
from stix_testdata import mixed_events

from ppcti.stix import CtiOptions, write_cti
from ppcti.stix.build import Built, BundleBuilder
from ppcti_process import child_env, ppcti_command

SAMPLE = Path(__file__).parents[2] / "samples" / "sample-upload.zip"
OPTIONS = (
    CtiOptions(),
    CtiOptions(tlp="red", share_private=True, portless_traffic=True, include_subject=False),
)
#: sha-256 over one line per event (the bundle's bytes, or ``-``), made with the builder of before.
GOLDEN = {
    7: "2abad8c0f25dbe94c5e258cf3de36574b439783773f30668ccb8fa00b1f8993f",
    11: "feff73cd8207fedd0b4d87487e2612f62fab264d11eb7d5e9326b3bf24e14b5d",
}


def outcome(built: Any) -> tuple[Any, ...]:
    """Everything a caller reads from a build result, with the bundle as its serialised bytes."""
    bundle = None if built.bundle is None else orjson.dumps(built.bundle)
    problems = [p.to_dict() for p in built.problems]
    return (bundle, problems, built.reason, built.holder, built.timestamp, built.attacker,
            tuple(built.indicator_types), built.withheld)  # fmt: skip


def assert_same(events: list[dict[str, Any]], options: CtiOptions) -> int:
    """New and legacy builders agree on every event; returns how many bundles were compared."""
    new, old = BundleBuilder(options), LegacyBuilder(options)
    new.own = old.own = {("ACME Bank", "10.0.0.5")}
    bundles = 0
    for event in events:
        mine, theirs = new.build(event), old.build(event)
        assert isinstance(mine, Built)
        assert outcome(mine) == outcome(theirs)
        assert mine.json == (None if theirs.bundle is None else orjson.dumps(theirs.bundle))
        bundles += mine.bundle is not None
    return bundles


@pytest.mark.parametrize(("seed", "options"), [(7, OPTIONS[0]), (11, OPTIONS[1])])
def test_bytes_equal_those_pinned_before_the_optimisation(seed: int, options: CtiOptions) -> None:
    builder = BundleBuilder(options)
    digest = hashlib.sha256()
    for event in mixed_events(3000, holders=("ACME Bank", "City Hospital", "Grid"), seed=seed):
        data = builder.build(event).json
        digest.update(b"-" if data is None else data)
        digest.update(b"\n")
    assert digest.hexdigest() == GOLDEN[seed]


@pytest.fixture(scope="module")
def sample_events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The normalised events of the bundled sample upload (core stages of ``ppcti run`` only)."""
    out = tmp_path_factory.mktemp("sample") / "run"
    skip = [a for stage in ("pii", "cti", "analysis", "enrich", "report") for a in ("--skip", stage)]
    done = subprocess.run(
        ppcti_command("run", str(SAMPLE), "--holder", "acme", "--out", str(out), *skip),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [orjson.loads(line) for line in (out / "events.jsonl").read_bytes().splitlines()]


@pytest.mark.parametrize("options", OPTIONS)
def test_sample_upload_bundles_identical(sample_events: list[dict[str, Any]], options: CtiOptions) -> None:
    assert len(sample_events) > 500
    assert assert_same(sample_events, options) > 500


# -- hypothesis: events with near-misses in every field the builder reads ------------------------------

_ips = st.sampled_from(
    ["91.203.5.7", "10.0.0.5", "192.168.1.20", "198.51.100.1", "2a01:4f8:bad::7", "fd00::25",
     "2001:db8::1", " 80.82.77.23 ", "010.0.0.1", "256.1.1.1", "fe80::1%eth0", "::ffff:10.0.0.1", "",
     "not an ip", "100.64.1.1"]
)  # fmt: skip
_macs = st.sampled_from(["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5f", "001a2b3c4d60", "001a.2b3c.4d61", "zz:zz"])
_emails = st.sampled_from(
    ["evil@Bad.Example", " <ceo@lookalike.example> ", "alice@acme.example", "bob@acme.example",
     "o'brien@spoof.example", "no-at-sign", "x@", "Ünï@code.example"]
)  # fmt: skip
_times = st.one_of(
    st.sampled_from(["2023-03-07T10:38:03Z", "2023-03-07T10:38:03.100Z", "2023-02-29T00:00:00Z",
                     "2024-02-29T23:59:59.123456789Z", "2023-03-07 10:38:03", "2023-13-01T00:00:00Z"]),
    st.builds(lambda d, s, f: f"2023-03-{d:02d}T10:{s:02d}:{s:02d}{f}Z", st.integers(1, 31),
              st.integers(0, 61), st.sampled_from(["", ".5", ".120", ".000", ".1234567"])),
)  # fmt: skip
_ports = st.one_of(st.integers(-2, 70000), st.sampled_from(["22", "x", True, 443.0]))
_scalars = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=4),
    st.just(["10.0.0.5"]),  # JSON arrays and objects where a value belongs
    st.just({"value": "91.203.5.7"}),
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value (so that many events reach the indicator), else absent or junk."""
    return st.one_of(strategy, strategy, strategy, strategy, st.just(_ABSENT), _scalars)


def _rarely(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly absent: direction fields would otherwise withhold most attackers."""
    return st.one_of(st.just(_ABSENT), st.just(_ABSENT), st.just(_ABSENT), strategy, _scalars)


_ABSENT = object()


_FIELDS: dict[str, st.SearchStrategy[Any]] = {}
_EXTRA_FIELDS: dict[str, st.SearchStrategy[Any]] = {}


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    fields = _FIELDS or {
        "holder": _maybe(st.sampled_from(["ACME Bank", " City Hospital ", "", "Grid"])),
        "format": _maybe(st.sampled_from(["firewall-text", "email-csv", "events-json"])),
        "source_file": _maybe(st.sampled_from(["fw.log", "mail.csv"])),
        "line": _maybe(st.one_of(st.integers(0, 10**6), st.booleans())),
        "timestamp": _maybe(_times),
        "src_ip": _maybe(st.one_of(_ips, st.sampled_from(["91.203.5.7", "2a01:4f8:bad::7"]))),
        "dst_ip": _maybe(_ips),
        "nat_ip": _maybe(_ips),
        "src_port": _maybe(_ports),
        "dst_port": _maybe(_ports),
        "protocol": _maybe(st.sampled_from(["TCP", "udp", "ICMPv6", "HTTPS", "ipv4", "bogus"])),
        "src_mac": _maybe(_macs),
        "emails": _maybe(st.lists(st.one_of(_emails, _scalars), max_size=3)),
        "direction": _rarely(st.sampled_from(["in", "outbound", "internal", "sideways"])),
    }
    _FIELDS.update(fields)
    extra_fields = _EXTRA_FIELDS or {
        "sender": _maybe(_emails),
        "recipients": _maybe(st.one_of(_emails, st.lists(st.one_of(_emails, _scalars), max_size=3))),
        "subject": _maybe(st.sampled_from(["Invoice", "", "Ihre Rechnung – bitte prüfen"])),
        "verdict": _maybe(st.sampled_from(["phishing", "SPAM", "clean", "unknown", "Quarantined"])),
        "signature": _maybe(st.sampled_from(["ET SCAN Nmap", "  ", "quote ' and \\ back"])),
        "dst_mac": _maybe(_macs),
        "chain": _rarely(st.sampled_from(["input", "output", "forward"])),
        "network_direction": _rarely(st.sampled_from(["ingress", "egress"])),
    }
    _EXTRA_FIELDS.update(extra_fields)
    event = {k: v for k, s in fields.items() if (v := draw(s)) is not _ABSENT}
    extra = {k: v for k, s in extra_fields.items() if (v := draw(s)) is not _ABSENT}
    if extra or draw(st.booleans()):
        event["extra"] = extra if draw(st.integers(0, 9)) else "not a dict"
    return event


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=12), st.sampled_from(OPTIONS))
def test_generated_events_identical(batch: list[dict[str, Any]], options: CtiOptions) -> None:
    # one builder per batch: repeated values exercise the caches, as in a real run
    assert_same(batch, options)


@st.composite
def variants(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One event and copies of it with one or two fields redrawn: the caches see the same attacker,
    holder and addresses again with a different signature, verdict, time or port."""
    base = draw(events())
    out = [base]
    for _ in range(draw(st.integers(1, 6))):
        copy = dict(base)
        extra = dict(base["extra"]) if isinstance(base.get("extra"), dict) else {}
        for name in draw(st.lists(st.sampled_from([*_FIELDS, *_EXTRA_FIELDS]), min_size=1, max_size=2)):
            target, strategy = (copy, _FIELDS[name]) if name in _FIELDS else (extra, _EXTRA_FIELDS[name])
            value = draw(strategy)
            if value is _ABSENT:
                target.pop(name, None)
            else:
                target[name] = value
        if extra:
            copy["extra"] = extra
        out.append(copy)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variants(), st.sampled_from(OPTIONS))
def test_variants_of_one_event_identical(batch: list[dict[str, Any]], options: CtiOptions) -> None:
    assert_same(batch, options)


@pytest.mark.parametrize("junk", [["10.0.0.5"], {"value": "10.0.0.5"}, 7, None])
@pytest.mark.parametrize("field", ["dst_ip", "nat_ip", "src_port", "timestamp", "protocol", "src_mac"])
def test_json_arrays_and_objects_in_value_fields(field: str, junk: Any) -> None:
    """Malformed events (a list or object where a value belongs) give the same problems, not a crash."""
    event = mixed_events(1)[0] | {field: junk}
    assert assert_same([event, dict(event), event | {"line": 99}], OPTIONS[0]) >= 1


# -- the JSON-text builder (2026-12-07): run files, free text, the parts it hands the aggregate --------

#: sha-256 over ``bundles.jsonl``, ``aggregate.json``, ``observations.json`` and ``invalid.jsonl`` of
#: ``write_cti`` for 3,000 seeded events, pinned with the dict builder before bundles were written as text.
RUN_GOLDEN = {
    7: "fefc3b04ba161c914e7772c634086d73ae2412dc0f860f1e360277b78921c1b1",
    11: "e29804d21dc2a4007c333a6aafb194b9a050dcf61aa3aab57334a582728e1e01",
}
RUN_OPTIONS = {7: OPTIONS[0], 11: replace(OPTIONS[1], aggregate_observations=False)}
RUN_FILES = ("bundles.jsonl", "aggregate.json", "observations.json", "invalid.jsonl")


@pytest.mark.parametrize("seed", sorted(RUN_GOLDEN))
def test_run_files_equal_those_pinned_before_bundles_were_written_as_text(seed: int, tmp_path: Path) -> None:
    events = mixed_events(3000, holders=("ACME Bank", "City Hospital", "Grid"), seed=seed)
    summary = write_cti(events, tmp_path, options=RUN_OPTIONS[seed])
    digest = hashlib.sha256()
    for name in RUN_FILES:
        digest.update((tmp_path / name).read_bytes())
        digest.update(b"\x00")
    assert summary.bundles == 3000
    assert digest.hexdigest() == RUN_GOLDEN[seed]


def test_parts_are_the_objects_of_the_bundle() -> None:
    """The ids and JSON parts the aggregate reads are exactly the bundle's objects, in order."""
    builder = BundleBuilder()
    for event in mixed_events(300, seed=3):
        built = builder.build(event)
        bundle = built.bundle
        assert bundle is not None and built.json is not None
        assert bundle == orjson.loads(built.json)
        assert built.ids == [o["id"] for o in bundle["objects"]]
        assert [p.encode() for p in built.parts] == [orjson.dumps(o) for o in bundle["objects"]]
    empty = builder.build({"holder": "ACME Bank", "src_ip": "not an ip"})
    assert (empty.bundle, empty.json, empty.ids, empty.parts) == (None, None, [], [])


def outcome_or_error(builder: Any, event: dict[str, Any]) -> tuple[Any, ...]:
    """:func:`outcome`, or the type of the error the builder raised (e.g. a lone surrogate in a name)."""
    try:
        built = builder.build(event)
    except Exception as error:  # both builders must fail alike
        return ("raised", type(error))
    return outcome(built)


_free_text = st.text(
    st.one_of(
        st.sampled_from([*"'\"\\/<>&%\n\t\x00\x1f\u2028é–😀 ", "\ud800"]),  # and a lone surrogate
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(mixed_events(30, seed=5)),  # valid events, so that most reach an indicator
    st.fixed_dictionaries(
        {},
        optional={
            "holder": _free_text,
            "source_file": _free_text,
            "format": st.one_of(_free_text, st.sampled_from(["email-csv", "firewall-text"])),
        },
    ),
    st.fixed_dictionaries(
        {}, optional={"subject": _free_text, "signature": _free_text, "verdict": _free_text}
    ),
    st.sampled_from(OPTIONS),
)
def test_free_text_in_names_identical(
    event: dict[str, Any], top: dict[str, Any], extra: dict[str, Any], options: CtiOptions
) -> None:
    """Holder, file, format, subject, signature and verdict with quotes, backslashes, control characters
    and any Unicode go into ids and JSON exactly as orjson wrote them in the dict builder."""
    event = event | top
    if extra:
        event["extra"] = event.get("extra", {}) | extra
    new, old = BundleBuilder(options), LegacyBuilder(options)
    for variant in (event, event | {"line": 5}, event):  # the second and third hit the caches
        assert outcome_or_error(new, variant) == outcome_or_error(old, variant)
