"""The audit tests' fixtures, on top of the suite's `world` (tests/conftest.py); `records` (tests/helpers.py) holds:

- notes by commissioner Sato (health, finances) and a visit by her;
- a break-glass (APPI27-1-2) grant for the ward section about Mrs Suzuki;
- a support meeting about Mr Tanaka's case with the care-centre supervisor;
- a disclosure request from Mr Tanaka, and a legal hold on his case.
"""

from __future__ import annotations

import pytest

from audit.chain import access_log_seal
from tests.helpers import records  # noqa: F401 (a fixture: the records the audit tests read and disclose)


@pytest.fixture
def sealed():
    return access_log_seal
