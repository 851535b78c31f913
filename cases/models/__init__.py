"""Domain records. Models hold data and invariants of shape; decisions live in services.

Two things beside the data: the audited models' manager (`audited.py`: no bulk write skips its change entries,
ADR 0022) and rules about one row written once as lookups (`rules.py`: "overdue", for the filter and the row).
"""

from cases.models.cases import Case, CaseTeamMember
from cases.models.consent import (
    Category,
    Consent,
    LegalBasis,
    LegalBasisGrant,
    MeetingMember,
    Purpose,
    SupportMeeting,
)
from cases.models.directory import (
    CouncilArea,
    District,
    DistrictAssignment,
    Membership,
    Organization,
    User,
    Ward,
)
from cases.models.disaster import (
    CheckOutcome,
    DisasterEvent,
    EvacuationListEntry,
    EvacuationPlan,
    SafetyCheckReport,
)
from cases.models.escalations import EscalationPolicy, EscalationStep, EscalationTarget, TaskKind
from cases.models.notes import Note
from cases.models.partners import (
    PartnerAgreement,
    PartnerReport,
    PartnerReportCandidate,
    PartnerReportRouting,
    PartnerReportState,
    PartnerSignal,
    RoutingOutcome,
)
from cases.models.referrals import Referral, ReferralEvent, ReferralStatus
from cases.models.residents import Resident
from cases.models.tasks import Task, TaskEscalation, TaskStatus
from cases.models.visits import Channel, Outcome, Visit, WarningSign

__all__ = [
    "CheckOutcome",
    "DisasterEvent",
    "EvacuationListEntry",
    "EvacuationPlan",
    "SafetyCheckReport",
    "Category",
    "Consent",
    "LegalBasis",
    "LegalBasisGrant",
    "MeetingMember",
    "Note",
    "PartnerAgreement",
    "PartnerReport",
    "PartnerReportCandidate",
    "PartnerReportRouting",
    "PartnerReportState",
    "PartnerSignal",
    "RoutingOutcome",
    "Purpose",
    "SupportMeeting",
    "Channel",
    "Outcome",
    "Visit",
    "WarningSign",
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
    "EscalationPolicy",
    "EscalationStep",
    "EscalationTarget",
    "Referral",
    "ReferralEvent",
    "ReferralStatus",
    "Task",
    "TaskEscalation",
    "TaskKind",
    "TaskStatus",
]
