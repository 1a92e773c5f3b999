"""The route decision: ≤ 1 Go (10^9 octets) direct deposit, > 1 Go hosting by HDH."""

from __future__ import annotations

import pytest

from hdh_wizard.core.enums import Route
from hdh_wizard.core.route import ONE_GO, decide_route


def test_one_go_is_ten_to_the_ninth_bytes_not_a_gibibyte() -> None:
    assert ONE_GO == 1_000_000_000


@pytest.mark.parametrize("total_bytes", [0, 1, 999_999_999, 10**9])
def test_up_to_one_go_inclusive_the_partner_deposits_directly(total_bytes: int) -> None:
    assert decide_route(total_bytes) is Route.DIRECT


@pytest.mark.parametrize("total_bytes", [10**9 + 1, 2**30, 2_700_000_000, 10**15])
def test_above_one_go_the_base_is_hosted_by_hdh(total_bytes: int) -> None:
    assert decide_route(total_bytes) is Route.HOSTED


def test_a_gibibyte_is_already_over_the_threshold() -> None:
    # 1 Gio = 1 073 741 824 octets: a base "of 1 GB" measured in binary units is hosted.
    assert ONE_GO < 2**30
    assert decide_route(2**30) is Route.HOSTED
