"""A warning, not a rule: does a concern's free text look as if it names someone?"""

import re

TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Dame|Lady|Lord)"
CAPITALISED = r"[A-Z][a-z]+(?:['’]s)?"
# Words that make two capitalised words a place or a time, not a person: "Albany Road",
# "Burgess Park", "St Mary's", "Walworth Road Friday".
_PLACE_WORDS = """
    st saint road rd street lane avenue ave park gardens garden green common hill rise square
    place way close crescent terrace grove walk row court mews drive estate station bridge
    church churchyard cemetery market high broadway parade yard wharf embankment tube
    overground underground bus stop library school college university centre center tower
    house hall passage alley path canal river heath fields field wood woods lido playground
    north south east west upper lower old new great little london cross junction circus gate
    hospital shop shops arches arcade parking car retail town city borough council tfl
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december
"""
PLACE_WORDS = frozenset(_PLACE_WORDS.split())
PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # an email address
    re.compile(r"(?<!\d)\+?\d(?:[ -]?\d){9,12}(?!\d)"),  # a phone number: 10 to 13 digits
    re.compile(rf"\b{TITLES}\.? {CAPITALISED}"),  # "Mr Jones"
    re.compile(rf"\b(?:called|named|name is|known as) {CAPITALISED}"),  # "a man called Dave"
]
# Two capitalised words side by side; the second is read ahead, so "Burgess Park Dave Smith"
# is tried as "Burgess Park", "Park Dave" and "Dave Smith".
TWO_CAPITALISED = re.compile(rf"\b({CAPITALISED}) (?=({CAPITALISED})\b)")
SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s*|\n\s*)$")


def names_someone(text: str) -> str | None:
    """The first part of `text` that looks like it names or could reach a person, or None.

    A small heuristic for the debrief's warning, so an officer looks again; it never blocks
    (she can confirm the text names nobody). It finds an email address, a phone number, a title
    and a capitalised word ("Mr Jones"), "called", "named" or "known as" and a capitalised word
    ("a man called Dave"), and two capitalised words side by side ("John Smith"), unless one of
    them is a place or time word ("Albany Road", "St Mary's") or the first starts a sentence
    (where any word is capitalised)."""
    for pattern in PATTERNS:
        if found := pattern.search(text):
            return found.group(0)
    for found in TWO_CAPITALISED.finditer(text):
        if SENTENCE_START.search(text[: found.start()]):
            continue
        words = [word.lower().removesuffix("'s").removesuffix("’s") for word in found.groups()]
        if not PLACE_WORDS.intersection(words):
            return " ".join(found.groups())
    return None
