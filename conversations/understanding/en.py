"""English (and the English in Wenglish): how young people and worried parents write the facts we ask for.

Patterns run on cleaned text (``rules.clean``): "didn't" is "didnt", "I'm" is "im", "she's" is "shes".
"""

from __future__ import annotations

from datetime import date

from conversations.dates import format_day
from conversations.understanding.rules import Rules, at_start, words

_CHILD = (
    r"son|daughter|child|kid|kids|boy|girl|lad|teen|teenager|stepson|stepdaughter|step son|step daughter|"
    r"foster (?:son|daughter|child|kid)|grandson|granddaughter|little one|youngest|eldest|oldest"
)
_PARENT = r"mum|mom|mam|mother|dad|father|parent|carer|foster carer|step ?dad|step ?mum|nan|nana|gran|guardian"
_POLICE_VERB = r"call|called|ring|rang|rung|phone|phoned|tell|told|report|reported|contact|contacted|get|got|involve"

RULES = Rules(
    clause_breaks=words("and", "but", "then", "so", "n", "an", "after that", "although", "though", "cos", "because"),
    until=words("till", "til", "until", "untill", "up to", "up till"),
    still_missing=words(
        r"not (?:back|home|came back|come back|come home)(?: yet)?",
        r"still (?:missing|away|gone|out|not (?:back|home))",
        r"(?:hasnt|hasn t|has not|havent|have not|aint|not) (?:come|came|been|got) (?:back|home)",
        r"(?:isnt|is not|aint|not) (?:back|home) yet",
        r"im not back",
        r"no sign of (?:him|her|them)",
    ),
    returned=words(
        r"(?:came|come|comes|coming|got|get|gets|went|go|walked|brought|bring|was brought|turned|turn) "
        r"(?:back|home|back home)",
        r"(?:him|her|them|me) (?:back|home)",
        r"(?:turned|turn|showed|show|rocked|rolled) up",
        r"returned|return|retuned|back since|home since|back now|home now|back home|been back|am back|im back",
        r"is back|hes back|shes back|theyre back|was back|were back|back on|back at|back by|back yday|"
        r"back yesterday|back last|back this|back today|back tdy|found (?:him|her|them)|police found|"
        r"(?:walked|came|got|come) in|(?:came|come|got) bak|picked (?:me|him|her|them) up|back|home",
    ),
    left=words(
        r"went|go|gone|left|leave|ran|run|runaway|run away|ran off|ran away|disappeared|dissapeared|vanished|"
        r"took off|walked out|stormed out|legged it|bolted|awol|did one|went missing|gone missing|"
        r"(?:didnt|did not|never|didn t) (?:come|came) (?:home|back)",
        r"wasnt (?:home|in)|not home (?:on|last)|stayed out|stayed away|out all (?:night|weekend)|"
        r"(?:was|been|were) away|away from",
    ),
    since=words(r"(?:missing|away|gone|out) since", "since"),
    police=words(
        r"police|polic|poilce|plod|cops|coppers|feds|999|101|officer|officers|pc|5 0|"
        r"reported (?:him|her|them|me) missing|missing person report|missing persons report"
    ),
    police_unsure=words(
        r"not sure|unsure|dunno|dno|idk|no idea|dont know (?:if|whether|wether)|do not know (?:if|whether)|"
        r"maybe|might have|might of|not certain|cant remember|think so|prob|probably|i think|i thought"
    ),
    negation=words(
        r"didnt|didn t|did not|dint|didn|dnt|dont|do not|not|never|no|havent|have not|hasnt|wasnt|werent|"
        r"without|nobody|no one|noone|wont|aint|nope|nah|neither|nor"
    ),
    setting_out_of_area=words(
        r"out of (?:area|county|the area|borough)",
        r"(?:another|different|other|a different) (?:area|county|council|authority|la|local authority|place)",
        r"placed (?:here|in) (?:from|by)",
        r"placed here",
        r"moved (?:here|down|up) from",
        r"from (?:england|london|birmingham|bristol|manchester|liverpool|over the border)",
    ),
    setting_care=words(
        r"in care|foster|fostered|fostering|foster care|foster carers?|foster home|foster placement|"
        r"childrens home|children home|childrens house|care home|resi|residential|placement|placed|"
        r"looked after|lac|supported lodgings|semi independent|semi ind|my carers|the carers|the home|care"
    ),
    setting_home=words(
        r"(?:lives?|living|stays?|staying) (?:at home|home|with (?:me|us|my|his|her|their|mum|mam|mom|dad|"
        r"nan|gran|family|parents|me and|my mum|my dad))",
        r"at home with (?:me|us|my|his|her|their|mum|mam|dad|family)",
        r"with (?:my|his|her|their) (?:family|parents|mum|mam|dad|nan)",
        r"(?:family|our|my|the) home",
        r"home with (?:me|us)",
    ),
    parent=words(
        rf"(?:my|our|me) (?:{_CHILD})",
        rf"(?:im|i am|i m|this is) (?:his|her|their|the|a|an|ur) (?:{_PARENT})",
        r"(?:im|i am) (?:a )?(?:parent|foster carer|carer|mum|mam|dad|single mum|single dad|guardian)",
        r"we foster|as (?:his|her|their) (?:mum|dad|mam|carer|parent)",
        r"(?:hes|shes|he is|she is) (?:my|our) (?:son|daughter|boy|girl|lad)",
    ),
    young_person=words(
        r"(?:my|me) (?:mum|mom|mam|dad|parents|carer|carers|foster carers?|foster mum|foster dad|social worker|"
        r"nan|sw|stepdad|step dad|stepmum|step mum)",
        r"i (?:ran|run|went|left|got back|came back|came home|got home|was away|was missing|stayed|legged|"
        r"took off|walked out|did one|dont want|ran off|ran away)",
        r"(?:im|i am|i m) (?:\d{1,2}|[a-z]+teen|twelve|back|home|a young person|young person|a teen|a kid|"
        r"the young person)",
        r"me (?:and|n) my mates",
    ),
    age=words(
        r"(?:im|i am|i m|hes|shes|he is|she is|theyre|they are|aged|age|age is|turned|just turned|only|"
        r"hes only|shes only|was|is) (\d{1,2}|[a-z]+teen|twelve|eleven|ten|twenty)"
        r"(?! ?(?:am|pm|oclock|days?|nights?|weeks?|hours?|hrs|mins?|th|st|nd|rd|:|/))",
        r"(\d{1,2}|[a-z]+teen|twelve|eleven|ten) ?(?:yrs?|years?|y ?o|yo|yr old|year old|years old)",
    ),
    yes=at_start(
        r"y+e*s+|ye+|yeh|yea+h*|ya+h?|yah|yep+|yup+|yh|yy|ys|yse|aye|ok+|okay|okey|oki|k+|sure|of course|"
        r"course|deffo|defo|def|definitely|absolutely|go on|alright|aight|fine|correct|right|thats right|"
        r"that is right|spot on|no problem|no probs|no worries|not a problem|"
        r"yes please|yes pls|yes plz|please|pls|plz|we did|i did|they did|he did|she did|"
        r"they do|they know|they knew|they were|they was|it is|it was|true|yass|yas|mhm|uh huh|ya|yeahh"
    ),
    no=at_start(
        r"n+o+|nah+|naa+h?|nope|not really|no way|never|nuh|nay|no thanks|no ta|no thank you|dont think so|"
        r"i dont think so|rather not|not rn|not now|not right|wrong|thats wrong|thats not right|we didnt|"
        r"i didnt|they didnt|he didnt|she didnt|didnt|they dont|not at all|nop|nooo+|na"
    ),
    not_now_words=words("now", "right now", "atm", "rn"),
    he=words("he", "hes", "him", "his", "he is", "my son", "my boy", "my lad"),
    she=words("she", "shes", "her", "hers", "she is", "my daughter", "my girl"),
)

# --- saying back what was understood -------------------------------------------------------------------

CHECK_OPTIONS = ("Yes", "No, ask me")
_BE = {"you": "you're", "he": "he's", "she": "she's", "they": "they're"}
_LIVE = {"you": "you live", "he": "he lives", "she": "she lives", "they": "they live"}
_NOT_BACK = {"you": "you're not back yet", "he": "he's not back yet", "she": "she's not back yet",
             "they": "they're not back yet"}  # fmt: skip


def _day(iso: str, today: date) -> str:
    day = date.fromisoformat(iso)
    back = (today - day).days
    if back == 0:
        return "today"
    if back == 1:
        return "yesterday"
    if back < 7:
        return "on " + format_day(day, "en").split()[0]
    return "on " + format_day(day, "en")


def say_understood(facts: dict[str, object], person: str, today: date) -> str:
    """'Thanks, so he came back today and the police don't know. Is that right?'"""
    you = person == "you"
    parts: list[str] = []
    if facts.get("role") == "parent_carer":
        parts.append("you're their parent or carer")
    elif facts.get("role") == "young_person":
        parts.append("you're a young person asking for yourself")
    if facts.get("child_safe") == "yes":
        parts.append(f"{_BE[person]} home")
    if facts.get("left"):
        parts.append(f"{person} went {_day(str(facts['left']), today)}")
    if facts.get("still_missing") or facts.get("child_safe") == "away":
        parts.append(_NOT_BACK[person])
    elif facts.get("returned"):
        parts.append(f"{person} {'got' if you else 'came'} back {_day(str(facts['returned']), today)}")
    police = facts.get("police")
    if police:
        parts.append(
            {
                "yes": "the police knew" if you else "the police know",
                "no": "the police didn't know" if you else "the police don't know",
                "not_sure": "you're not sure if the police knew" if you else "you're not sure if the police know",
            }[str(police)]
        )
    if facts.get("age"):
        parts.append(f"{_BE[person]} {facts['age']}")
    setting = facts.get("setting")
    if setting:
        parts.append(
            {
                "home": f"{_LIVE[person]} at home",
                "care": f"{_BE[person]} in care near here",
                "care_out_of_area": f"{_BE[person]} in care from another area",
            }.get(str(setting), "")
        )
    parts = [part for part in parts if part]
    if not parts:
        return "Is that right?"
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Thanks, so {listed}. Is that right?"
