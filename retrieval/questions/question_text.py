"""Question text as people type it in Slack: markup removed, and a few lexical cues.

The cues (words that refer back, ordinals, asking for a quantity) are *features* for the fitted
decision models in `retrieval.questions.decisions`; none of them decides anything on its own.
"""

from __future__ import annotations

import re

_USER = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#C[A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<(?:https?|mailto):[^|>]*\|([^>]*)>")
_BARE_LINK = re.compile(r"<(?:https?|mailto):[^>]*>")
_SPECIAL = re.compile(r"<!(?:here|channel|everyone|subteam\^[A-Z0-9]+|date\^[^>]*)(?:\|[^>]*)?>")  # broadcasts, groups
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

# Words that point back at something said before (in any of a few languages).
REFERRING = frozenset("""
it its it's they them their theirs this that these those he she him her his hers same above previous
former latter one ones also else too again more other another and then so ok okay
es sie ihr ihre dieser diese das der die le la les il elle ce cet cette ces lui él ella ese esa eso
""".split())
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
            "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "last": -1, "latter": -1, "former": 0}
PERSONAL_PRONOUNS = frozenset("he she him her his hers er sie ihm ihn il elle lui él ella".split())
_QUANTITY = re.compile(
    r"\bhow\s+(?:much|many|fast|faster|big|large|small|long|accurate|well|often)\b|\d|%|\bpercent|"
    r"\b(?:number|accuracy|score|rate|speed-?up|factor|size|count|figure|metric|times)\b", re.I)


def clean_question(text: str) -> str:
    """The question without Slack markup (mentions, channel links), whitespace collapsed."""
    text = _USER.sub(" ", text or "")
    text = _SPECIAL.sub(" ", text)
    text = _CHANNEL.sub(r"#\1", text)
    text = _LINK.sub(r"\1", text)
    text = _BARE_LINK.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def referring_words(text: str) -> int:
    return sum(1 for t in tokens(text) if t in REFERRING or t in ORDINALS)


def ordinal_index(text: str) -> int | None:
    """The position an ordinal in the question points at ("the second one" -> 1, "the last" -> -1)."""
    for token in tokens(text):
        if token in ORDINALS and token not in ("former", "latter"):
            return ORDINALS[token]
    return None


# French puts the object pronoun before the verb, elided: "qui l'a présenté ?" (who presented it?).
_ELIDED_OBJECT = re.compile(r"\bl['’](?:a|ont|as|avez|avons|ai)\b", re.I)


def refers_back(text: str) -> bool:
    """The question points at something said before ("who presented it?", "qui l'a présenté ?")."""
    return referring_words(text) > 0 or bool(_ELIDED_OBJECT.search(text))


def refers_to_person(text: str) -> bool:
    return any(t in PERSONAL_PRONOUNS for t in tokens(text))


# Asking whether something holds, as people put it about our list ("anything by X?", "X wrote Y, right?").
_WHETHER = re.compile(
    r"^(?:so\s+)?(?:does|do|did|is|are|was|were|has|have|can|could)\b|\b(?:right|correct|yes|true)\s*\?*\s*$|"
    r"\bany(?:thing|one|body)?\s+(?:\w+\s+)?(?:by|from)\b|\b(?:in|on) (?:our|the) (?:list|papers|library|reading list)\b|"
    r"^\W*(?:hay|gibt es|y a-t-il|est-ce que?|c'est)\b|\bis there\b", re.I)
# The name after "by" in "anything by geoffrey hinton in our list?", up to the next plain word.
_BY_NAME = re.compile(r"\b(?:by|from|von|de|di|par)\s+([^\W\d_][\w'’.-]*(?:\s+[^\W\d_][\w'’.-]*){0,2})", re.I)
_NOT_NAME = frozenset("""in on at our the a an list papers paper library reading group here there yet so far ever
please pls la el los las le les der die das unserer liste en dans notre nuestra""".split())


_WHO = re.compile(r"\b(?:who|whom|whose|wer|qui|quién|quien|chi)\b", re.I)


def asks_who(text: str) -> bool:
    return bool(_WHO.search(text))


def asks_whether(text: str) -> bool:
    """The question asks for a yes or a no ("did X present Y?", "anything by X in our list?")."""
    return bool(_WHETHER.search(text.strip()))


def name_asked_about(text: str) -> str | None:
    """The person a question asks about by "by NAME", as written ("geoffrey hinton"), if any."""
    match = _BY_NAME.search(text)
    if not match:
        return None
    words = []
    for word in match.group(1).split():
        if word.lower().strip("?.,!") in _NOT_NAME:
            break
        words.append(word.strip("?.,!"))
    return " ".join(words) or None


def asks_quantity(text: str) -> bool:
    return bool(_QUANTITY.search(text))


# What kind of answer a question asks for; each is a feature of the reader, never a decision.
# The same kinds asked in the group's other languages (German, French, Spanish, Portuguese).
_QUANTITY_ELSEWHERE = re.compile(r"\bwie\s+(?:viele?|schnell|gro[sß]|hoch|lange?|gut)\b|\bcombien\b|\bcu[aá]nt[oa]s?\b|"
                                 r"\bquant[oa]s?\b|\bqu[eé] tan\b|\bm[aá]s r[aá]pido\b|\bplus rapide\b|\bschneller\b", re.I)
ASKED_KINDS = {
    "quantity": re.compile(f"{_QUANTITY.pattern}|{_QUANTITY_ELSEWHERE.pattern}", re.I),
    "name": re.compile(r"\bwhat(?:'s| is| are)?\s+(?:it|this|that|the \w+|they)?\s*(?:called|named)\b|\bname\b|"
                       r"\bwhich\s+(?:model|dataset|method|architecture|benchmark|baseline|backbone|algorithm|tasks?)\b|"
                       r"\bwhat\s+(?:model|dataset|method|architecture|benchmark|baseline|backbone|algorithm|tasks?)\b", re.I),
    "how": re.compile(r"\bhow\s+(?:does|do|did|is|are|was|can|to)\b|\bmechanism\b|\bwork(?:s)?\b|\bapproach\b|\bmethod\b|"
                      r"\bwie\s+(?:funktioniert|macht|machen|wird|werden|hat|haben)\b|\bcomment\b|\bc[óo]mo\b|\bfunciona", re.I),
    "result": re.compile(r"\bresults?\b|\bfind(?:ings?)?\b|\bfound\b|\boutperform|\bbeat|\bbetter\b|\bimprove|"
                         r"\bdid it (?:work|help)\b|\bdoes it (?:work|help)\b|\bshow(?:s|ed)?\b|\bperform|"
                         r"\bergebnis|\br[ée]sultats?\b|\bresultados?\b", re.I),
    "why": re.compile(r"\bwhy\b|\breason\b|\bmotivat|\bpoint of\b|\bpurpose\b|\bproblem\b|\bwarum\b|\bwieso\b|"
                      r"\bweshalb\b|\bpourquoi\b|\bpor qu[ée]\b|\bpara qu[ée]\b", re.I),
    "gist": re.compile(r"\bwhat (?:does|do|did)\s+\S+(?:\s+\S+){0,4}\s+do\b|"
                       r"\bwhat(?:'s| is| are)\s+(?:the\s+)?\S+(?:\s+\S+){0,3}\s*\??$|"
                       r"\bidea\b|\bhigh[- ]level\b|\bin short\b|\bbasically\b|\btl;?dr\b|\bgist\b|\bsummar|\bnutshell\b|"
                       r"\boverview\b|\bwhat(?:'s| is| was)\s+\S+(?:\s+\S+){0,6}\s+about\b|"
                       r"\bmain (?:idea|point|contribution)\b|\bexplain\b|\beli5\b|"
                       r"\bin (?:one|a|1) (?:line|sentence)\b|\bone[- ]liner\b|"
                       r"\bwhat(?:'s| is) it about\b|\bwas ist\b|\bworum geht|\bzusammenfass|\bkurz\b|\bqu'est[- ]ce que\b|"
                       r"\bc'est quoi\b|\br[ée]sum(?:[eé]n?|o|er)\b|\bexplica\w*|\bexpliqu\w*|\bexpl[ií]came\b|"
                       r"\bde qu[ée] (?:trata|va)\b|\bqu[ée] es\b|\bo que [ée]\b|"
                       r"\bsobre o que\b|\bbrevemente\b|\bbri[eè]vement\b", re.I),
    "yes_no": re.compile(r"^(?:@\S+\s+)?(?:so\s+)?(?:does|do|did|is|are|was(?! ist| sind| macht)|were|can|could|has|have|will|"
                         r"would|should|stimmt|gibt es|est-ce que|es cierto|[ée] verdade)\b", re.I),
}


def asked_kinds(text: str) -> dict[str, bool]:
    """Which kinds of answer the question's wording asks for (several may hold)."""
    return {kind: bool(pattern.search(text)) for kind, pattern in ASKED_KINDS.items()}
