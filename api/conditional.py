"""ETag / If-Match for updates of shared records (lost-update protection).

The ETag is the record's version. An update must send If-Match: a missing
header answers 428, a stale one 412; the service re-checks the version in its
conditional UPDATE, so two racing writers cannot both win.
"""

from __future__ import annotations

import re

from api.problems import ProblemAPIException

_ETAG = re.compile(r'^\s*(?:W/)?"v(\d{1,9})"\s*$')


def etag_for(version: int) -> str:
    """The ETag of a record at `version`."""
    return f'"v{version}"'


def expected_version(request, obj) -> int:
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise ProblemAPIException("precondition_required")
    if header.strip() == "*":
        return obj.version
    for candidate in header.split(","):
        match = _ETAG.match(candidate)
        if match and int(match.group(1)) == obj.version:
            return obj.version
    raise ProblemAPIException("precondition_failed")
