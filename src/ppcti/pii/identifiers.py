"""Which national identity, tax and postal-code schemes the column detectors know, as data.

Kept apart from :mod:`ppcti.pii.detectors`, which turns these rows into detectors, so adding a country is
one line here. Checksums are python-stdnum's; the postal shapes follow the UPU's postal addressing
systems.
"""

from __future__ import annotations

from ppcti.pii import checks


def gender_pair(values: set[str]) -> bool:
    """Single-letter codes say "gender" only as a known pair (F/M, K/M, Ž/M ...): S/M/L sizes do not."""
    codes = sorted(v.strip().lower() for v in values)
    pairs = {str(p) for p in checks.vocab_pairs("gender")}
    return any(f"{a} {b}" in pairs for i, a in enumerate(codes) for b in codes[i + 1 :])


_EU_VAT_PREFIX = r"^(?i:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
#: National identity, social-security and tax numbers of the EU/EEA (and a few others) that
#: python-stdnum validates with their checksums: (name, types, stdnum module, prefilter, specificity).
#: Each is scored on its own (``pool=False``): a column must validate under one country's scheme, so a
#: column of random numbers cannot reach the threshold by passing a different checksum per value.
STDNUM_IDS: tuple[tuple[str, tuple[str, ...], str, str, float], ...] = (
    ("bg_egn", ("NATIONAL_ID",), "bg.egn", r"^\d{10}$", 0.9),
    ("cz_rc", ("NATIONAL_ID",), "cz.rc", r"^\d{6}/?\d{3,4}$", 0.9),
    ("dk_cpr", ("NATIONAL_ID",), "dk.cpr", r"^\d{6}-?\d{4}$", 0.85),
    ("ee_ik", ("NATIONAL_ID",), "ee.ik", r"^[1-6]\d{10}$", 0.9),
    ("lt_asmens", ("NATIONAL_ID",), "lt.asmens", r"^[1-6]\d{10}$", 0.9),
    ("fi_hetu", ("NATIONAL_ID",), "fi.hetu", r"^\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y]$", 1.0),
    ("gr_amka", ("NATIONAL_ID",), "gr.amka", r"^\d{11}$", 0.85),
    ("hr_oib", ("NATIONAL_ID", "TAX_ID"), "hr.oib", r"^(HR)?\d{11}$", 0.8),
    ("ie_pps", ("NATIONAL_ID",), "ie.pps", r"^\d{7}[A-Wa-w][A-IWa-iw]?$", 0.95),
    ("lv_pk", ("NATIONAL_ID",), "lv.pvn", r"^[0-3]\d{5}-?\d{5}$", 0.9),
    ("pl_pesel", ("NATIONAL_ID",), "pl.pesel", r"^\d{11}$", 0.9),
    ("pt_cc", ("NATIONAL_ID",), "pt.cc", r"^\d{8} ?\d ?[A-Za-z0-9]{2}\d$", 1.0),
    ("ro_cnp", ("NATIONAL_ID",), "ro.cnp", r"^[1-9]\d{12}$", 0.95),
    ("se_personnummer", ("NATIONAL_ID",), "se.personnummer", r"^(\d{2})?\d{6}[-+]?\d{4}$", 0.9),
    ("si_emso", ("NATIONAL_ID",), "si.emso", r"^\d{13}$", 0.9),
    ("be_nn", ("NATIONAL_ID",), "be.nn", r"^\d{2}\.?\d{2}\.?\d{2}[- ]?\d{3}\.?\d{2}$", 0.9),
    ("at_vnr", ("NATIONAL_ID",), "at.vnr", r"^\d{4} ?\d{6}$", 0.85),
    ("no_fodselsnummer", ("NATIONAL_ID",), "no.fodselsnummer", r"^\d{6} ?\d{5}$", 0.9),
    ("is_kennitala", ("NATIONAL_ID",), "is_.kennitala", r"^\d{6}-?\d{4}$", 0.85),
    ("ch_ssn", ("NATIONAL_ID",), "ch.ssn", r"^756\.?\d{4}\.?\d{4}\.?\d{2}$", 1.0),
    ("gb_nhs", ("NATIONAL_ID",), "gb.nhs", r"^\d{3}[ -]?\d{3}[ -]?\d{4}$", 0.8),
    ("eu_vat", ("TAX_ID",), "eu.vat", _EU_VAT_PREFIX + r"[ -]?[0-9A-Za-z+*. -]{7,14}$", 1.0),
    ("pl_nip", ("TAX_ID",), "pl.nip", r"^\d{3}-?\d{3}-?\d{2}-?\d{2}$|^\d{3}-\d{2}-\d{2}-\d{3}$", 0.8),
    ("pt_nif", ("TAX_ID",), "pt.nif", r"^\d{9}$", 0.75),
    ("it_iva", ("TAX_ID",), "it.iva", r"^\d{11}$", 0.75),
    ("gr_afm", ("TAX_ID",), "gr.vat", r"^\d{9}$", 0.75),
    ("at_tin", ("TAX_ID",), "at.tin", r"^\d{2}-?\d{3}/?\d{4}$", 0.8),
    ("fi_ytunnus", ("TAX_ID",), "fi.ytunnus", r"^\d{7}-\d$", 0.9),
    ("cz_dic", ("TAX_ID",), "cz.dic", r"^\d{8}$", 0.7),
    ("dk_cvr", ("TAX_ID",), "dk.cvr", r"^\d{8}$", 0.7),
    ("be_vat", ("TAX_ID",), "be.vat", r"^[01]\d{3}\.?\d{3}\.?\d{3}$", 0.8),
    ("ee_kmkr", ("TAX_ID",), "ee.kmkr", r"^\d{9}$", 0.7),
    ("fr_siren", ("TAX_ID",), "fr.siren", r"^\d{3} ?\d{3} ?\d{3}$", 0.7),
)


#: Postal codes whose written shape is distinctive enough to count without a header (Poland 00-000,
#: Portugal 0000-000, the Netherlands 0000 AA, Sweden, Greece, Czechia, Slovakia 000 00, Latvia LV-0000,
#: Lithuania LT-00000, Malta AAA 0000, the United Kingdom and Ireland's Eircode). Formats: UPU, Postal
#: addressing systems. Bare 4- or 5-digit codes stay weak (a header must support them).
POSTAL_SHAPED = (
    r"^(\d{2}-\d{3}|\d{4}-\d{3}|[1-9]\d{3} ?[A-Za-z]{2}|\d{3} \d{2}|(?i:LV)-\d{4}|(?i:LT)-\d{5}"
    r"|[A-Za-z]{3} ?\d{4}|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}"
    r"|[AC-FHKNPRTV-Ya-y]\d{2}[A-Za-z\d]? ?[0-9AC-FHKNPRTV-Yac-fhknprtv-y]{4})$"
)
