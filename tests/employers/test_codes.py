"""统一社会信用代码: normalising and the GB 32100 checksum, against codes from domain-notes.md (d)."""

import pytest

from employers.codes import make_uscc, normalize_code, org_code_is_valid, org_code_of, uscc_is_valid
from tests.builders import make_employer

# Published codes whose checksum (and embedded 组织机构代码) is known to be valid.
KNOWN_VALID = [
    "91350200776049653A",
    "91350213678251743X",
    "9135021359498494XQ",
    "91440101MA5CJQ4N59",
    "123502001549897397",
]
# A real code that a source special-cases although it fails the USCC check.
KNOWN_INVALID = "91350203M0001QAY9B"


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_it_accepts_known_valid_codes(code):
    assert uscc_is_valid(code)
    assert org_code_is_valid(org_code_of(code))


def test_it_flags_the_known_invalid_code_but_its_org_code_passes():
    assert not uscc_is_valid(KNOWN_INVALID)
    assert org_code_is_valid("M0001QAY9")


@pytest.mark.parametrize(
    "code",
    [
        "91350200776049653B",  # wrong check character
        "9135020077604965",  # too short
        "91350200776049653AA",  # too long
        "9I350200776049653A",  # I is not in the character set
        "91ABCDEF776049653A",  # area code must be digits
    ],
)
def test_it_rejects_malformed_codes(code):
    assert not uscc_is_valid(code)


def test_it_normalises_full_width_spaces_hyphens_and_case():
    assert normalize_code("９１３５０２００７７６０４９６５３ａ") == "91350200776049653A"
    assert normalize_code(" 9135 0200-7760 4965 3a\n") == "91350200776049653A"


@pytest.mark.parametrize("placeholder", [None, "", "无", "/", "0", "暂无", " - "])
def test_it_treats_placeholders_as_no_code(placeholder):
    assert normalize_code(placeholder) == ""


def test_it_makes_codes_that_pass_both_checks():
    code = make_uscc("621024", "MA5CJQ4N")
    assert uscc_is_valid(code) and org_code_is_valid(org_code_of(code))


def test_it_saves_an_employer_with_its_code_normalised_and_checked(db):
    employer = make_employer(code=" 9135 0200 7760 4965 3a ")
    employer.refresh_from_db()
    assert employer.code == "91350200776049653A"
    assert employer.code_valid


def test_it_keeps_an_invalid_code_as_entered_and_flags_it(db):
    employer = make_employer(code=KNOWN_INVALID)
    employer.refresh_from_db()
    assert employer.code == KNOWN_INVALID
    assert not employer.code_valid
