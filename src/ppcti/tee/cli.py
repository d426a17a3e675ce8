"""Commands of ppcti.tee: ``ppcti tee serve|submit|verify-receipt|policy init``."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import typer

from ppcti.tee.limits import LIMIT_HELP, Limits

tee_app = typer.Typer(
    help="Trusted execution: process uploads inside an attested enclave (docs/tee.md).", no_args_is_help=True
)
policy_app = typer.Typer(help="Attestation policies of the client.", no_args_is_help=True)
tee_app.add_typer(policy_app, name="policy")

_DEFAULT = Limits()
BANNER = "SIMULATION — NOT ATTESTED: no TEE protects this data; the operator can read everything."


def _listen(value: str) -> tuple[str, int]:
    from ppcti.errors import ConfigError

    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"--listen must be HOST:PORT, not {value!r}")
    return host.strip("[]"), int(port)


@tee_app.command("serve")
def serve_cmd(
    backend: str = typer.Option(..., "--backend", help="simulation, gramine-sgx or tsm."),
    insecure_simulation: bool = typer.Option(
        False, "--insecure-simulation", help="Allow the simulation backend (no TEE: development only)."
    ),
    listen: str = typer.Option("127.0.0.1:8443", "--listen", help="HOST:PORT of the TLS listener."),
    state: Path = typer.Option(
        ..., "--state", help="Folder for sealed sessions (an encrypted mount in Gramine)."
    ),
    max_upload_bytes: int = typer.Option(_DEFAULT.max_upload_bytes, help=LIMIT_HELP["max_upload_bytes"]),
    max_sessions: int = typer.Option(_DEFAULT.max_sessions, help=LIMIT_HELP["max_sessions"]),
    session_timeout: int = typer.Option(_DEFAULT.session_timeout, help=LIMIT_HELP["session_timeout"]),
    max_public_key_bytes: int = typer.Option(
        _DEFAULT.max_public_key_bytes, help=LIMIT_HELP["max_public_key_bytes"]
    ),
    refresh: int = typer.Option(3600, "--refresh", help="Seconds between fresh evidence and certificates."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request."),
) -> None:
    """Run the service: TLS terminates inside the enclave, uploads are sealed, results signed."""
    from rich.console import Console

    from ppcti.errors import MissingExtra
    from ppcti.tee.backends import make_backend
    from ppcti.tee.service import RaTlsServer, TeeService

    try:
        import tenseal  # noqa: F401  (CTIEncrypt-K runs inside every session)
    except ImportError:
        raise MissingExtra("fhe", "the TEE service (CTIEncrypt-K)") from None
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    address = _listen(listen)
    enclave = make_backend(backend, state_dir=state, insecure_simulation=insecure_simulation)
    limits = Limits(max_upload_bytes, max_sessions, session_timeout, max_public_key_bytes)
    service = TeeService(enclave, state, limits, refresh=refresh)
    console = Console(stderr=True)
    if enclave.simulated:
        console.print(f"[bold white on red] {BANNER} [/]")
    for orphan in service.orphans:
        console.print(f"[yellow]orphaned session {orphan} refused and shredded[/]")
    try:
        server = RaTlsServer(address, service)
    except OSError as exc:
        from ppcti.errors import TeeError

        raise TeeError(f"cannot listen on {listen}: {exc.strerror}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    measurement = ", ".join(f"{k}={v}" for k, v in service.measurement.items())
    console.print(
        f"ppcti tee ({enclave.platform}) on https://{address[0]}:{server.server_address[1]} — {measurement}"
    )
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        console.print("stopping: open sessions are shredded")
    finally:
        server.server_close()


@tee_app.command("submit")
def submit_cmd(
    upload: Path = typer.Argument(..., help="The upload: one file (a ZIP for several)."),
    holder: str = typer.Option(..., "--holder", help="The data holder (organisation)."),
    service: str = typer.Option(..., "--service", help="https://HOST:PORT of the service."),
    policy: Path = typer.Option(..., "--policy", help="Attestation policy (ppcti tee policy init)."),
    public: Path = typer.Option(..., "--public", help="Your FHE public key (ppcti fhe keygen)."),
    out: Path = typer.Option(..., "--out", help="Folder for the results, attestation and receipt."),
    timezone: str | None = typer.Option(None, "--timezone", help="As for ppcti run."),
    year: int | None = typer.Option(None, "--year", help="As for ppcti run."),
    day: str | None = typer.Option(None, "--date", help="As for ppcti run."),
    date_order: str | None = typer.Option(None, "--date-order", help="As for ppcti run."),
    profile: str | None = typer.Option(None, "--profile", help="A built-in feature profile."),
    skip: list[str] = typer.Option([], "--skip", help="Stages to leave out, as for ppcti run."),
    tlp: str | None = typer.Option(None, "--tlp", help="As for ppcti run."),
    nlp: str | None = typer.Option(None, "--nlp", help="As for ppcti run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Verify the service's enclave, then upload, wait, and collect the results and a signed receipt."""
    from rich.console import Console

    from ppcti.pipeline.options import stage_list
    from ppcti.progress import stage_bars
    from ppcti.tee.client import submit
    from ppcti.tee.policy import load_policy

    rules = load_policy(policy)
    options = {
        k: v
        for k, v in {
            "timezone": timezone,
            "year": year,
            "date": day,
            "date_order": date_order,
            "profile": profile,
            "skip": stage_list(skip) or None,
            "tlp": tlp,
            "nlp": nlp,
        }.items()
        if v is not None
    }
    console = Console(stderr=True, quiet=quiet)
    with stage_bars(console, quiet=quiet) as progress:
        result = submit(
            upload,
            holder=holder,
            service_url=service,
            policy=rules,
            public_key=public,
            out=out,
            options=options,
            progress=progress,
        )
    attestation = result.attestation
    loud = Console(stderr=True)
    if attestation.simulated:
        loud.print(f"[bold white on red] {BANNER} [/]")
    else:
        loud.print(
            f"[green]attested[/]: {attestation.platform}, {attestation.signature}, "
            f"TCB {attestation.tcb_status}"
        )
    loud.print(
        f"results, attestation.json and receipt.json → {out}; session key destroyed at "
        f"{result.receipt['session_key_destroyed_at']}"
    )


@tee_app.command("verify-receipt")
def verify_receipt_cmd(
    folder: Path = typer.Argument(..., help="A folder written by ppcti tee submit."),
    policy: Path | None = typer.Option(None, "--policy", help="Also judge the evidence against this policy."),
) -> None:
    """Re-check a receipt offline: the enclave's signature, its key's evidence, every result file's hash."""
    from rich.console import Console

    from ppcti.tee.policy import load_policy
    from ppcti.tee.receipt import verify_receipt_dir
    from ppcti.tee.verify import SIMULATION_VERDICT

    body, _attestation = verify_receipt_dir(folder, policy=load_policy(policy) if policy else None)
    console = Console()
    if body.get("verdict") == SIMULATION_VERDICT:
        console.print(f"[bold white on red] {BANNER} [/]")
    console.print(
        f"receipt valid: session {body['session_id']}, {len(body['results'])} result files match, "
        f"upload sha256 {body['upload']['sha256']}, key destroyed at {body['session_key_destroyed_at']}"
        + ("" if policy else " (evidence binding checked; pass --policy to judge it)")
    )


@policy_app.command("init")
def policy_init_cmd(
    out: Path = typer.Option(Path("policy.yaml"), "--out", help="Where to write the policy."),
    simulation: bool = typer.Option(
        False, "--simulation", help="Accept this machine's simulation backend (development only)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented policy: allowed measurements, minimum SVN, debug, TCB statuses, age, nonce."""
    from ppcti.errors import ConfigError
    from ppcti.tee.backends import SIMULATED_MR_SIGNER, source_measurement
    from ppcti.tee.policy import policy_template

    if out.exists() and not force:
        raise ConfigError(f"{out} exists; pass --force to overwrite it")
    measurement = {"mr_enclave": source_measurement().hex(), "mr_signer": SIMULATED_MR_SIGNER.hex()}
    out.write_text(
        policy_template(simulation_measurement=measurement if simulation else None), encoding="utf-8"
    )
    typer.echo(
        f"policy → {out}" + (" (SIMULATION: accepts an enclave that is not one)" if simulation else "")
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tee_app, name="tee")
