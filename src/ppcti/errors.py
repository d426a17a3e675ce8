"""The error tree of ppcti.

Every error a user can cause derives from :class:`PpctiError`, so the CLI and the API can catch one
class, print its message and map it to an exit code or HTTP status without a traceback::

    PpctiError                      exit 2 / HTTP 400
    ├── ConfigError                 bad settings, profile or mapping file
    ├── InputRefused                the upload as a whole cannot be processed (exit 3 / HTTP 422)
    │   └── ArchiveRefused          a hostile or over-limit archive member (carries `member`)
    ├── FormatError                 a file or line that no parser can use (carries `file`, `line`)
    ├── MissingExtra                an optional dependency group is not installed
    ├── FHEError                    bad, mismatched or corrupt FHE key, query, blacklist or result file
    │   └── UnknownBlacklist        a correlation request names a blacklist the service lacks (HTTP 404)
    ├── BusError                    Kafka broker unreachable or a message not delivered
    ├── EnrichError                 a reputation service failed (carries `service`, `kind`; HTTP 502)
    ├── TaxiiError                  TAXII server unreachable, refusing, or failing objects (HTTP 502)
    └── TeeError                    trusted-execution service: a refusal, a broken session or receipt
        └── AttestationRefused      the service's evidence does not satisfy the policy (exit 4)

:mod:`ppcti.exits` is the one place that turns these (and usage errors, signals and bugs) into exit codes
and printed messages: 0 done, 1 internal error, 2 usage or configuration, 3 input refused, 4 attestation
refused, 130/143 interrupted by SIGINT/SIGTERM.

Messages never contain raw values from the input: they name files, lines, columns and reasons, which is
what a user needs to fix the input, and nothing that could leak personal data into logs.
"""

from __future__ import annotations


class PpctiError(Exception):
    """Base of all errors ppcti raises on purpose."""

    exit_code: int = 2
    http_status: int = 400

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        return f"{where}{self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as its attributes, not its constructor's arguments (which differ per subclass), so an
        # error raised in a worker process arrives whole in the parent (ppcti.pipeline.parallel).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[PpctiError], args: tuple[object, ...], state: dict[str, object]) -> PpctiError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(PpctiError):
    """A setting, profile, mapping or rules file is invalid."""


class InputRefused(PpctiError):
    """Nothing could be processed: the upload is refused as a whole."""

    exit_code = 3
    http_status = 422


class ArchiveRefused(InputRefused):
    """An archive member is hostile or over a limit."""

    def __init__(self, message: str, *, member: str, file: str | None = None) -> None:
        self.member = member
        super().__init__(f"member {member!r} refused: {message}", file=file)


class FormatError(PpctiError):
    """A file or line that no parser can use."""


class MissingExtra(PpctiError):
    """An optional dependency group is needed for this feature."""

    def __init__(self, extra: str, feature: str) -> None:
        super().__init__(f"{feature} needs the optional dependencies: pip install 'ppcti[{extra}]'")
        self.extra = extra


class FHEError(PpctiError):
    """An FHE key, query, blacklist or result file is wrong, mismatched or corrupt."""


class UnknownBlacklist(FHEError):
    """A correlation request names a blacklist the service does not hold."""

    http_status = 404


class BusError(PpctiError):
    """The Kafka broker could not be reached or a message was not delivered."""

    http_status = 503


class TeeError(PpctiError):
    """The trusted-execution service refused a request, or a session, seal or receipt is broken."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        if http_status is not None:
            self.http_status = http_status


class AttestationRefused(TeeError):
    """The service's evidence does not satisfy the client's policy: nothing is sent to it."""

    exit_code = 4
    http_status = 403

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("attestation refused: " + "; ".join(reasons))


class EnrichError(PpctiError):
    """A reputation service refused or failed a lookup; ``kind`` says how (auth, quota, rate, timeout...).

    Raised inside the enrichment engine, which counts it per service and goes on with the others; the
    message names the service and the kind only, never the value looked up nor the key.
    """

    http_status = 502

    def __init__(
        self, service: str, kind: str, message: str = "", *, retry_after: float | None = None
    ) -> None:
        self.service = service
        self.kind = kind
        self.retry_after = retry_after
        super().__init__(f"{service}: {kind}" + (f" ({message})" if message else ""))


class TaxiiError(PpctiError):
    """The TAXII server could not be reached, refused the request or failed objects."""

    http_status = 502
