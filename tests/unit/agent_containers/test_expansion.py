import pytest

from pocketkube.agent.env import expand, mapping_for

ENV = {"VAR_A": "A", "VAR_B": "B", "EMPTY": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("$(VAR_A)", "A"),
    ("___$(VAR_A)___", "___A___"),
    ("$(VAR_A)$(VAR_B)", "AB"),
    ("$(VAR_A)-$(VAR_B)-$(VAR_C)", "A-B-$(VAR_C)"),       # undefined stays as written
    ("$(EMPTY)x", "x"),
    ("$$(VAR_A)", "$(VAR_A)"),                            # escaped reference
    ("$$$(VAR_A)", "$A"),
    ("$$$$(VAR_A)", "$$(VAR_A)"),
    ("$$", "$"),
    ("$$$$", "$$"),
    ("f000-$$VAR_A", "f000-$VAR_A"),
    ("$VAR_A", "$VAR_A"),                                 # a $ not followed by ( stays
    ("$", "$"),                                           # trailing operator
    ("foo$", "foo$"),
    ("$(VAR_A", "$(VAR_A"),                               # unclosed reference
    ("$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"),             # name runs to the first ')' and is unknown
    ("$()", "$()"),                                       # empty name is unknown
    ("${VAR_A}", "${VAR_A}"),
    ("$(VAR_A)$$(VAR_B)$(VAR_B)", "A$(VAR_B)B"),
    ("no refs", "no refs"),
    ("", ""),
])
def test_expand(text: str, expected: str) -> None:
    assert expand(text, mapping_for(ENV)) == expected


def test_first_context_wins() -> None:
    assert expand("$(X)", mapping_for({"X": "1"}, {"X": "2"})) == "1"
    assert expand("$(X)", mapping_for({}, {"X": "2"})) == "2"
