"""Domain records. Models hold data and invariants of shape; decisions live in services."""

from cases.models.cases import Case, CaseTeamMember
from cases.models.directory import (
    CouncilArea,
    District,
    DistrictAssignment,
    Membership,
    Organization,
    User,
    Ward,
)
from cases.models.residents import Resident

__all__ = [
    "Case",
    "CaseTeamMember",
    "CouncilArea",
    "District",
    "DistrictAssignment",
    "Membership",
    "Organization",
    "Resident",
    "User",
    "Ward",
]
