"""The debrief's warning heuristic: text that looks as if it names or could reach someone."""

import pytest

from concerns.identifying import names_someone


@pytest.mark.parametrize(
    "text, found",
    [
        ("Mr Jones", "Mr Jones"),
        ("Shouted at by Mrs. Patel's son", "Mrs. Patel's"),
        ("a man called Dave", "called Dave"),
        ("Someone known as Tiny hangs around", "known as Tiny"),
        ("07700 900123", "07700 900123"),
        ("Ring her on +447700900123 if needed", "+447700900123"),
        ("Call 020 7946 0958", "020 7946 0958"),
        ("x@y.com", "x@y.com"),
        ("Writes to jane.doe+walk@example.co.uk", "jane.doe+walk@example.co.uk"),
        ("Followed by John Smith from the flats", "John Smith"),
        ("Burgess Park, where Dave Smith waits", "Dave Smith"),
    ],
)
def test_text_that_may_name_someone_is_found(text, found):
    assert names_someone(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "Albany Road",
        "Burgess Park",
        "St Mary's churchyard",
        "Lamps out on Albany Road by the entrance to Burgess Park.",
        "The path behind St Mary’s churchyard",
        "Underpass by Brixton station",
        "Poorly lit. Bins block the path. Nobody about after 9pm.",
        "Near Elephant and Castle, on Walworth Road",
        "Between 18:30 and 23:00, the 345 bus stop",
        "Lamps out on Coldharbour Lane since May 2026",
        "No CCTV on the TfL side",
        "",
    ],
)
def test_places_and_times_are_not_taken_for_names(text):
    assert names_someone(text) is None
