"""Leaderboard pages: ranks come from the whole board, so a tie spread over two pages keeps one
rank, and a member's place tells which page shows them."""

from __future__ import annotations

from bot.models import ChannelRef
from bot.store import Store
from tests.store.test_conformance import RIGHT, expected_points, play

CHANNEL = ChannelRef("test:pages", "c1")
# Three rounds: 3 members right every time, 5 right in the first two, 14 right in the last one
# only (a tie of 14 that fills page 1's tail and all of page 2), 3 never right (unranked).
HISTORIES = {
    **{f"u{i:02d}": (1, 1, 1) for i in range(3)},
    **{f"u{i:02d}": (1, 1, 0) for i in range(3, 8)},
    **{f"u{i:02d}": (0, 0, 1) for i in range(8, 22)},
    **{f"u{i:02d}": (0, 0, 0) for i in range(22, 25)},
}


async def test_pages_share_ranks_and_places_find_the_page(store: Store) -> None:
    for number in range(3):
        await play(
            store,
            CHANNEL,
            number,
            {user: RIGHT if h[number] else 0 for user, h in HISTORIES.items()},
        )
    totals = {u: expected_points([c == 1 for c in h]) for u, h in HISTORIES.items()}
    order = sorted((u for u in totals if totals[u] > 0), key=lambda u: (-totals[u], u))
    assert len(order) == 22

    seen: list[tuple[int, str, int]] = []
    for offset in (0, 10, 20, 30):
        page = await store.leaderboard(server=CHANNEL.server, period="all", offset=offset)
        assert len(page) == max(0, min(10, len(order) - offset))
        seen.extend((rank, row.user_id, row.points) for rank, row in page)
    assert [user for _, user, _ in seen] == order
    for rank, user, points in seen:
        assert rank == 1 + sum(totals[u] > points for u in order), user
    # The tie of 10-point members starts on page 1 and runs through page 3 with one rank.
    assert {rank for rank, _, points in seen if points == 10} == {9}
    assert seen[10][0] == seen[20][0] == 9

    for place, user in enumerate(order, start=1):
        assert await store.position_of(server=CHANNEL.server, period="all", user_id=user) == place
    for user in ("u22", "nobody"):
        assert await store.position_of(server=CHANNEL.server, period="all", user_id=user) is None
    assert await store.position_of(server="test:other", period="all", user_id="u00") is None

    # The standing a card reads in one go agrees with the page and the histogram.
    for place, user in enumerate(order, start=1):
        standing = await store.standing(server=CHANNEL.server, period="all", user_id=user)
        assert standing.place == place
        assert standing.score is not None
        assert standing.score.points == totals[user]
        assert standing.rank == 1 + sum(totals[u] > totals[user] for u in order)
        assert standing.ranked == 22
        light = await store.standing(
            server=CHANNEL.server, period="all", user_id=user, with_place=False
        )
        assert (light.score, light.rank, light.ranked, light.place) == (
            standing.score,
            standing.rank,
            22,
            None,
        )
    unranked = await store.standing(server=CHANNEL.server, period="all", user_id="u22")
    assert unranked.score is not None
    assert unranked.score.points == 0
    assert (unranked.rank, unranked.place, unranked.ranked) == (None, None, 22)
    nobody = await store.standing(server=CHANNEL.server, period="all", user_id="nobody")
    assert (nobody.score, nobody.rank, nobody.place, nobody.ranked) == (None, None, None, 22)
    elsewhere = await store.standing(server="test:other", period="all", user_id="u00")
    assert (elsewhere.score, elsewhere.rank, elsewhere.place, elsewhere.ranked) == (
        None,
        None,
        None,
        0,
    )
