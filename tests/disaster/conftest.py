"""Disaster mode's world: the suite's personas, with the ward's evacuation-support list.

Mr Tanaka (district A) and Ms Suzuki (district B) live alone and are over 75, so the ward's criteria list them;
Mr Yamada (district A) too. Only Mr Tanaka consented to peacetime sharing (purpose disaster_evacuation, basic
data) with the commissioner council and the NPO. The council is district A's and B's council of record.
"""

from __future__ import annotations

import pytest

from tests.helpers import Listed, make_listed


@pytest.fixture
def listed(world) -> Listed:
    return make_listed(world)




