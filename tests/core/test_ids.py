"""Ids: the one generator, its shape, and that every character it may use turns up."""

from collections import Counter

from core.ids import ID_LENGTH, ID_PATTERN, new_id


def test_ids_have_the_documented_shape_and_do_not_repeat():
    ids = [new_id() for _ in range(10_000)]

    assert len(set(ids)) == len(ids)
    assert all(len(i) == ID_LENGTH and ID_PATTERN.fullmatch(i) for i in ids)


def test_every_position_uses_its_whole_alphabet_about_evenly():
    ids = [new_id() for _ in range(20_000)]

    first = Counter(i[0] for i in ids)
    assert len(first) == 26
    for position in range(1, ID_LENGTH):
        counts = Counter(i[position] for i in ids)
        assert len(counts) == 36, position
        # 20,000 / 36 = 556 expected; a fair draw stays well inside 400..720 (over 6 sigma).
        assert min(counts.values()) > 400 and max(counts.values()) < 720, (position, counts)
