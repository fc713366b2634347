"""A scenario's situation in the client's own voice.

Scenario files describe the client in the third person ("He has about $9,400 sitting in
checking"); the client tells it in the first person over the first turns. The rewrite changes
only the client's own name and pronouns (and the verbs that agree with them), so every figure
reaches the conversation exactly as the scenario states it.
"""

from __future__ import annotations

import re

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“$])")
_OBJECT_BEFORE = re.compile(
    r"\b(?:left|pushed|told|asked|gave|helped|made|sent|let|leaves|pushes|tells|asks|gives|"
    r"helps|makes|sends|lets|for|to|with|from|of|by|about|at|on|like|than|toward|behind)\s+$",
    re.IGNORECASE,
)
_COORDINATED = frozenset(
    {
        "has",
        "is",
        "does",
        "wants",
        "expects",
        "comes",
        "needs",
        "feels",
        "worries",
        "hopes",
        "knows",
        "keeps",
        "sends",
        "owes",
        "plans",
        "wonders",
        "fears",
        "thinks",
        "believes",
        "says",
        "admits",
        "avoids",
        "sees",
        "gets",
        "pays",
        "earns",
        "makes",
        "asks",
        "doesn't",
        "doesn’t",
        "hasn't",
        "hasn’t",
        "isn't",
        "isn’t",
        "would",
    }
)
_IRREGULAR = {
    "has": "have",
    "is": "am",
    "does": "do",
    "doesn't": "don't",
    "doesn’t": "don’t",
    "isn't": "am not",
    "isn’t": "am not",
    "hasn't": "haven't",
    "hasn’t": "haven’t",
    "was": "was",
    "goes": "go",
    "'s": "'m",
}
# words ending in s after a subject that are not verbs in the third person
_NOT_VERBS = frozenset(
    {"always", "also", "has", "was", "is", "its", "this", "thus", "less", "just"}
)
_ADVERBS = frozenset(
    {
        "also",
        "still",
        "never",
        "already",
        "just",
        "now",
        "recently",
        "finally",
        "often",
        "only",
        "really",
        "always",
        "rarely",
        "usually",
        "barely",
        "quietly",
        "secretly",
        "suddenly",
    }
)
_PRONOUNS = {
    "he": ("he", "him", "his", "himself"),
    "she": ("she", "her", "her", "herself"),
    "they": ("they", "them", "their", "themselves"),
}


# verbs whose "her" before an amount or a noun phrase is the one receiving: "left her $62,000"
_GIVING = (
    r"left|leaves|leaving|gave|gives|giving|sent|sends|owes|owed|paid|pays|lent|lends|"
    r"offered|offers|promised|promises|handed|hands|charged|charges|cost|costs|billed|bills|"
    r"refunded|sold|showed|told|tells|wired|willed|bequeathed"
)
# "my sister thinks ... their mother": once a sibling is named, a shared parent is "our"
_SIBLINGS_PARENT = re.compile(
    r"(\bmy (?:sister|brother|siblings|sisters|brothers)\b[^.!?]*?\b)their"
    r"(\s+(?:mother|father|mom|dad|mum|parents|grandmother|grandfather|grandparents|family)\b)",
    re.IGNORECASE,
)


# plural people a "their" may point back to; without one, "their" with a named person is "our"
_PLURAL_REFERENT = re.compile(
    r"\b(?:children|kids|parents|sons|daughters|grandchildren|grandkids|siblings|friends|"
    r"people|they|them|both|families|neighbors|neighbours|employees|clients|twins)\b",
    re.IGNORECASE,
)


# a lower-case plural a "them" may point back to ("the custodian's forms ... finish them")
_PLURAL_THING = re.compile(
    r"\b(?!(?:was|has|his|is|this|yes|always|does|its|less|unless|us|as|thus|plus|gas|"
    r"across|perhaps|sometimes|whereas|status|bonus|yours|ours|hers|series|news|hers)\b)"
    r"[a-z]{2,}s\b"
)
_NOT_A_NAME = frozenset(
    "The A An My Her His Their Our In On At After Before Since When While Two Three Now Every "
    "Last Next This That Then But And So If Because Although Each Both I".split()
)


def _names_a_person(before: str) -> bool:
    return any(w not in _NOT_A_NAME for w in re.findall(r"\b[A-Z][a-z]+\b(?!['’]s\b)", before))


# the word, what it becomes, and what before it in the sentence it would point back at instead
# ("finish the forms ... them" is about the forms, not the couple)
_COUPLE_WORDS = (
    ("their", "our", (_PLURAL_REFERENT,)),
    ("them", "us", (_PLURAL_REFERENT, re.compile(r"\btheir\b", re.I), _PLURAL_THING)),
)


def _couple_their(text: str) -> str:
    """'Saul, an accountant, always handled their investments': a named person and a 'their'
    (or 'them': 'not told Linda what it is costing them') with no plural before it in the
    sentence is the client and that person."""
    out: list[str] = []
    for sentence in re.split(r"(?<=[.!?])(\s+)", text):
        for word, ours, points_back in _COUPLE_WORDS:
            at = re.search(rf"\b{word}\b", sentence, re.IGNORECASE)  # the first decides
            before = sentence[: at.start()] if at else ""
            named = _names_a_person(before) or (word == "their" and " and I " in before)
            if at and named and not any(p.search(before) for p in points_back):
                sentence = re.sub(rf"\b{word}\b", ours, sentence)
        out.append(sentence)
    return "".join(out)


def _first_person_verb(word: str) -> str:
    low = word.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low in _NOT_VERBS or not low.isalpha() or len(low) < 3:
        return word
    if low.endswith("ies") and len(low) > 4:
        return word[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith("ss"):
        return word[:-1]
    return word


def _agree(text: str) -> str:
    """After every new 'I', the verb (past any adverbs) agrees with it."""
    out: list[str] = []
    tokens = re.split(r"(\s+)", text)
    after_i = seen_i = False
    previous = ""
    for token in tokens:
        if token.isspace() or not token:
            out.append(token)
            continue
        if after_i:
            bare = token.rstrip(",.;:!?")
            if bare.lower() in _ADVERBS:
                out.append(token)
                continue
            token = _first_person_verb(bare) + token[len(bare) :]
            if token.lower().startswith("am not") and out and out[-1].isspace():
                pass
            after_i = False
        elif seen_i and previous in {"and", ","} and token.lower() in _COORDINATED:
            token = _first_person_verb(token) if token.lower() != "would" else token
        out.append(token)
        if token == "I":
            after_i = seen_i = True
        if token.endswith((".", "!", "?")):
            seen_i = False
        previous = "," if token.endswith(",") else token.lower()
    return "".join(out)


def first_person(
    situation: str, full_name: str, pronouns: str = "", others: frozenset[str] = frozenset()
) -> str:
    """The situation as the client would tell it: their name and pronouns become I/me/my.

    `others` are the names of the other people in the client's life: a pronoun after one of
    them in the same sentence is taken to be about that person and left alone."""
    first = full_name.split()[0]
    subject = (pronouns.split("/")[0].strip().lower() if pronouns else "") or "they"
    he, him, his, himself = _PRONOUNS.get(subject, _PRONOUNS["they"])
    text = situation
    people = set(others) | set(re.findall(r"\b([A-Z][a-z]+)['’]s\b", situation))
    people -= {first, *full_name.split()}
    other_rx = (
        re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(people))) + r")\b(?!['’]s)")
        if people
        else None
    )

    def name_as(m: re.Match[str]) -> str:
        return "me" if _OBJECT_BEFORE.search(m.string[: m.start()]) else "I"

    for name in sorted({full_name, first}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}['’]s\b", "my", text)
        text = re.sub(rf"\b{re.escape(name)}\b", name_as, text)
    text = re.sub(r"\bI and ([A-Z][a-z]+)\b", r"\1 and I", text)
    text = re.sub(r"\bElena\b", "you", text)  # the client is talking to her
    text = re.sub(rf"\b{himself}\b", "myself", text, flags=re.IGNORECASE)

    def subject(m: re.Match[str]) -> str:
        # a pronoun after another person's name in the same sentence is about that person
        start = max(text.rfind(". ", 0, m.start()), 0)
        near = other_rx is not None and other_rx.search(m.string, start, m.start())
        return m.group(0) if near else "I"

    text = re.sub(rf"\b{he}\b", subject, text, flags=re.IGNORECASE)
    if his == him:  # "her": possessive before a word, object otherwise
        # "left her $62,000", "owes her a favour": the indirect object of a giving verb
        text = re.sub(
            rf"\b({_GIVING})\s+{his}\b(?=\s+(?:\$|\d|a\b|an\b|the\b|some\b|half\b|all\b))",
            lambda m: f"{m.group(1)} me",
            text,
            flags=re.IGNORECASE,
        )
        text = re.sub(
            rf"\b(near|to|for|with|from|of|by|about|at|on|like|than|toward|behind|without|"
            rf"around|after|before)\s+{his}\b(?=\s*(?:[,.;!?)]|$|\w+ed\b|and\b|but\b|or\b))",
            lambda m: f"{m.group(1)} me",
            text,
            flags=re.IGNORECASE,
        )
        text = re.sub(
            rf"\b{his}\b(?=\s+[A-Za-z0-9$])(?!\s+(?:and|but|to|for|with|that|if|so|a|an|the|"
            rf"\w+ly)\b)",
            "my",
            text,
            flags=re.IGNORECASE,
        )
        text = re.sub(rf"\b{him}\b", "me", text, flags=re.IGNORECASE)
    else:
        text = re.sub(rf"\b{his}\b", "my", text, flags=re.IGNORECASE)
        text = re.sub(rf"\b{him}\b", "me", text, flags=re.IGNORECASE)
    if he == "they":
        text = re.sub(r"\bI are\b", "I am", text)
        text = re.sub(r"\bI were\b", "I was", text)
    text = _agree(text)
    text = _SIBLINGS_PARENT.sub(lambda m: m.group(1) + "our" + m.group(2), text)
    text = _couple_their(text)
    # "my" at a sentence start, "i" after a lower-casing
    text = re.sub(r"(^|[.!?]\s+)my\b", lambda m: m.group(1) + "My", text)
    return text


_STATUS = frozenset(
    {"widowed", "divorced", "married", "single", "separated", "engaged", "remarried", "retired"}
)


def _at_home(brief: str) -> str:
    """'widowed two years; lives alone in a condo' -> 'I've been widowed two years, and I
    live alone in a condo.' Fragments that do not start with a status or a verb are left
    out (they are about other people)."""
    told: list[str] = []
    for fragment in (f.strip().rstrip(".") for f in brief.split(";")):
        words = fragment.split(" ", 1)
        if not words[0]:
            continue
        first, rest = words[0], words[1] if len(words) > 1 else ""
        if first.lower() in _STATUS:
            told.append(f"I'm {fragment[:1].lower()}{fragment[1:]}")
        elif first.lower().endswith("s") and first[:1].islower():
            told.append(f"I {_first_person_verb(first)} {rest}".strip())
    if not told:
        return ""
    text = ", and ".join(told) if len(told) == 2 else ", ".join(told)
    return text[:1].upper() + text[1:] + "."


_WHO = re.compile(r"\((\d{2}); ([^)]+)\)")
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")
# a writer's brief rather than the client's story: who they are, what it covers, the feeling
# (variations.compose_situation names the domain's advisor: Elena, Maya...)
_META = re.compile(
    r"\bto Elena\b|\bElena's office\b|\bcoming to [A-Z][a-z]+ about\b|\bto [A-Z][a-z]+ today is\b|"
    r"\btold [A-Z][a-z]+'s office\b|\(\d{2};|^At home:|^Going in,|\bown words:|"
    r"\bThe conversation covers\b|\bwhich here means\b|\bat (?:low|medium|high) intensity\b",
)


def situation_sentences(
    situation: str, full_name: str, pronouns: str = "", others: frozenset[str] = frozenset()
) -> list[str]:
    """The situation's sentences in the first person, in order. A brief written for a
    writer (a variation's 'X is coming to Elena about ... In her own words: "..."') is told
    through the client's quoted words only."""
    text = " ".join(situation.split())
    out: list[str] = []
    for sentence in (s.strip() for s in _SPLIT.split(text) if s.strip()):
        quoted = _QUOTED.findall(sentence)
        who = _WHO.search(sentence)
        if who and _META.search(sentence) and re.search(r"\d", who.group(2)):
            # "(67; retired union electrician, 38 years in the trade)": the figure in it is
            # theirs to tell; their age and job alone are not news to them
            out.append(f"I'm a {who.group(2).strip()}.")
        if sentence.startswith("At home:"):
            told = _at_home(sentence.removeprefix("At home:"))
            if told:
                out.append(told)
        elif quoted:
            out += [q.strip() for q in quoted if q.strip()]
        elif not _META.search(sentence):
            told = first_person(sentence, full_name, pronouns, others)
            out += [t.strip() for t in _SPLIT.split(told) if t.strip()]
    return out
