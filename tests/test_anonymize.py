"""Anonymizer: detection per kind, consistent placeholders, and the PII test set targets."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

import emosim.anonymize
from emosim.anonymize import ConversationAnonymizer, detect
from emosim.anonymize.evaluate import evaluate
from emosim.anonymize.lexicon import get_lexicon

PII = Path(__file__).parent / "data" / "pii"


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in detect(text)]


@pytest.fixture(scope="module")
def anonymizer() -> ConversationAnonymizer:
    return ConversationAnonymizer()


def test_structured_identifiers_are_found_and_checked():
    found = kinds(
        "SSN 219-09-9998, routing number 021000021, card 4111 1111 1111 1111, "
        "account number 00123456789, mail jo.ann@example.org, cell 312-555-0187."
    )
    assert ("national_id", "219-09-9998") in found
    assert ("routing", "021000021") in found
    assert ("card", "4111 1111 1111 1111") in found
    assert ("account", "00123456789") in found
    assert ("email", "jo.ann@example.org") in found
    assert ("phone", "312-555-0187") in found


def test_checksums_decide_the_kind():
    # a 16-digit number failing Luhn is no card; a 9-digit number failing ABA is no routing
    assert ("card", "4111 1111 1111 1112") not in kinds("card 4111 1111 1111 1112")
    assert kinds("my routing number is 021000022") == [("account", "021000022")]


def test_numbers_that_matter_are_kept():
    text = (
        "I'm 52, I owe $4,500 at 24.99% APR, we bought in 2014, between 2019-2021 I saved "
        "12k, my salary is 85000 dollars and taxes are due April 15. Bill collectors call. "
        "Will I retire? My 401(k) is at Fidelity and my Roth IRA at Charles Schwab."
    )
    assert detect(text) == []


def test_dates_are_dob_only_with_a_birth_cue():
    assert kinds("I was born on March 3, 1979.") == [("dob", "March 3, 1979")]
    assert kinds("The payment is due March 3, 2025.") == []


def test_addresses_and_urls():
    found = kinds("We live at 1234 Oak Street, Apt 4B, Springfield, IL 62704. See irs.gov/forms")
    assert found == [("address", "1234 Oak Street, Apt 4B, Springfield, IL 62704")]
    assert kinds("my page https://www.linkedin.com/in/jane-doe-42a") == [
        ("url", "https://www.linkedin.com/in/jane-doe-42a")
    ]


def test_placeholders_are_typed_and_consistent(anonymizer):
    result = anonymizer.anonymize(
        [
            ("client", "Hi, my name is Thandiwe Okafor. My husband Bill says hello."),
            ("advisor", "Thanks, Thandiwe. How does Bill feel? I'm Dana by the way."),
            ("client", "Thandiwe Okafor is on the account 12345678. Bill is fine, Dana."),
            ("advisor", "Good. Write to me at dana@example.com or call 312-555-0187."),
        ]
    )
    assert result.texts[0] == "Hi, my name is [CLIENT_NAME_1]. My husband [PERSON_2] says hello."
    assert (
        result.texts[1]
        == "Thanks, [CLIENT_NAME_1]. How does [PERSON_2] feel? I'm [ADVISOR_NAME_3] by the way."
    )
    assert (
        result.texts[2]
        == "[CLIENT_NAME_1] is on the account [ACCOUNT_1]. [PERSON_2] is fine, [ADVISOR_NAME_3]."
    )
    assert result.texts[3] == "Good. Write to me at [EMAIL_1] or call [PHONE_1]."
    assert result.counts()["name"] == 8


def test_generator_is_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location("pii_generate", PII / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.generate(tmp_path):
        assert path.read_text() == (PII / path.name).read_text(), f"{path.name} is stale"


def test_test_set_is_big_enough_and_covers_every_kind():
    for split in ("dev", "heldout"):
        convs = [json.loads(line) for line in (PII / f"{split}.jsonl").read_text().splitlines()]
        planted = [p for c in convs for p in c["pii"]]
        assert len(planted) >= 60
        assert {p["kind"] for p in planted} == {
            "name",
            "email",
            "phone",
            "address",
            "dob",
            "national_id",
            "account",
            "card",
            "routing",
            "url",
        }
        assert sum(len(c["negatives"]) for c in convs) >= 60
        for c in convs:
            for p in c["pii"] + c["negatives"]:
                assert c["turns"][p["turn"]]["text"][p["start"] : p["end"]] == p["value"]


def test_heldout_targets(anonymizer):
    """The held-out half (its own templates and value pools) was not used for tuning."""
    ev = evaluate(PII / "heldout.jsonl", anonymizer)
    assert ev.planted >= 60
    assert ev.recall >= 0.95, ev.misses
    assert ev.precision >= 0.90, ev.false_positives
    assert not ev.negatives_hit
    for kind, score in ev.kinds.items():
        assert score.planted > 0, kind
        assert score.precision >= 0.90, (kind, ev.false_positives)


# --- names of any origin (tests/data/names: 13 language groups, dev/test) ----------------------

NAMES = Path(__file__).parent / "data" / "names"


def _names_generator():
    spec = importlib.util.spec_from_file_location("names_generate", NAMES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_name_set_is_reproducible_and_its_names_are_in_no_list_of_the_detector(tmp_path):
    """The figures measure the method: no planted name is in a name list, lists.yaml phrase
    or word list the detector reads (a name there would be found by lookup, not by method)."""
    module = _names_generator()
    for path in module.generate(tmp_path):
        assert path.read_text() == (NAMES / path.name).read_text(), f"{path.name} is stale"
    lx = get_lexicon()
    lists_text = (Path(emosim.anonymize.__file__).parent / "data" / "lists.yaml").read_text()
    listed = lx.first_names | lx.last_names | lx.ambiguous | lx.not_name
    in_lists = []
    for firsts, lasts in module.GROUPS.values():
        for name in [n for half in firsts + lasts for n in half]:
            for word in name.split():
                if word.lower() in listed or re.search(rf"\b{re.escape(word)}\b", lists_text):
                    in_lists.append(name)
    assert in_lists == []
    assert len(module.GROUPS) >= 10


def test_name_test_split_targets(anonymizer):
    """Tuned on dev only; the test split (its own names and templates) holds the targets."""
    ev = evaluate(NAMES / "test.jsonl", anonymizer)
    names = ev.kinds["name"]
    assert names.planted >= 500
    assert names.recall >= 0.95, ev.misses
    assert ev.recall >= 0.95 and ev.precision >= 0.90, ev.false_positives
    assert ev.kept["amount"][1] == ev.kept["amount"][0]  # every amount kept
    seen, kept = map(sum, zip(*ev.kept.values(), strict=True))
    assert kept / seen >= 0.98, ev.negatives_hit
    assert ev.roles_right / ev.roles >= 0.95
    assert all(found / planted >= 0.70 for planted, found in ev.groups.values()), ev.groups


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hi, i'm wanjiku and my husband kiplagat handles the bills.", ["wanjiku", "kiplagat"]),
        ("Thanks so much, Oyelaran!", ["Oyelaran"]),
        ("My partner Dawit Haile and I moved from Addis Ababa to Springfield.", ["Dawit Haile"]),
        ("Szymon's salary covers rent; we shop at Costco for Diwali.", ["Szymon"]),
        ("Best, Nguyễn Thị Lan", ["Nguyễn Thị Lan"]),
        ("Adewale lost his job. Honestly, Rent went up.", ["Adewale"]),
    ],
)
def test_names_by_cue_and_shape_not_places_brands_or_holidays(text, names):
    assert [s.text for s in detect(text) if s.kind == "name"] == names


def test_a_place_is_not_the_advisor(anonymizer):
    result = anonymizer.anonymize(
        [
            ("client", "Hi, I'm Farida. We live in Springfield now, near Kraków Street."),
            ("advisor", "Welcome, Farida! Springfield is lovely. I'm Ayodele."),
            ("client", "thanks ayodele, farida here again."),
        ]
    )
    assert (
        result.texts[1] == "Welcome, [CLIENT_NAME_1]! Springfield is lovely. I'm [ADVISOR_NAME_2]."
    )
    assert result.texts[2] == "thanks [ADVISOR_NAME_2], [CLIENT_NAME_1] here again."
    assert "Springfield" in result.texts[0]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("My Honda Accord is paid off; I bank with Marcus by Goldman Sachs.", []),
        ("I work at Walgreens on Saturdays and Christmases are hard.", []),
        ("My son Chase wants a car, and Mr. Wise at Chase said no.", ["Chase", "Wise"]),
    ],
)
def test_brands_are_kept_unless_a_cue_names_a_person(text, names):
    assert [s.text for s in detect(text) if s.kind == "name"] == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Tyler thinks we should refinance; Mary and I agree.", ["Tyler", "Mary"]),
        ("I talked to Madison about it, she lives in Charlotte.", ["Madison"]),
        ("We moved from Lagos to Springfield, near Tyler.", []),
    ],
)
def test_first_names_that_are_also_towns_are_names_unless_a_place_cue_says(text, names):
    assert [s.text for s in detect(text) if s.kind == "name"] == names


def test_english_words_brands_and_interjections_stay():
    text = (
        "Honestly, Daycare is $1,200 a month. You're right that Venmo and DoorDash help. "
        "Awww ok. I've got 12k in a Roth IRA at Fidelity and we celebrate Eid in Queens."
    )
    assert [s for s in detect(text) if s.kind == "name"] == []


def test_eval_anonymization_command(cli, tmp_path):
    from emosim.cli import app

    result = cli.invoke(app, ["eval", "anonymization", str(NAMES / "test.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output).values()
    assert report["kinds"]["name"]["planted"] >= 500
    assert report["kinds"]["name"]["recall"] >= 0.95
    assert report["kept"]["amount"][0] == report["kept"]["amount"][1]
    assert len(report["names_found_per_origin"]) >= 10
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    result = cli.invoke(app, ["eval", "anonymization", str(bad)])
    assert result.exit_code != 0
    assert "bad.jsonl: not an answer key" in result.output
    assert "Traceback" not in result.output
