"""Generate the multicultural name test set: chats whose people have names from many origins.

    python tests/data/names/generate.py   # writes dev.jsonl and test.jsonl beside this file

Names come from 13 language groups (Chinese, Arabic, Yoruba/Igbo, Indian, Polish/Slavic,
Vietnamese, Korean/Japanese, Spanish/Portuguese, Turkish/Persian, East African,
Hebrew/Greek, Nordic/German, Filipino/Indonesian/Thai), as clients, spouses, children,
relatives and advisors; alone and with surnames; capitalised and in lower case (a third of
the clients write in lower case); introduced by cues and not (subjects, objects, "X and I",
possessives, sign-offs). Around them: places, brands, holidays, languages, ordinary
capitalised words and amounts that must be kept. A few contact details carry the names.

Every pool is split in two halves with their own templates: `dev` (for tuning) and `test`
(looked at only to report). No name here is in the detector's word lists (a test checks), so
the figures measure the method, not memorised names. Seeded: the same files every run.
Each line: {"id", "split", "turns": [{"speaker", "text"}], "pii": [{"turn", "start", "end",
"kind", "value", "role", "group"}], "negatives": [{"turn", "start", "end", "what", "value"}]}.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261207

# group -> (first names [dev, test], surnames [dev, test])
GROUPS: dict[str, tuple[list[list[str]], list[list[str]]]] = {
    "chinese": (
        [["Xiaoling", "Jianhua", "Zhiwei", "Yuting"], ["Haoran", "Meiling", "Xinyi", "Zihan"]],
        [["Zhou", "Xu", "Guo"], ["Zhao", "Qian", "Hou"]],
    ),
    "arabic": (
        [["Yousef", "Khadija", "Tariq", "Rania"], ["Hamza", "Nourhan", "Bilal", "Samiha"]],
        [["Barakat", "Mansour", "Al-Khatib"], ["Khalil", "Nasrallah", "Qasim"]],
    ),
    "yoruba_igbo": (
        [["Adebayo", "Folake", "Chidi", "Ngozi"], ["Temitope", "Emeka", "Yetunde", "Olumide"]],
        [["Adeleke", "Okonkwo", "Nwosu"], ["Balogun", "Ogunleye", "Eze"]],
    ),
    "indian": (
        [["Arjun", "Lakshmi", "Deepika", "Venkatesh"], ["Kavya", "Sanjay", "Anjali", "Harish"]],
        [["Iyer", "Gowda", "Patil"], ["Subramanian", "Chaudhary", "Bhattacharya"]],
    ),
    "polish_slavic": (
        [["Krzysztof", "Agnieszka", "Wojciech", "Małgorzata"], ["Grzegorz", "Katarzyna", "Bartosz", "Bożena"]],
        [["Wiśniewski", "Zielińska", "Szczepański"], ["Lewandowska", "Wójcik", "Kamiński"]],
    ),
    "vietnamese": (
        [["Khoa", "Quang", "Quynh", "Nhung"], ["Thuong", "Duc", "Khanh", "Hieu"]],
        [["Quach", "Dinh", "Kieu"], ["Tieu", "Giang", "Huu"]],
    ),
    "korean_japanese": (
        [["Jiwoo", "Minseo", "Haruto", "Yui"], ["Hyunwoo", "Seojun", "Takeshi", "Nozomi"]],
        [["Jeong", "Matsumoto", "Watanabe"], ["Baek", "Takahashi", "Kobayashi"]],
    ),
    "spanish_portuguese": (
        [["Joaquín", "Ximena", "Thiago", "Graça"], ["Wenceslao", "Itzel", "Iñaki", "Conceição"]],
        [["Fernández", "Azevedo", "Quintanilha"], ["Gutiérrez", "Rosário", "Arismendi"]],
    ),
    "turkish_persian": (
        [["Emre", "Zeynep", "Dariush", "Shirin"], ["Mehmet", "Elif", "Farhad", "Parisa"]],
        [["Yılmaz", "Rahimi", "Öztürk"], ["Demirci", "Tehrani", "Karimi"]],
    ),
    "east_african": (
        [["Wanjiru", "Otieno", "Tigist", "Baraka"], ["Njeri", "Kamau", "Achieng", "Abebe"]],
        [["Mwangi", "Kiprono", "Tesfaye"], ["Odhiambo", "Gebremedhin", "Wafula"]],
    ),
    "hebrew_greek": (
        [["Hadas", "Noam", "Dimitrios", "Xanthe"], ["Orly", "Eitan", "Stavros", "Efthymia"]],
        [["Mizrahi", "Papadopoulos", "Georgiou"], ["Ben-David", "Konstantinou", "Avraham"]],
    ),
    "nordic_german": (
        [["Solveig", "Bjørn", "Wiebke", "Jörg"], ["Åsa", "Torbjörn", "Henrike", "Ingvild"]],
        [["Ekström", "Schäfer", "Halvorsen"], ["Björklund", "Kräuter", "Søndergaard"]],
    ),
    "filipino_indonesian_thai": (
        [["Maricel", "Budi", "Somchai", "Wulan"], ["Bayani", "Siti", "Nattaya", "Dewi"]],
        [["Dimaculangan", "Wijaya", "Srisai"], ["Macaraeg", "Setiawan", "Chaiyaporn"]],
    ),
}  # fmt: skip

PLACES = [
    ["Springfield", "Lagos", "Mumbai", "Warsaw", "Guadalajara", "Toronto", "Houston", "Nairobi",
     "Seoul", "Manila", "Ohio", "Poland", "Vietnam", "Brooklyn", "Sacramento", "Dearborn"],
    ["Kraków", "Hanoi", "Tehran", "Istanbul", "Accra", "Karachi", "Lima", "Bogotá", "Phoenix",
     "Fresno", "Oakland", "Minneapolis", "Kenya", "Mexico", "Texas", "Queens"],
]  # fmt: skip
BRANDS = [
    ["Costco", "Target", "Walmart", "Amazon", "Uber", "Netflix", "Toyota", "Venmo", "Robinhood",
     "TurboTax", "Kroger", "Geico"],
    ["DoorDash", "Starbucks", "Zelle", "Coinbase", "Etsy", "Airbnb", "Lyft", "Verizon", "Honda",
     "Safeway", "Allstate", "Chipotle"],
]  # fmt: skip
HOLIDAYS = [
    ["Diwali", "Ramadan", "Christmas", "Lunar New Year"],
    ["Eid", "Nowruz", "Hanukkah", "Easter"],
]
LANGUAGES = [["Polish", "Mandarin", "Yoruba", "Arabic"], ["Tagalog", "Korean", "Farsi", "Swahili"]]
WORDS = [
    ["Honestly", "Groceries", "Daycare", "Tuition", "Rent", "Overtime"],
    ["Childcare", "Insurance", "Mortgage", "Payday", "Utilities", "Medicine"],
]  # fmt: skip
AMOUNTS = [
    ["$4,500", "$1,250 a month", "12k", "$38,000", "2,400 dollars", "$650"],
    ["$3,200", "$900 a month", "15k", "$52,500", "1,800 dollars", "$275"],
]  # fmt: skip
SPOUSE = [["wife", "husband", "partner"], ["husband", "wife", "fiancé"]]
CHILD = [["son", "daughter"], ["daughter", "son"]]
ELDER = [["mom", "father-in-law", "sister"], ["dad", "mother-in-law", "brother"]]
TITLES = [["Dr.", "Mr."], ["Mrs.", "Ms."]]
DOMAINS = [["gmail.com", "outlook.com"], ["yahoo.com", "icloud.com"]]

# Templates: {c}/{cf} client first/full, {r}/{rf} relative, {k} child, {a}/{af} advisor,
# {t} title + surname, {rel}/{kid}/{elder} relation words, {e} elder relative's name;
# negatives: {place} {place2} {brand} {holiday} {lang} {word} {amount} {email}.
T = {
    "intro": [
        ["Hi, I'm {cf}.", "Hello, my name is {c} and I need help.", "{c} here.",
         "Hi there, I am {cf} and this is my first time doing this."],
        ["Hey, this is {cf}.", "My name's {c}, nice to meet you.", "Good morning, {c} here.",
         "Hello! I'm {c} {place_lastname}"],
    ],
    "situation": [
        ["We moved from {place} to {place2} in 2019 and I owe {amount} on a card.",
         "{word} is killing us, we spend {amount} at {brand} alone.",
         "I drive for {brand} on weekends and it brings in {amount}."],
        ["We came to {place} from {place2} six years ago, and the car loan is {amount}.",
         "{word} went up again and I already owe {amount}.",
         "I do deliveries for {brand} at night, about {amount}."],
    ],
    "advisor_open": [
        ["Hi {c}, I'm {a}. Thanks for reaching out.", "Thanks for writing, {c}. My name is {af} and I'll be your planner.",
         "Welcome, {c}! I'm {a}, let's take a look together."],
        ["Hello {c}, {a} here, glad you wrote.", "Good to meet you, {c}. I'm {af}, a planner on the team.",
         "Hi {c}! This is {a}. Let's start wherever feels easiest."],
    ],
    "spouse": [
        ["My {rel} {r} and I both work at {brand}.", "my {rel} {rf} handles the bills.",
         "Me and my {rel}, {r}, have {amount} saved."],
        ["My {rel} {rf} thinks we're fine.", "It's just me and {r} now.",
         "{r} and I got married in {place} last year."],
    ],
    "relative_again": [
        ["{r} thinks we should pay off the car first.", "{r}'s salary is about {amount}.",
         "I haven't told {r} about the card yet."],
        ["{r}’s paycheck covers the rent.", "I talk to {r} about money every night.",
         "{r} keeps saying we should buy a house in {place}."],
    ],
    "advisor_reflect": [
        ["{c}, it sounds like you and {r} are a good team.", "That makes sense, {c}. {word} adds up fast.",
         "It helps that {r} is on board, {c}."],
        ["I hear you, {c}. It's a lot to carry.", "{c}, you and {r} have done more than you think.",
         "That's a fair worry, {c}, and {r}'s income helps."],
    ],
    "child": [
        ["Our {kid} {k} starts college next fall.", "my {kid} {k} is 7 and daycare is {amount}.",
         "We want {k} to learn {lang} like we did."],
        ["Our {kid}, {k}, wants to go to school in {place}.", "{k} is turning 12 in March.",
         "I still send money home so {k} can visit for {holiday}."],
    ],
    "elder": [
        ["My {elder} {e} lives with us since we left {place}.", "We also help {e} with her rent, {amount}.",
         "Dr. {surname} told my {elder} to stop working."],
        ["My {elder}, {e}, sends money back to {place}.", "{e} needs help with medicine, about {amount}.",
         "We saw {title} {title_surname} about my {elder} last week."],
    ],
    "contact": [
        ["You can email me at {email}.", "Send it to {email} please."],
        ["My email is {email}.", "Write to {email} anytime."],
    ],
    "advisor_relative": [
        ["Let's put {r}'s income next to yours.", "Does {r} have a 401(k) through {brand}?"],
        ["We can plan around {r}’s paycheck.", "Would {r} want to join the next call?"],
    ],
    "client_close": [
        ["Thanks so much, {a}!", "thank you {a}, this helps.", "Thank you {a}. - {c}"],
        ["Appreciate it, {a}.", "thanks {a}, talk soon", "Really helpful {a}, thanks. {c}"],
    ],
    "advisor_close": [
        ["You're welcome, {c}. Talk soon.", "Take care, {c}, and say hi to {r}. {a}"],
        ["Anytime, {c}. Happy early {holiday}!", "Glad to help, {c}. Best, {af}"],
    ],
}  # fmt: skip


class Builder:
    def __init__(self, cid: str, split: str):
        self.cid, self.split = cid, split
        self.turns: list[dict] = []
        self.pii: list[dict] = []
        self.negatives: list[dict] = []

    def turn(self, speaker: str) -> None:
        self.turns.append({"speaker": speaker, "text": ""})

    def add(self, template: str, slots: dict[str, tuple[str, dict]]) -> None:
        """Append `template` to the last turn; each {slot} is (value, annotation)."""
        t = self.turns[-1]
        text = t["text"] + (" " if t["text"] else "")
        cursor = 0
        for m in re.finditer(r"\{(\w+)\}", template):
            text += template[cursor : m.start()]
            value, note = slots[m.group(1)]
            start = len(text)
            text += value
            if note:
                item = {"turn": len(self.turns) - 1, "start": start, "end": len(text)}
                item["value"] = value
                (self.pii if "kind" in note else self.negatives).append({**item, **note})
            cursor = m.end()
        t["text"] = text + template[cursor:]

    def lowercase_turn(self) -> None:
        t, index = self.turns[-1], len(self.turns) - 1
        low = t["text"].lower()
        if len(low) != len(t["text"]):
            return
        t["text"] = low
        for item in self.pii + self.negatives:
            if item["turn"] == index:
                item["value"] = low[item["start"] : item["end"]]

    def dump(self) -> dict:
        return {
            "id": self.cid,
            "split": self.split,
            "turns": self.turns,
            "pii": self.pii,
            "negatives": self.negatives,
        }


def _person(rng: random.Random, half: int, group: str | None = None) -> tuple[str, str, str]:
    group = group or rng.choice(sorted(GROUPS))
    firsts, lasts = GROUPS[group]
    return rng.choice(firsts[half]), rng.choice(lasts[half]), group


def conversation(cid: str, split: str, half: int, rng: random.Random) -> dict:
    b = Builder(cid, split)
    client = _person(rng, half)
    # a spouse of the same origin most of the time, sometimes not
    partner = _person(rng, half, client[2] if rng.random() < 0.7 else None)
    while partner[0] == client[0]:
        partner = _person(rng, half, partner[2])
    kid = _person(rng, half, client[2] if rng.random() < 0.5 else partner[2])
    while kid[0] in (client[0], partner[0]):
        kid = _person(rng, half)
    elder = _person(rng, half, client[2])
    while elder[0] in (client[0], partner[0], kid[0]):
        elder = _person(rng, half)
    advisor = _person(rng, half)
    while advisor[0] in (client[0], partner[0], kid[0], elder[0]):
        advisor = _person(rng, half)
    lower = rng.random() < 0.33  # this client writes everything in lower case

    def name(person: tuple[str, str, str], role: str, full: bool = False) -> tuple[str, dict]:
        value = f"{person[0]} {person[1]}" if full else person[0]
        return value, {"kind": "name", "role": role, "group": person[2]}

    def neg(what: str, pool: list[list[str]]) -> tuple[str, dict]:
        return rng.choice(pool[half]), {"what": what}

    places = rng.sample(PLACES[half], 2)
    slots = {
        "c": name(client, "client"),
        "cf": name(client, "client", full=True),
        "r": name(partner, "other"),
        "rf": name(partner, "other", full=True),
        "k": name(kid, "other"),
        "e": name(elder, "other"),
        "a": name(advisor, "advisor"),
        "af": name(advisor, "advisor", full=True),
        "surname": (elder[1], {"kind": "name", "role": "other", "group": elder[2]}),
        "title": (rng.choice(TITLES[half]), {}),
        "title_surname": (
            advisor[1] if rng.random() < 0.5 else elder[1],
            {"kind": "name", "role": "other", "group": "title"},
        ),
        "place_lastname": (f"{client[1]}.", {}),
        "rel": (rng.choice(SPOUSE[half]), {}),
        "kid": (rng.choice(CHILD[half]), {}),
        "elder": (rng.choice(ELDER[half]), {}),
        "place": (places[0], {"what": "place"}),
        "place2": (places[1], {"what": "place"}),
        "brand": neg("brand", BRANDS),
        "holiday": neg("holiday", HOLIDAYS),
        "lang": neg("language", LANGUAGES),
        "word": neg("word", WORDS),
        "amount": neg("amount", AMOUNTS),
        "email": (
            f"{client[0].lower()}.{client[1].lower()}{rng.randint(1, 99)}@"
            f"{rng.choice(DOMAINS[half])}",
            {"kind": "email", "role": "client", "group": client[2]},
        ),
    }
    if slots["title_surname"][0] == elder[1]:
        slots["title_surname"][1]["group"] = elder[2]
    else:
        slots["title_surname"][1]["group"] = advisor[2]
    if not client[0].isascii() or not client[1].isascii():  # emails stay ASCII
        slots["email"] = (
            f"client{rng.randint(100, 999)}@{rng.choice(DOMAINS[half])}",
            {"kind": "email", "role": "client", "group": "none"},
        )
    # the surname of "Hello! I'm Name Surname." is the client's: annotate it as a name
    slots["place_lastname"] = (client[1], {"kind": "name", "role": "client", "group": client[2]})

    def say(speaker: str, *keys: str, p: float = 1.0) -> None:
        if b.turns and b.turns[-1]["speaker"] == speaker:
            pass
        else:
            b.turn(speaker)
        for key in keys:
            if rng.random() <= p:
                b.add(rng.choice(T[key][half]), slots)

    def end_client_turn() -> None:
        if lower:
            b.lowercase_turn()

    say("client", "intro", p=0.8)
    say("client", "situation")
    end_client_turn()
    say("advisor", "advisor_open")
    say("client", "spouse", "relative_again")
    end_client_turn()
    say("advisor", "advisor_reflect")
    say("client", "child")
    say("client", "elder")
    say("client", "contact", p=0.3)
    end_client_turn()
    say("advisor", "advisor_relative")
    say("client", "client_close")
    end_client_turn()
    say("advisor", "advisor_close")
    return b.dump()


def generate(out_dir: Path = HERE) -> list[Path]:
    rng = random.Random(SEED)
    written = []
    for half, split, count in ((0, "dev", 50), (1, "test", 50)):
        lines = [
            json.dumps(conversation(f"names-{split}-{i:03d}", split, half, rng), ensure_ascii=False)
            for i in range(count)
        ]
        path = out_dir / f"{split}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
