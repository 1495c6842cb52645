"""Whether two identity bindings could match one token (credentials.rules.bindings_overlap):
the rule that keeps a workload subject to one agent, over values and globs alike."""

import pytest

from credentials.rules import bindings_overlap, constraints_intersect


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("refs/heads/main", "refs/heads/main", True),
        ("refs/heads/main", "refs/heads/dev", False),
        ("refs/heads/*", "refs/heads/main", True),
        ("refs/heads/*", "refs/tags/*", False),
        ("refs/*/main", "refs/heads/*", True),  # refs/heads/main meets both
        ("a?c", "abd", False),
        ("[ab]x", "[bc]x", True),  # bx
        ("[ab]x", "[cd]x", False),
        ("[!a]", "a", False),
        ("*a", "*b", False),  # they end differently
        ("*", "", True),
    ],
)
def test_two_constraints_meet_exactly_when_some_claim_text_meets_both(first, second, overlap):
    assert constraints_intersect(first, second) is overlap
    assert constraints_intersect(second, first) is overlap


def test_bindings_overlap_unless_a_claim_both_name_cannot_meet_both():
    main, dev = {"ref": "refs/heads/main"}, {"ref": "refs/heads/dev"}
    assert not bindings_overlap(main, dev)
    assert bindings_overlap({}, main)  # no constraints: any token of that subject
    assert bindings_overlap({"repository": "acme/app"}, main)  # no claim in common
    assert not bindings_overlap({**main, "repository": "acme/app"}, {**dev, "repository": "*"})


def test_a_pathological_pair_is_answered_at_once_on_the_safe_side():
    """Hundreds of stars on both sides would walk for seconds under the provider's row lock:
    past the step limit the answer is 'may overlap', which refuses the binding."""
    # Exactly, no text meets both (one ends in a, the other in b): the limit answers first.
    assert constraints_intersect("*a" * 250, "*a" * 249 + "*b") is True
    assert constraints_intersect("*a" * 20, "*a" * 19 + "*b") is False  # within the limit
