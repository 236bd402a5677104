"""Welsh, north and south: how young people and parents write the facts we ask for.

Patterns run on cleaned text (``rules.clean``): "dw i'n 15" is "dw in 15", "bore 'ma" is "bore ma",
"ffonio'r heddlu" is "ffonior heddlu", "nôl" is "nol". English words that Welsh speakers mix in are read by
the English rules as well (the reader tries both languages).

The Welsh texts at the end have not yet been checked by a fluent speaker (``CY_REVIEWED``): the same mark the
scripts use (``cy_reviewed``), so the studio's review list can show them.
"""

from __future__ import annotations

from datetime import date

from conversations.dates import format_day
from conversations.understanding.rules import Rules, at_start, words

CY_REVIEWED = False

_HOME = r"nol|yn ol|ol|adre|adref|adra|gartre|gartref|yn ei ol|yn ei hol|yn eu hol"
_WORD_AGES = r"deg|un ar ddeg|deuddeg|tri ar ddeg|pedwar ar ddeg|pymtheg|un ar bymtheg|dau ar bymtheg|deunaw"

RULES = Rules(
    # Not "a": after accents go it is also "â" (with): "daeth yr heddlu â hi adre".
    clause_breaks=words("ac", "ond", "wedyn", "wedi hynny", "yna", "achos", "oherwydd", "felly", "and", "but"),
    until=words("tan", "hyd", "nes", "till", "until"),
    still_missing=words(
        r"dal (?:ar goll|i ffwrdd|allan|heb ddod|missing|away|out)",
        r"(?:ddim|dim|heb fod|heb ddod) (?:wedi dod )?(?:yn ol|nol|adre|adref|adra|gartre|gartref) (?:eto|o hyd)",
        r"(?:dydy|dyw|dydi|dyw e|dyw hi|dydy hi|dydy e|dydyn nhw|dw i|dwi|sa i|sai) (?:\w+ )?ddim (?:wedi dod )?"
        r"(?:yn ol|nol|adre|adref|adra|gartre|gartref)",
        r"heb ddod (?:yn ol|nol|adre|adref|adra)(?: eto)",
        r"dw i ddim yn ol|dwi ddim yn ol|dw i ddim nol|sai nol|sa i nol|ddim yn ol|ddim nol|dim nol|dim yn ol",
    ),
    returned=words(
        r"(?:daeth|ddaeth|daethon|ddaethon|dath|ddath|dod|ddod|des|ddes|ddoth|doth|ddo|dois|ddois|daethant|"
        r"cyrhaeddodd|gyrhaeddodd|cyrraedd|dychwelodd|ddychwelodd|dychwelyd|cerddodd|gerddodd|troi|trodd|drodd)"
        rf"(?: \w+)?(?: \w+)? (?:{_HOME})",
        rf"(?:hin|en|on|nhwn|tin|in|wedi dod) (?:{_HOME})",
        rf"(?:daeth|ddaeth|dath|ddath|dod) (?:yr|y) (?:heddlu|police) (?:a|ag|ai) (?:\w+ )?(?:{_HOME})",
        r"nol|adre|adref|adra|troi i fyny|trodd i fyny|drodd i fyny|"
        r"nol ers|adre ers|adref ers|yn ol ers|nol ddoe|nol heddiw|"
        r"yn ol nawr|nol nawr|adre nawr|adref nawr|adra rwan|nol bore ma|heddlu wedi dod ag|heddlu ddaeth a",
    ),
    left=words(
        r"aeth|aethon|ath|es|est|mynd|wedi mynd|rhedeg|rhedodd|redodd|rhedes|redes|rhedais|diflannodd|"
        r"ddiflannodd|diflannu|gadael|gadawodd|adawodd|ar goll|aeth ar goll|aeth hi ar goll|i ffwrdd|"
        r"heb ddod (?:adre|adref|adra|nol|yn ol)|ddim (?:adre|adref|adra|gartre) nos|ddaeth (?:hi|e|o) ddim"
    ),
    since=words(r"(?:ar goll|i ffwrdd|allan|wedi mynd) ers", "ers"),
    police=words(r"heddlu|heddlun|heddlur|hedlu|plismon|plismyn|plisman|polis|police|cops|999|101"),
    police_unsure=words(
        r"ddim yn siwr|dim yn siwr|ddim yn siwr|sai n siwr|sain siwr|dwn i ddim|dwni ddim|dwnim|sai n gwybod|"
        r"sain gwybod|sa i n gwybod|dim syniad|falle|efallai|wn i ddim|ddim yn gwybod os|dim yn gwybod os|"
        r"ddim yn cofio|sgen i ddim syniad|dwn im"
    ),
    negation=words(r"ddim|dim|naddo|heb|nid|nad|erioed|neb|na|nac|nag|nath neb|wnaeth neb"),
    setting_out_of_area=words(
        r"ardal arall|sir arall|cyngor arall|gyngor arall|awdurdod arall|leoli yma|"
        r"o loegr|o ardal arall|tu allan i r sir|tu allan ir sir"
    ),
    setting_care=words(
        r"mewn gofal|gofal maeth|maethu|cartref plant|cartre plant|cartref gofal|gofalwyr maeth|gofalwr maeth|"
        r"lleoliad|yn y cartref|teulu maeth|rhieni maeth|mam maeth|tad maeth|gofal"
    ),
    setting_home=words(
        r"byw (?:gartref|gartre|adref|adre|adra|gyda|efo|hefo|gydai|gydar|gydag|efoi|efor|hefoi)",
        r"(?:gyda|efo|hefo) (?:fi|ni|mam|dad|nhad|nheulu|teulu|rhieni|i|fy mam|fy nhad) (?:gartref|gartre|adre)",
        r"gartref gyda|gartre gyda|adra efo",
    ),
    parent=words(
        r"fy mab|fy merch|fy mhlentyn|fy mhlant|ein mab|ein merch|ein plentyn|mab i|merch i|mhlentyn i|"
        r"plentyn i|mab fi|merch fi|hogyn fi|hogan fi|bachgen fi|mab ni|merch ni|hogyn ni|hogan ni",
        r"(?:dw in|dwin|dw i n|rwyn|rwy n|dwi n|fi yw|fi di|fi ydy) (?:ei |eu )?(?:fam|dad|tad|rhiant|riant|ofalwr|"
        r"ofalwraig|gofalwr|mam|nain|mamgu)",
        r"mam (?:e|hi|o)|tad (?:e|hi|o)|rhiant|gofalwr maeth|gofalwyr maeth ni",
    ),
    young_person=words(
        r"fy mam|fy nhad|mam fi|dad fi|nhad i|es i|rhedes i|redes i|rhedais|des i|ddes i|ddois i|dois i|"
        r"o n i|on i|ges i|fi wedi|person ifanc|dw i nol|dwi nol|dw in ol|gofalwyr fi|gweithiwr cymdeithasol fi",
        r"(?:dw in|dwin|dw i n|rwyn|rwy n|dwi n|wi n|win|fin) \d{1,2}",
    ),
    age=words(
        r"(?:dw in|dwin|dw i n|dwi n|rwyn|rwy n|wi n|win|fin|mae hin|mae en|mae on|maen nhwn|mae hi yn|mae e yn|"
        r"mae o yn|hin|en|on|yn|droin|troin) (\d{1,2})(?! ?(?:yb|yp|oclock|o gloch|:|/|diwrnod|awr))",
        rf"(\d{{1,2}}|{_WORD_AGES}) (?:oed|mlwydd|blwydd|mlwydd oed)",
    ),
    yes=at_start(
        r"ie|ia|iep|ydw|ydy|ydi|yndw|yndi|ydan|ydyn|ydyn nhw|ydych|oes|do|iawn|yn iawn|oce|ok|wrth gwrs|siwr|"
        r"siwr iawn|plis|os gwelwch yn dda|hoffwn|bydd|byddai|gwnaeth|gwnes|do wnes|oedden|oedd|cywir|"
        r"dyna fe|dyna ni|yn union|ia wir|ie plis|ydy plis|gwir|yndy|dim problem|dim prob|dim ots"
    ),
    no=at_start(
        r"na|naddo|nage|nac ydw|nac ydy|nac ydi|nac ydyn|nagw|nadw|nagdw|nagydw|nag oes|nac oes|dim diolch|"
        r"dim|ddim|nac oedden|nac oedd|nag oedd|o na|na dim|anghywir|ddim yn iawn|dim yn iawn|na wnes|"
        r"na wnaethon|nadi|nagyw|nadyn|sai moyn|sa i moyn|dim ffiars"
    ),
    not_now_words=words("nawr", "rwan", "rwan hyn", "ar hyn o bryd"),
    he=words("fe", "e", "o", "ef", "fo", "mab", "hogyn", "bachgen"),
    she=words("hi", "merch", "hogan"),
)

# --- saying back what was understood -------------------------------------------------------------------

CHECK_OPTIONS = ("Ydy", "Nac ydy, gofyn i fi")
_VOWELS = "aeiouwyâêîôûŵŷ"


def _day(iso: str, today: date) -> str:
    day = date.fromisoformat(iso)
    back = (today - day).days
    if back == 0:
        return "heddiw"
    if back == 1:
        return "ddoe"
    written = format_day(day, "cy").replace("Dydd ", "ddydd ", 1)  # "ddydd Gwener": when, so mutated
    return " ".join(written.split()[:2]) if back < 7 else written


def say_understood(facts: dict[str, object], person: str, today: date) -> str:
    """'Diolch, felly daethon nhw'n ôl heddiw a dydy'r heddlu ddim yn gwybod. Ydy hynny'n iawn?'"""
    you = person == "you"
    parts: list[str] = []
    if facts.get("role") == "parent_carer":
        parts.append("rydych chi'n rhiant neu'n ofalwr")
    elif facts.get("role") == "young_person":
        parts.append("rwyt ti'n berson ifanc sy'n gofyn drosot ti dy hun")
    if facts.get("child_safe") == "yes":
        parts.append("rwyt ti adref" if you else "maen nhw adref")
    if facts.get("left"):
        parts.append(f"{'est ti' if you else 'aethon nhw'} i ffwrdd {_day(str(facts['left']), today)}")
    if facts.get("still_missing") or facts.get("child_safe") == "away":
        parts.append("dwyt ti ddim yn ôl eto" if you else "dydyn nhw ddim yn ôl eto")
    elif facts.get("returned"):
        parts.append(f"{'dest ti' if you else 'daethon nhw'}'n ôl {_day(str(facts['returned']), today)}")
    police = facts.get("police")
    if police:
        parts.append(
            {
                "yes": "roedd yr heddlu'n gwybod" if you else "mae'r heddlu'n gwybod",
                "no": "doedd yr heddlu ddim yn gwybod" if you else "dydy'r heddlu ddim yn gwybod",
                "not_sure": "dwyt ti ddim yn siŵr oedd yr heddlu'n gwybod"
                if you
                else "dydych chi ddim yn siŵr a yw'r heddlu'n gwybod",
            }[str(police)]
        )
    if facts.get("age"):
        parts.append(f"{'rwyt ti' if you else 'maen nhw'}'n {facts['age']} oed")
    setting = facts.get("setting")
    subject = "rwyt ti" if you else "maen nhw"
    if setting:
        parts.append(
            {
                "home": f"{subject}'n byw gartref",
                "care": f"{subject} mewn gofal yn lleol",
                "care_out_of_area": f"{subject} mewn gofal o ardal arall",
            }.get(str(setting), "")
        )
    parts = [part for part in parts if part]
    if not parts:
        return "Ydy hynny'n iawn?"
    if len(parts) == 1:
        listed = parts[0]
    else:
        last = parts[-1]
        listed = ", ".join(parts[:-1]) + (" ac " if last[0].lower() in _VOWELS else " a ") + last
    return f"Diolch, felly {listed}. Ydy hynny'n iawn?"
