"""Commands of ppcti.fhe: ``ppcti fhe keygen|encrypt-cti|encrypt-blacklist|correlate|decrypt``."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from ppcti.outdir import check_out, check_out_file

fhe_app = typer.Typer(
    name="fhe",
    help="Private blacklist correlation under homomorphic encryption (holder, blacklist owner, server).",
    no_args_is_help=True,
)


def _need_fhe() -> None:
    """A clear "install the extra" error instead of an ImportError traceback."""
    import importlib.util

    from ppcti.errors import MissingExtra

    if importlib.util.find_spec("tenseal") is None or importlib.util.find_spec("numpy") is None:
        raise MissingExtra("fhe", "FHE blacklist correlation")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@fhe_app.command("keygen")
def keygen_cmd(
    out: Path = typer.Option(..., "--out", help="Folder for secret.key (keep it) and public.key (share it)."),
) -> None:
    """Create the holder's keys: secret.key stays with the holder, public.key goes to owner and server."""
    check_out(out)
    _need_fhe()
    from ppcti.fhe.keys import keygen

    s = keygen(out)
    typer.echo(f"key id {s.key_id}, parameters {s.params_fingerprint}: {s.public_path}, {s.secret_path}")


@fhe_app.command("encrypt-cti")
def encrypt_cti_cmd(
    input_path: Path = typer.Argument(
        ..., help="Run folder, bundles.jsonl, events.jsonl or a list of addresses."
    ),
    public: Path = typer.Option(..., "--public", help="The holder's public.key."),
    out: Path = typer.Option(
        ..., "--out", help="Folder for query.fhe (to the server) and mapping.json (secret)."
    ),
) -> None:
    """CTIEncrypt-K: encrypt the CTI's attacker/victim IPs and e-mails into a query."""
    check_out(out)
    _need_fhe()
    from ppcti.fhe.query import encrypt_cti

    with _progress("encrypting query") as progress:
        s = encrypt_cti(input_path, public, out, progress=progress)
    typer.echo(
        f"{s.addresses} addresses, {s.items} items in {s.batches} batches: {s.query_path}, {s.mapping_path}"
    )


@fhe_app.command("encrypt-blacklist")
def encrypt_blacklist_cmd(
    lists: list[Path] = typer.Argument(
        ...,
        help="Plain, FireHOL .netset/.ipset, Spamhaus DROP or e-mail lists; MISP feed folders, MISP "
        "event JSON or CSV exports; STIX bundles (indicators with equality patterns).",
    ),
    public: Path = typer.Option(..., "--public", help="The holder's public.key."),
    out: Path = typer.Option(..., "--out", help="Encrypted blacklist file to write (for the server)."),
    name: str | None = typer.Option(None, "--name", help="Blacklist name reported to the holder."),
    threads: int = typer.Option(0, "--threads", help="Worker processes (0 = all available cores)."),
) -> None:
    """BLEncrypt-K: encrypt a blacklist for the holder's public key (CIDR blocks are not expanded)."""
    check_out_file(out)
    _need_fhe()
    from ppcti.fhe.blacklist import encrypt_blacklist

    with _progress("encrypting blacklist") as progress:
        s = encrypt_blacklist(lists, public, out, name=name, threads=threads or None, progress=progress)
    typer.echo(f"{s.entries} entries, {s.items} items, rows {s.rows}: {s.path} ({s.bytes / 1e6:.1f} MB)")
    if s.unusable:
        typer.echo(f"{sum(s.unusable.values())} unusable entries left out:")
        for reason, count in sorted(s.unusable.items(), key=lambda kv: (-kv[1], kv[0])):
            typer.echo(f"  {count:>8}  {reason}")


@fhe_app.command("correlate")
def correlate_cmd(
    public: Path = typer.Option(..., "--public", help="The holder's public.key."),
    query: Path = typer.Option(..., "--query", help="query.fhe from encrypt-cti."),
    blacklist: Path = typer.Option(..., "--blacklist", help="File from encrypt-blacklist."),
    out: Path = typer.Option(..., "--out", help="Encrypted result file to write (for the holder)."),
    threads: int = typer.Option(0, "--threads", help="Worker processes (0 = all available cores)."),
) -> None:
    """The server: correlate an encrypted query with an encrypted blacklist; holds no secret key."""
    check_out_file(out)
    _need_fhe()
    from ppcti.fhe.server import correlate

    with _progress("correlating") as progress:
        s = correlate(public, query, blacklist, out, threads=threads or None, progress=progress)
    typer.echo(
        f"{s.batches} batches, {s.result_ciphertexts} result ciphertexts on {s.threads} cores: {s.path}"
    )


@fhe_app.command("decrypt")
def decrypt_cmd(
    result: Path = typer.Argument(..., help="Result file from correlate."),
    secret: Path = typer.Option(..., "--secret", help="The holder's secret.key."),
    mapping: Path = typer.Option(..., "--mapping", help="mapping.json from encrypt-cti."),
    out: Path = typer.Option(..., "--out", help="Folder for fhe_matches.json."),
    stix: Path | None = typer.Option(
        None, "--stix", help="Bundles file or run folder to mark (default: the query's input, if STIX)."
    ),
) -> None:
    """Decrypt-K: one found/not-found per queried address, mapped back to the CTI entries."""
    check_out(out)
    _need_fhe()
    from ppcti.fhe.decryption import decrypt

    s = decrypt(result, secret, mapping, out, stix=stix)
    marked = f"; marked {s.marked_objects} STIX objects in {s.stix_path}" if s.stix_path else ""
    typer.echo(f"{s.found} of {s.addresses} addresses on blacklist {s.blacklist}: {s.matches_path}{marked}")


def _tls_client(cafile: Path | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=str(cafile)) if cafile else None


def _split_listen(listen: str) -> tuple[str, int]:
    from ppcti.errors import ConfigError

    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError("--listen must be HOST:PORT (PORT 0 picks a free one)")
    return host.strip("[]") or "127.0.0.1", int(port)


@fhe_app.command("serve")
def serve_cmd(
    blacklist: list[Path] = typer.Option(..., "--blacklist", help="Encrypted blacklist (repeatable)."),
    public: list[Path] = typer.Option(
        ..., "--public", help="Public key of each holder the blacklists were encrypted for (repeatable)."
    ),
    listen: str = typer.Option("127.0.0.1:8470", "--listen", help="HOST:PORT to listen on."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate chain: serve HTTPS."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert."),
    threads: int = typer.Option(1, "--threads", help="Worker processes per correlation (0 = all cores)."),
) -> None:
    """The correlation server as an HTTP(S) service; PPCTI_FHE_TOKEN, if set, is the bearer token."""
    _need_fhe()
    import os

    from ppcti.errors import ConfigError
    from ppcti.fhe.parallel import available_cores
    from ppcti.fhe.service import CorrelationService, make_server

    host, port = _split_listen(listen)
    tls = None
    if tls_cert or tls_key:
        if not (tls_cert and tls_key):
            raise ConfigError("--tls-cert and --tls-key go together")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            tls.load_cert_chain(str(tls_cert), str(tls_key))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load the TLS certificate or key: {exc}") from None
    service = CorrelationService(blacklist, public, threads=threads or available_cores())
    try:
        server = make_server(service, host, port, token=os.environ.get("PPCTI_FHE_TOKEN") or None, tls=tls)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {listen}: {exc.strerror}") from None
    bound_host, bound_port = server.server_address[:2]
    scheme = "https" if tls else "http"
    names = ", ".join(service.blacklists)
    typer.echo(f"serving {names} on {scheme}://{bound_host}:{bound_port}", err=False)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@fhe_app.command("shard-blacklist")
def shard_blacklist_cmd(
    blacklist: Path = typer.Argument(..., help="File from encrypt-blacklist."),
    public: Path = typer.Option(..., "--public", help="The holder's public.key (gives the group size)."),
    shards: int = typer.Option(..., "--shards", min=1, help="Number of shards (one Kafka partition each)."),
    out: Path = typer.Option(..., "--out", help="Folder for the shard files and shards.json."),
) -> None:
    """Split an encrypted blacklist by row groups into shards for `ppcti worker fhe` (no key needed but
    the public one: the shards are the same ciphertexts, cut)."""
    check_out(out)
    _need_fhe()
    from ppcti.fhe.shards import shard_blacklist

    s = shard_blacklist(blacklist, public, shards, out)
    typer.echo(f"{s.shards} shards of {s.name} (set {s.set_id}), rows {s.rows}: {s.manifest_path}")


@fhe_app.command("request")
def request_cmd(
    query: Path = typer.Option(..., "--query", help="query.fhe from encrypt-cti."),
    out: Path = typer.Option(..., "--out", help="Encrypted result file to write."),
    server: str | None = typer.Option(None, "--server", help="URL of a ppcti fhe serve service."),
    kafka: str | None = typer.Option(
        None, "--kafka", help="Kafka bootstrap address: ask sharded `ppcti worker fhe` workers instead."
    ),
    shards: int = typer.Option(1, "--shards", min=1, help="With --kafka: shards of the blacklist."),
    timeout: float = typer.Option(
        300.0, "--timeout", min=0.1, help="With --kafka: seconds to wait for every shard's answer."
    ),
    max_message_bytes: int = typer.Option(
        8_000_000, "--max-message-bytes", min=100_000, help="With --kafka: largest message."
    ),
    blacklist: str | None = typer.Option(None, "--blacklist", help="Blacklist name on the service."),
    cafile: Path | None = typer.Option(None, "--cafile", help="CA certificate that signed the service's."),
) -> None:
    """Have a correlation service correlate a query: over HTTP(S) (--server; PPCTI_FHE_TOKEN, if set, is
    the bearer token) or over Kafka (--kafka, PPCTI_KAFKA_* settings), merging the shards' answers."""
    _need_fhe()
    import os

    from ppcti.errors import ConfigError, FHEError

    if (server is None) == (kafka is None):
        raise ConfigError("give either --server URL or --kafka BOOTSTRAP")
    try:
        data = query.read_bytes()
    except OSError as exc:
        raise FHEError(f"cannot read query file: {exc.strerror}", file=str(query)) from None
    if kafka is not None:
        import dataclasses

        from ppcti.bus.fhe import correlate_over_kafka
        from ppcti.bus.settings import BusSettings

        settings = BusSettings.from_env(kafka)
        assert settings is not None  # an explicit bootstrap always gives settings
        settings = dataclasses.replace(settings, max_message_bytes=max_message_bytes)
        result = correlate_over_kafka(settings, data, shards, blacklist=blacklist, timeout=timeout)
        source = f"{shards} shards via {kafka}"
    else:
        from ppcti.fhe.remote import request_correlation

        assert server is not None
        result = request_correlation(
            server,
            data,
            blacklist=blacklist,
            token=os.environ.get("PPCTI_FHE_TOKEN"),
            tls=_tls_client(cafile),
        )
        source = server
    out.write_bytes(result)
    typer.echo(f"result from {source}: {out} ({len(result) / 1e6:.1f} MB)")


@fhe_app.command("lookup")
def lookup_cmd(
    keys: Path = typer.Option(..., "--keys", help="Folder with the holder's public.key and secret.key."),
    server: str | None = typer.Option(None, "--server", help="URL of a ppcti fhe serve service."),
    kafka: str | None = typer.Option(
        None, "--kafka", help="Kafka bootstrap address: ask sharded `ppcti worker fhe` workers instead."
    ),
    shards: int = typer.Option(1, "--shards", min=1, help="With --kafka: shards of the blacklist."),
    timeout: float = typer.Option(
        300.0, "--timeout", min=0.1, help="With --kafka: seconds to wait for every shard's answer."
    ),
    blacklist: str | None = typer.Option(None, "--blacklist", help="Blacklist name on the service."),
    cafile: Path | None = typer.Option(None, "--cafile", help="CA certificate that signed the service's."),
) -> None:
    """Values on standard input (one a line) → one JSON line {"value", "found"} each, nothing else.

    The whole round trip (encrypt, correlate remotely, decrypt) for a few values: what the MISP module
    runs. Values come on standard input so that they never show in a process list. The correlation is
    asked of a service (--server) or of sharded workers on Kafka (--kafka, PPCTI_KAFKA_* settings).
    """
    _need_fhe()
    import os

    import orjson

    from ppcti.errors import ConfigError
    from ppcti.fhe.remote import lookup

    if (server is None) == (kafka is None):
        raise ConfigError("give either --server URL or --kafka BOOTSTRAP")
    target: str | Callable[[bytes], bytes] | None = server
    if kafka is not None:
        import dataclasses

        from ppcti.bus.fhe import DEFAULT_FHE_MESSAGE_BYTES, correlate_over_kafka
        from ppcti.bus.settings import BusSettings

        settings = BusSettings.from_env(kafka)
        assert settings is not None  # an explicit bootstrap always gives settings
        settings = dataclasses.replace(settings, max_message_bytes=DEFAULT_FHE_MESSAGE_BYTES)

        def over_kafka(query: bytes) -> bytes:
            return correlate_over_kafka(settings, query, shards, blacklist=blacklist, timeout=timeout)

        target = over_kafka
    assert target is not None
    values = [line.strip() for line in sys.stdin if line.strip()]
    found = lookup(
        values,
        keys / "public.key",
        keys / "secret.key",
        target,
        blacklist=blacklist,
        token=os.environ.get("PPCTI_FHE_TOKEN"),
        tls=_tls_client(cafile),
    )
    for value in values:
        if value in found:
            sys.stdout.write(orjson.dumps({"value": value, "found": found[value]}).decode() + "\n")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.add_typer(fhe_app, name="fhe")
