"""Generate the synthetic PII test set: conversations with planted identifiers and answer keys.

    python tests/data/pii/generate.py   # writes dev.jsonl and heldout.jsonl beside this file

Every value is invented (names drawn from small pools, numbers random with valid checksums).
The templates and value pools of each kind are split in two: `dev` (what the anonymizer was
tuned on) and `heldout` (never looked at while tuning; one test holds the targets on it).
Each line: {"id", "split", "turns": [{"speaker", "text"}], "pii": [{"turn", "start", "end",
"kind", "value"}], "negatives": [{"turn", "start", "end", "what", "value"}]}.
Seeded: the same files every run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240611

# --- value pools (two halves each: dev / heldout) ---------------------------------------------

FIRST = [
    ["Sarah", "Michael", "Jennifer", "David", "Linda", "Robert", "Patricia", "James", "Aisha",
     "Thandiwe", "Carlos", "Mei", "Dmitri", "Keisha", "Brian", "Olivia"],
    ["Karen", "Thomas", "Nancy", "Kevin", "Deborah", "Steven", "Oluwaseun", "Xiomara", "Tyrone",
     "Siobhan", "Rahul", "Anh", "Gregory", "Melissa", "Jorge", "Hannah"],
]  # fmt: skip
LAST = [
    ["Miller", "Okafor", "Kowalczyk", "Henderson", "Nakashima", "Abernathy", "Rodriguez", "Chen",
     "Fitzgerald", "Baptiste", "Lindqvist", "Washington"],
    ["Thompson", "Adeyemi", "Przybylski", "Castellanos", "Yamamoto", "Whitaker", "Delacroix",
     "Nguyen", "Oyelaran", "Sorensen", "Harrington", "Mbeki"],
]  # fmt: skip
AMBIGUOUS = [["Bill", "May", "Grace", "Mark"], ["Will", "Hope", "Frank", "Rose"]]
RELATIONS = [["husband", "sister", "son", "boss", "friend"], ["wife", "brother", "daughter", "landlord", "neighbor"]]  # fmt: skip
STREETS = [["Oak", "Maple", "Willow Creek", "Lincoln", "Sunset"], ["Cedar", "Birch Hollow", "Jefferson", "Magnolia", "Harbor View"]]  # fmt: skip
SUFFIXES = [["Street", "Avenue", "Drive", "Ln", "Court"], ["Road", "Blvd", "Way", "St.", "Place"]]
CITIES = [
    [("Springfield", "IL", "627"), ("Columbus", "OH", "432"), ("Tucson", "AZ", "857")],
    [("Raleigh", "NC", "276"), ("Boise", "ID", "837"), ("Dayton", "OH", "454")],
]
AREA = [["312", "617", "415", "713", "206"], ["404", "303", "602", "919", "512"]]
DOMAINS = [["gmail.com", "yahoo.com", "outlook.com"], ["hotmail.com", "icloud.com", "aol.com"]]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip

# --- templates: {v} is the planted value; two halves per kind --------------------------------

T = {
    "self_intro": [
        ["Hi, my name is {v} and I need some help.", "Hello, I'm {v}. I found you through a friend."],
        ["Hey there, this is {v}. I have a question about money.", "My name's {v}, and honestly I'm a bit lost."],
    ],
    "vocative": [
        ["Thanks for sharing that, {v}.", "Hi {v}, I'm glad you reached out."],
        ["That makes a lot of sense, {v}.", "Hello {v}, thank you for telling me."],
    ],
    "relation": [
        ["My {rel} {v} keeps telling me not to worry.", "I talked to my {rel}, {v}, last night."],
        ["Honestly my {rel} {v} handles most of this.", "It was my {rel} {v} who told me to call you."],
    ],
    "third_person": [
        ["{v} said the payment would go through on Friday.", "I asked {v} about it twice."],
        ["Then {v} called the bank for me.", "I don't think {v} understands how stressed I am."],
    ],
    "title": [
        ["Our lawyer, Mr. {v}, wants the papers by next week.", "Dr. {v} said I should cut back on stress."],
        ["Mrs. {v} from the credit union was really kind.", "I spoke with Ms. {v} at the bank."],
    ],
    "email": [
        ["You can email me at {v} if that's easier.", "My email is {v}."],
        ["Send the worksheet to {v} please.", "Write to me at {v} anytime."],
    ],
    "phone": [
        ["My cell is {v}, call after five.", "You can reach me at {v}."],
        ["Text me at {v} if anything changes.", "My number is {v}."],
    ],
    "address": [
        ["We live at {v}, so the house is in both names.", "Mail it to {v} please."],
        ["My address is {v}.", "The rental is at {v} and the roof leaks."],
    ],
    "dob": [
        ["I was born on {v}, if that matters for the plan.", "My date of birth is {v}."],
        ["DOB: {v}.", "My birthday is {v}, so I'm older than I feel."],
    ],
    "ssn": [
        ["My SSN is {v}, do you need it for the form?", "The form asks for my social security number, it's {v}."],
        ["My social is {v}.", "Here's my Social Security number: {v}."],
    ],
    "national_id": [
        ["My passport number is {v} in case you need ID.", "Driver's license number {v}."],
        ["They asked for my driver's license: {v}.", "Passport {v}, it expires next year."],
    ],
    "account": [
        ["My checking account number is {v}.", "The loan number on the letter is {v}."],
        ["Account #{v} is the one that's overdrawn.", "My policy number is {v}."],
    ],
    "card": [
        ["The card they charged was {v}.", "My Visa is {v} and it's maxed out."],
        ["I pay everything with my credit card {v}.", "Card number {v}, the one with the high rate."],
    ],
    "routing": [
        ["The routing number is {v} for direct deposit.", "Routing {v}, account is at the credit union."],
        ["My bank's routing number is {v}.", "For the transfer they need ABA {v}."],
    ],
    "url": [
        ["Here is my profile: {v}", "My sister set up a fundraiser at {v} for the medical bills."],
        ["You can see my page at {v}.", "I pay people back through {v}."],
    ],
}  # fmt: skip

# Sentences with no PII that an anonymizer could get wrong; what / value of each trap.
NEGATIVES = [
    [
        ("amount", "I owe {v} on two cards.", "$4,500"),
        ("amount", "We pay {v} a month in rent.", "1,850 dollars"),
        ("amount", "The house is worth about {v}.", "$312,000"),
        ("age", "I'm {v} and I feel behind.", "52"),
        ("age", "My dad is {v} years old now.", "78"),
        ("rate", "The card charges {v} APR.", "24.99%"),
        ("rate", "The mortgage rate is {v} percent.", "6.875"),
        ("year", "We bought the house in {v}.", "2014"),
        ("year", "I've been at my job since {v}.", "1998"),
        ("month", "My bonus usually comes in {v}.", "May"),
        ("bill", "{v} collectors keep calling me at work.", "Bill"),
        ("will", "{v} I ever be able to retire?", "Will"),
        ("org", "My 401(k) is with {v}.", "Fidelity"),
        ("org", "We bank at {v}.", "Wells Fargo"),
        ("product", "Should I open a {v}?", "Roth IRA"),
        ("program", "When should I claim {v}?", "Social Security"),
        ("form", "I filled out a new {v} at work.", "W-4"),
        ("date", "Taxes are due {v}.", "April 15"),
        ("count", "We have {v} kids and one income.", "3"),
        ("amount", "My salary is {v}.", "85000 dollars"),
    ],
    [
        ("amount", "The collection notice says {v}.", "$2,340.17"),
        ("amount", "We put away {v} so far.", "12k"),
        ("amount", "The loan was {v} originally.", "$48,000"),
        ("age", "I turned {v} last month.", "61"),
        ("age", "Our daughter is {v}.", "16"),
        ("rate", "My savings earn {v}.", "4.25%"),
        ("rate", "They said my rate would go up {v} percent.", "2"),
        ("year", "My husband passed in {v}.", "2019"),
        ("year", "Between {v} I didn't save at all.", "2019-2021"),
        ("month", "I get paid in {v} and December.", "June"),
        ("bill", "The {v} from the hospital was huge.", "Bill"),
        ("will", "Do I need a {v} if I don't own a house?", "will"),
        ("org", "My card is a {v} card.", "Chase"),
        ("org", "My student loans are through {v}.", "Sallie Mae"),
        ("product", "My brother said to look at {v}.", "Vanguard"),
        ("grace", "Is there a {v} on the payment?", "grace period"),
        ("form", "I have to file {v} this year.", "Form 1040"),
        ("hope", "{v} this isn't a silly question.", "Hope"),
        ("count", "I work {v} hours a week.", "60"),
        ("zip_like", "I spent {v} on groceries last year.", "11250 dollars"),
    ],
]  # fmt: skip

FILLER = [
    "I've been losing sleep over this.",
    "I'm not sure where to even start.",
    "That's a fair question.",
    "Let's take this one step at a time.",
    "I feel a little embarrassed asking.",
    "What feels most urgent to you right now?",
]


# --- value makers --------------------------------------------------------------------------


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def aba(rng: random.Random) -> str:
    while True:
        body = f"{rng.choice(['0', '1', '2', '3'])}{rng.randint(1, 9)}" + "".join(
            rng.choice("0123456789") for _ in range(6)
        )
        for check in range(10):
            d = [int(c) for c in body + str(check)]
            if (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0:
                return body + str(check)


def make_value(kind: str, half: int, rng: random.Random, person: tuple[str, str]) -> str:
    first, last = person
    if kind == "email":
        style = rng.choice(["{f}.{l}", "{f}{l}{n}", "{fi}{l}", "{l}.{f}{n}"])
        local = style.format(
            f=first.lower(), l=last.lower(), fi=first[0].lower(), n=rng.randint(1, 99)
        )
        return f"{local}@{rng.choice(DOMAINS[half])}"
    if kind == "phone":
        a, b, c = rng.choice(AREA[half]), rng.randint(201, 989), rng.randint(1000, 9999)
        fmt = rng.choice(
            [
                "({a}) {b}-{c}",
                "{a}-{b}-{c}",
                "{a}.{b}.{c}",
                "{a}{b}{c}",
                "+1 {a} {b} {c}",
                "1-{a}-{b}-{c}",
            ]
        )
        return fmt.format(a=a, b=b, c=c)
    if kind == "address":
        street = f"{rng.randint(12, 9876)} {rng.choice(STREETS[half])} {rng.choice(SUFFIXES[half])}"
        if rng.random() < 0.3:
            street += rng.choice([", Apt 4B", ", Unit 12", " #7", ", Suite 210"])
        if rng.random() < 0.6:
            city, st, z = rng.choice(CITIES[half])
            street += f", {city}, {st} {z}{rng.randint(10, 99)}"
        if rng.random() < 0.15:
            street = street.lower()
        return street
    if kind == "dob":
        y, m, d = rng.randint(1940, 2002), rng.randint(1, 12), rng.randint(1, 28)
        fmt = rng.choice(
            [
                "{m}/{d}/{y}",
                "{M} {d}, {y}",
                "{d} {M} {y}",
                "{y}-{mm}-{dd}",
                "{m}/{d}/{yy}",
                "{M} {o}",
            ]
        )
        o = f"{d}{'th' if 10 < d < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"
        return fmt.format(
            m=m, d=d, y=y, M=MONTHS[m - 1], mm=f"{m:02d}", dd=f"{d:02d}", yy=f"{y % 100:02d}", o=o
        )
    if kind == "ssn":
        area = rng.choice([rng.randint(1, 665), rng.randint(667, 899)])
        a, g, s = f"{area:03d}", f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}"
        return rng.choice([f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}{g}{s}"])
    if kind == "national_id":
        if rng.random() < 0.5:
            return str(rng.randint(100000000, 999999999))
        return rng.choice("ABDFGKMS") + str(rng.randint(1000000, 9999999))
    if kind == "account":
        n = rng.randint(8, 12)
        return "".join(rng.choice("0123456789") for _ in range(n))
    if kind == "card":
        prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("6011", 16), ("37", 15)])
        number = luhn_complete(prefix, length, rng)
        sep = rng.choice([" ", "-", ""])
        if length == 16:
            return sep.join(number[i : i + 4] for i in range(0, 16, 4))
        return sep.join([number[:4], number[4:10], number[10:]])
    if kind == "routing":
        return aba(rng)
    if kind == "url":
        fl, ll = first.lower(), last.lower()
        return rng.choice(
            [
                f"https://www.linkedin.com/in/{fl}-{ll}-{rng.randint(100, 999)}a",
                f"https://venmo.com/u/{first}-{last}",
                f"https://www.facebook.com/{fl}.{ll}.{rng.randint(10, 99)}",
                f"https://www.gofundme.com/f/help-{fl}-{ll}-with-medical-bills",
                f"https://portal.mybank-online.com/accounts?id={rng.randint(10**7, 10**8)}",
                f"www.instagram.com/{fl}_{ll}{rng.randint(1, 99)}",
            ]
        )
    raise ValueError(kind)


# --- conversation builder -----------------------------------------------------------------


class Builder:
    def __init__(self, cid: str, split: str):
        self.cid, self.split = cid, split
        self.turns: list[dict] = []
        self.pii: list[dict] = []
        self.negatives: list[dict] = []

    def turn(self, speaker: str) -> None:
        self.turns.append({"speaker": speaker, "text": ""})

    def add(self, template: str, value: str, kind: str | None, what: str = "", **fmt: str) -> None:
        t = self.turns[-1]
        prefix = t["text"] + (" " if t["text"] else "")
        before, _, after = template.format(v="\0", **fmt).partition("\0")
        start = len(prefix) + len(before)
        t["text"] = prefix + before + value + after
        item = {
            "turn": len(self.turns) - 1,
            "start": start,
            "end": start + len(value),
            "value": value,
        }
        if kind:
            self.pii.append({**item, "kind": kind})
        else:
            self.negatives.append({**item, "what": what})

    def filler(self, rng: random.Random) -> None:
        self.add("{v}", rng.choice(FILLER), None, "filler")
        self.negatives.pop()

    def dump(self) -> dict:
        return {
            "id": self.cid,
            "split": self.split,
            "turns": self.turns,
            "pii": self.pii,
            "negatives": self.negatives,
        }


KIND_OF = {"ssn": "national_id"}
NUMBER_KINDS = [
    "email",
    "phone",
    "address",
    "dob",
    "ssn",
    "national_id",
    "account",
    "card",
    "routing",
    "url",
]


def conversation(cid: str, split: str, half: int, rng: random.Random) -> dict:
    b = Builder(cid, split)
    client = (rng.choice(FIRST[half]), rng.choice(LAST[half]))
    other = (rng.choice([f for f in FIRST[half] if f != client[0]]), rng.choice(LAST[half]))
    kinds = rng.sample(NUMBER_KINDS, 3)
    negatives = rng.sample(NEGATIVES[half], 3)
    full = rng.random() < 0.5

    def pick(key: str) -> str:
        return rng.choice(T[key][half])

    # client opens, sometimes introducing themself
    b.turn("client")
    if rng.random() < 0.7:
        b.add(pick("self_intro"), f"{client[0]} {client[1]}" if full else client[0], "name")
    b.filler(rng)
    b.add(negatives[0][1], negatives[0][2], None, negatives[0][0])
    b.turn("advisor")
    b.add(pick("vocative"), client[0], "name")
    b.filler(rng)
    b.turn("client")
    if rng.random() < 0.5:
        b.add(pick("relation"), other[0], "name", rel=rng.choice(RELATIONS[half]))
        b.add(pick("third_person"), other[0], "name")
    else:
        amb = rng.choice(AMBIGUOUS[half])
        b.add(pick("relation"), amb, "name", rel=rng.choice(RELATIONS[half]))
    b.add(negatives[1][1], negatives[1][2], None, negatives[1][0])
    b.add(pick(kinds[0]), make_value(kinds[0], half, rng, client), KIND_OF.get(kinds[0], kinds[0]))
    b.turn("advisor")
    b.filler(rng)
    b.turn("client")
    b.add(pick("title"), rng.choice(LAST[half]), "name")
    b.add(pick(kinds[1]), make_value(kinds[1], half, rng, client), KIND_OF.get(kinds[1], kinds[1]))
    b.add(negatives[2][1], negatives[2][2], None, negatives[2][0])
    b.add(pick(kinds[2]), make_value(kinds[2], half, rng, client), KIND_OF.get(kinds[2], kinds[2]))
    b.turn("advisor")
    b.add(pick("vocative"), client[0], "name")
    b.filler(rng)
    return b.dump()


def generate(out_dir: Path = HERE) -> list[Path]:
    rng = random.Random(SEED)
    written = []
    for half, split, count in ((0, "dev", 40), (1, "heldout", 40)):
        lines = [
            json.dumps(conversation(f"pii-{split}-{i:03d}", split, half, rng)) for i in range(count)
        ]
        path = out_dir / f"{split}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
