"""The PII ontology and the header vocabulary built from it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import rdflib
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rdflib.namespace import SKOS

from ppcti.errors import ConfigError
from ppcti.pii.vocabulary import (
    DPV_PD,
    FIXED_TYPE_IDS,
    PPII,
    header_tokens,
    load_vocabulary,
    normalise_header,
    ontology_graph,
    ontology_path,
)

#: DPV-PD terms checked against the published pd.ttl (w3c/dpv, pd/pd.ttl, 2024-05) that the ontology uses.
KNOWN_DPV_PD_TERMS = {
    "Name", "Gender", "Age", "Weight", "Language", "Nationality", "MaritalStatus", "BirthDate", "Country",
    "PhysicalAddress", "PostalCode", "EmailAddress", "IPAddress", "MACAddress", "TelephoneNumber",
    "CreditCardNumber", "BankAccount", "OfficialID", "Health", "PhysicalHealth", "Location", "LifeHistory",
    "ProfessionalCertification", "AccountIdentifier", "BrowsingBehavior", "Behavioral",
}  # fmt: skip

#: Synonyms deliberately shared by two categories (documented in docs/kg.md). None today.
#: Words two categories share on purpose: Polish "kraj" is a country, Czech, Slovak and Slovene "kraj" a
#: region or place; the values decide.
SHARED_SYNONYMS: set[str] = {"kraj"}

LANGUAGES = {"en", "de", "fr", "it", "es", "nl", "pt"}


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return ontology_graph()


def test_every_fixed_type_id_defined_exactly_once(onto):
    ids = Counter(str(o) for o in onto.objects(None, rdflib.URIRef(PPII + "typeId")))
    assert set(ids) == set(FIXED_TYPE_IDS)
    assert all(n == 1 for n in ids.values()), ids


def test_dpv_iris_are_real_dpv_pd_terms(vocab, onto):
    used = set()
    for pred in (SKOS.exactMatch, SKOS.closeMatch, rdflib.URIRef(PPII + "dpvParent"), rdflib.RDFS.subClassOf):
        for obj in onto.objects(None, pred):
            if str(obj).startswith(DPV_PD):
                used.add(str(obj).removeprefix(DPV_PD))
    assert used <= KNOWN_DPV_PD_TERMS, used - KNOWN_DPV_PD_TERMS
    for cat in vocab.categories.values():
        if cat.dpv_iri is not None:
            assert cat.dpv_iri.startswith(DPV_PD)
        # a class either maps to a DPV-PD term or specialises one: never floats free
        assert (cat.dpv_iri is None) != (cat.parent is None), cat.type_id


def test_labels_are_language_tagged_and_unique_per_category(onto):
    for cls in set(onto.subjects(rdflib.URIRef(PPII + "typeId"), None)):
        labels = [*onto.objects(cls, SKOS.prefLabel), *onto.objects(cls, SKOS.altLabel)]
        assert all(lbl.language in LANGUAGES for lbl in labels), cls
        normalised = Counter(normalise_header(str(lbl)) for lbl in labels)
        dupes = [s for s, n in normalised.items() if n > 1]
        assert not dupes, f"{cls}: {dupes}"
        assert "en" in {lbl.language for lbl in onto.objects(cls, SKOS.prefLabel)}, cls
        assert len({lbl.language for lbl in labels}) >= 4, cls


def test_no_synonym_shared_between_categories_unless_documented(vocab):
    owners = Counter(s for cat in vocab.categories.values() for s in cat.synonyms)
    assert {s for s, n in owners.items() if n > 1} == SHARED_SYNONYMS


def test_hierarchy_and_flags(vocab):
    cats = vocab.categories
    assert cats["NATIONAL_ID"].parent == "OfficialID"
    assert cats["TAX_ID"].parent == "OfficialID"
    assert cats["SMOKING_STATUS"].parent == "Health"
    assert cats["SMOKING_STATUS"].special_category
    assert not cats["MEDICAL_LICENSE"].special_category
    assert [t for t, c in cats.items() if c.special_category] == ["SMOKING_STATUS"]
    assert cats["EMAIL_ADDRESS"].dpv_iri == DPV_PD + "EmailAddress"
    assert cats["PHONE_NUMBER"].dpv_iri == DPV_PD + "TelephoneNumber"
    assert "luhn" in cats["CREDIT_CARD"].validators
    assert "stdnum:de.idnr" in cats["TAX_ID"].validators
    assert {"stdnum:us.ssn", "stdnum:fr.nir"} <= set(cats["NATIONAL_ID"].validators)
    for weak in ("AGE", "WEIGHT", "POSTAL_CODE", "BIRTH_DATE", "DECEASED_DATE"):
        assert cats[weak].header_required, weak
    for strong in ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS"):
        assert not cats[strong].header_required, strong
    assert cats["PERSON"].identifier_kind == "direct"
    assert cats["BIRTH_DATE"].identifier_kind == "quasi"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("dob", "BIRTH_DATE"), ("DOB", "BIRTH_DATE"), ("Geburtsdatum", "BIRTH_DATE"),
        ("date_naissance", "BIRTH_DATE"), ("dateOfBirth", "BIRTH_DATE"), ("fld_dob_x", "BIRTH_DATE"),
        ("Fecha de nacimiento", "BIRTH_DATE"), ("patient_birth_date", "BIRTH_DATE"),
        ("PLZ", "POSTAL_CODE"), ("zip_code", "POSTAL_CODE"), ("CAP", "POSTAL_CODE"),
        ("tin", "TAX_ID"), ("SteuerID", "TAX_ID"), ("codice_fiscale", "NATIONAL_ID"), ("CPF", "TAX_ID"),
        ("ssn", "NATIONAL_ID"), ("SSN_2", "NATIONAL_ID"), ("bsn", "NATIONAL_ID"),
        ("numéro de sécurité sociale", "NATIONAL_ID"),
        ("email2", "EMAIL_ADDRESS"), ("E-Mail", "EMAIL_ADDRESS"), ("e_mail_address", "EMAIL_ADDRESS"),
        ("src_ip", "IP_ADDRESS"), ("SrcIP", "IP_ADDRESS"), ("ipv6", "IP_ADDRESS"),
        ("Straße", "ADDRESS"), ("tel_nr", "PHONE_NUMBER"), ("Handynummer", "PHONE_NUMBER"),
        ("Geschlecht", "GENDER"), ("sexe", "GENDER"), ("état civil", "MARITAL_STATUS"),
        ("Raucher", "SMOKING_STATUS"), ("Staatsangehörigkeit", "NATIONALITY"), ("IBAN", "IBAN_CODE"),
        ("btc_wallet", "CRYPTO"), ("dea_number", "MEDICAL_LICENSE"), ("Sterbedatum", "DECEASED_DATE"),
        ("verstorben", "DECEASED"), ("fecha_defuncion", "DECEASED_DATE"), ("death_dt", "DECEASED_DATE"),
        ("birth_dt", "BIRTH_DATE"), ("timestamp", "DATE_TIME"), ("Wohnort", "LOCATION"),
        ("src_mac", "MAC_ADDRESS"),
    ],
)  # fmt: skip
def test_match_header_best_type(vocab, header, expected):
    matches = vocab.match_header(header)
    assert matches, header
    assert matches[0][0] == expected, matches


@pytest.mark.parametrize(
    "header", ["c_07", "col3", "message", "order_no", "guid", "sha256", "", "   ", "___", "x"]
)
def test_match_header_nothing_for_meaningless_headers(vocab, header):
    assert vocab.match_header(header) == []


def test_event_word_plus_date_word_names_the_event_date(vocab):
    assert vocab.date_of == {"DECEASED": "DECEASED_DATE"}
    scores = dict(vocab.match_header("death_dt"))
    assert scores["DECEASED_DATE"] > scores["DECEASED"] > scores["DATE_TIME"]
    # no date word: the status, not its date
    assert vocab.match_header("death")[0] == ("DECEASED", 1.0)
    assert "DECEASED_DATE" not in dict(vocab.match_header("dead_flag"))


def test_exact_beats_partial(vocab):
    assert vocab.match_header("date_of_birth")[0] == ("BIRTH_DATE", 1.0)
    partial = dict(vocab.match_header("fld_dob_x"))["BIRTH_DATE"]
    weaker = dict(vocab.match_header("host_name"))["PERSON"]
    assert 0.5 <= weaker < partial < 1.0


@pytest.mark.parametrize(
    ("header", "type_id"),
    [
        ("Płeć", "GENDER"), ("Data urodzenia", "BIRTH_DATE"), ("Kod pocztowy", "POSTAL_CODE"),
        ("Ημερομηνία γέννησης", "BIRTH_DATE"), ("Възраст", "AGE"), ("Syntymäaika", "BIRTH_DATE"),
        ("csaladi_allapot", "MARITAL_STATUS"), ("Státní příslušnost", "NATIONALITY"),
        ("Tālrunis", "PHONE_NUMBER"),
        ("adres_ulica", "ADDRESS"), ("Pasta indekss", "POSTAL_CODE"), ("Isikukood", "NATIONAL_ID"),
    ],
)  # fmt: skip
def test_headers_in_other_eu_languages_and_scripts(vocab, header, type_id):
    assert vocab.match_header(header)[0][0] == type_id
    assert vocab.match_header(header)[0][1] >= 0.8


def test_every_eu_language_names_every_personal_type():
    """data/headers.yaml covers the 24 official EU languages for the types people fill in on forms."""
    from importlib import resources

    import yaml

    data = yaml.safe_load(resources.files("ppcti.pii").joinpath("data/headers.yaml").read_text("utf-8"))
    eu = set(
        [
            "bg",
            "cs",
            "da",
            "de",
            "el",
            "en",
            "es",
            "et",
            "fi",
            "fr",
            "ga",
            "hr",
            "hu",
            "it",
            "lt",
            "lv",
            "mt",
            "nl",
            "pl",
            "pt",
            "ro",
            "sk",
            "sl",
            "sv",
        ]
    )
    types = ("PERSON", "GENDER", "AGE", "BIRTH_DATE", "ADDRESS", "POSTAL_CODE", "COUNTRY", "EMAIL_ADDRESS",
             "PHONE_NUMBER", "NATIONALITY", "MARITAL_STATUS", "NATIONAL_ID")  # fmt: skip
    for type_id in types:
        assert set(data[type_id]) >= eu, (type_id, eu - set(data[type_id]))


def test_every_synonym_matches_its_own_category_exactly(vocab):
    for cat in vocab.categories.values():
        for syn in cat.synonyms:
            if syn in SHARED_SYNONYMS:
                assert (cat.type_id, 1.0) in vocab.match_header(syn), (cat.type_id, syn)
                continue
            assert vocab.match_header(syn)[0] == (cat.type_id, 1.0), (cat.type_id, syn)


_onto = ontology_graph()
_labels = sorted(
    (str(o), str(o.language))
    for cls in _onto.subjects(rdflib.URIRef(PPII + "typeId"), None)
    for pred in (SKOS.prefLabel, SKOS.altLabel)
    for o in _onto.objects(cls, pred)
)


def _spellings(text: str) -> list[str]:
    words = text.split()
    camel = words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
    return [text.upper(), "_".join(words), "-".join(words), camel, ".".join(words), text + "2", text + "_3"]


def test_header_spelling_does_not_matter():
    """Every synonym of every category, written upper-case, snake/kebab/camel/dotted or numbered."""
    vocab = load_vocabulary()
    for text, _lang in _labels:
        expected = vocab.match_header(text)[0]
        for header in _spellings(text):
            assert vocab.match_header(header)[:1] == [expected], (text, header)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
@example("\u1d2c")  # decomposes to a capital: the form must not change when taken twice
def test_match_header_total_and_ordered(header):
    vocab = load_vocabulary()
    matches = vocab.match_header(header)
    scores = [s for _, s in matches]
    assert all(0 < s <= 1 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len({t for t, _ in matches}) == len(matches)
    assert normalise_header(normalise_header(header)) == normalise_header(header)
    assert all(t.isalnum() and t == t.casefold() for t in header_tokens(header))


def test_add_synonyms_extends_and_does_not_leak():
    vocab = load_vocabulary()
    assert vocab.match_header("kundennr_intern") == []
    vocab.add_synonyms("PERSON", ["Kunden Name"])
    vocab.add_synonyms("LOYALTY_CARD", ["Kundennr intern", "loyalty card"])
    assert vocab.match_header("kunden_name")[0] == ("PERSON", 1.0)
    assert vocab.match_header("KundennrIntern")[0] == ("LOYALTY_CARD", 1.0)
    assert vocab.categories["LOYALTY_CARD"].iri == PPII + "LoyaltyCard"
    fresh = load_vocabulary()
    assert "LOYALTY_CARD" not in fresh.categories
    assert all(score < 1.0 for _, score in fresh.match_header("kunden_name"))


def test_extra_ttl_adds_categories_and_synonyms(tmp_path: Path):
    extra = tmp_path / "extra.ttl"
    extra.write_text(
        "@prefix ppii: <https://w3id.org/ppcti/pii#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        'ppii:EmployeeId ppii:typeId "EMPLOYEE_ID" ; skos:prefLabel "Employee ID"@en ;\n'
        '    skos:altLabel "Personalnummer"@de ; ppii:headerRequired true ;\n'
        '    ppii:validator "regex:E\\\\d{6}" .\n'
        'ppii:Person skos:altLabel "Mitarbeiter"@de .\n',
        encoding="utf-8",
    )
    vocab = load_vocabulary(extra)
    assert vocab.match_header("personalnummer")[0] == ("EMPLOYEE_ID", 1.0)
    assert vocab.categories["EMPLOYEE_ID"].header_required
    assert vocab.categories["EMPLOYEE_ID"].validators == ("regex:E\\d{6}",)
    assert vocab.match_header("Mitarbeiter")[0] == ("PERSON", 1.0)
    assert "EMPLOYEE_ID" not in load_vocabulary().categories


def test_extra_ttl_errors_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_vocabulary(tmp_path / "missing.ttl")
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle <<<", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid Turtle") as info:
        load_vocabulary(bad)
    assert info.value.file == str(bad)


def test_ontology_also_parses_with_pyoxigraph():
    import pyoxigraph

    store = pyoxigraph.Store()
    store.load(ontology_path().read_bytes(), pyoxigraph.RdfFormat.TURTLE)
    ids = {q.object.value for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(PPII + "typeId"), None)}
    assert ids == set(FIXED_TYPE_IDS)


def test_package_exports_what_it_declares():
    import ppcti.kg

    for name in ppcti.kg.__all__:
        assert getattr(ppcti.kg, name) is not None, name
    with pytest.raises(AttributeError):
        _ = ppcti.kg.no_such_name
