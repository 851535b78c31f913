"""The catalogue of problem codes: each code's HTTP status and its message.

A code is stable (clients branch on it); its message is English text marked for translation,
answered in the caller's language (`locale/ja/LC_MESSAGES/django.po` holds the Japanese). A
message may name a limit as `%(name)s`, filled from the code's parameters, so the text always
says the limit the code enforces. A broken rule has a code of its own that names it
(`meeting_ended`, `justification_required`, ...): `rule_violation` is only `RuleViolation`'s default.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES
from cases.services.visits import BATCH_LIMIT


class Code:
    """A problem code's status and message (lazy: translated when read, in the active language)."""

    __slots__ = ("status", "text", "params")

    def __init__(self, status: int, text, **params) -> None:
        self.status = status
        self.text = text
        self.params = params

    @property
    def message(self) -> str:
        text = str(self.text)
        return text % self.params if self.params else text


CATALOGUE: dict[str, Code] = {
    "validation_error": Code(400, _("The request has invalid fields.")),
    "malformed_request": Code(400, _("The request body is not valid JSON.")),
    "body_too_deep": Code(400, _("The JSON body is nested more than %(depth)s levels deep."), depth=MAX_JSON_DEPTH),
    "body_too_many_values": Code(400, _(
        "The JSON body holds more than %(values)s values."
    ), values=f"{MAX_JSON_VALUES:,}"),
    "invalid_header": Code(400, _("A request header is invalid.")),
    "not_authenticated": Code(401, _("Authentication is required.")),
    "authentication_failed": Code(401, _("The credentials are invalid, expired or revoked.")),
    "no_active_membership": Code(403, _("You have no active membership in any organisation.")),
    "client_scope_denied": Code(403, _("This API client's scopes do not include this route.")),
    "client_required": Code(403, _("Only an organisation's API client may read this route (a person reads the API).")),
    "client_purpose_required": Code(400, _("Declare the purpose of this request in the X-Purpose header.")),
    "client_purpose_denied": Code(403, _("This API client is not registered for the purpose declared.")),
    "org_admin_required": Code(403, _("Only an org admin of the organisation may manage its API clients.")),
    "client_beyond_organization": Code(403, _(
        "A client may not have scopes its organisation does not hold: this organisation keeps no residents' "
        "records."
    )),
    "client_scope_unknown": Code(400, _("Name at least one scope from the catalogue.")),
    "client_purpose_unknown": Code(400, _("Name at least one purpose from the catalogue.")),
    "client_revoked": Code(409, _("This API client is revoked; register a new one.")),
    "client_overlap_too_long": Code(400, _("The previous key may stay valid for at most 7 days.")),
    "webhook_event_type_unknown": Code(400, _("Name at least one event type from the catalogue.")),
    "webhook_url_refused": Code(400, _("A webhook URL must be https:// with a host and no credentials in it.")),
    "webhook_replay_range_invalid": Code(400, _("Give since and until, since before until, at most 31 days apart.")),
    "not_permitted": Code(403, _("You may not perform this action.")),
    "no_casework_role": Code(403, _("Your role does not allow recording residents or cases.")),
    "district_not_assigned": Code(403, _("That district is not one of your assigned districts.")),
    "not_found": Code(404, _("Not found.")),
    "method_not_allowed": Code(405, _("Method not allowed.")),
    "not_acceptable": Code(406, _("The requested media type cannot be produced.")),
    "conflict": Code(409, _("The request conflicts with the current state.")),
    "idempotency_key_reused": Code(409, _("This Idempotency-Key was already used with a different request.")),
    "precondition_failed": Code(412, _("The record changed since you read it; reload and try again.")),
    "request_too_large": Code(413, _(
        "The request body is larger than %(bytes)s bytes (5 MiB); send fewer items per request (a visit batch"
        " holds at most %(batch)s)."
    ), bytes=f"{MAX_BODY_BYTES:,}", batch=BATCH_LIMIT),
    "unsupported_media_type": Code(415, _("Send the body as application/json.")),
    "precondition_required": Code(428, _("Send If-Match with the ETag you read.")),
    "throttled": Code(429, _("Too many requests; try again later.")),
    "token_lifetime_too_long": Code(400, _("A token lives at most the operator's limit (API_TOKEN_TTL_DAYS days).")),
    "login_throttled": Code(429, _("Too many failed logins for this account; try again later.")),
    "organization_required": Code(400, _("You belong to several organisations: say which one acts.")),
    "lead_worker_not_member": Code(400, _("The lead worker must be an active caseworker of the lead organisation.")),
    "visit_in_future": Code(400, _("The visit cannot be in the future.")),
    "partner_only": Code(403, _("Only a partner business reports warning signs, under its agreement.")),
    "partner_agreement_inactive": Code(403, _("The agreement is not in force at this time.")),
    "partner_signal_not_covered": Code(400, _("The agreement does not cover one of these signals.")),
    "partner_address_outside_area": Code(400, _("The address is outside the area of the agreement.")),
    "partner_reference_reused": Code(409, _("This reference was already used for another report.")),
    "partner_observed_in_future": Code(400, _("The observation cannot be in the future.")),
    "partner_no_ward_section": Code(409, _("No ward section can receive this report.")),
    "visit_too_old": Code(400, _("The visit is more than a year old.")),
    "visit_client_id_reused": Code(409, _("This client_id was already used for a visit on another case.")),
    "batch_size": Code(400, _("Send between 1 and %(limit)s items."), limit=BATCH_LIMIT),
    "consent_recipients_required": Code(400, _("Name at least one recipient organisation or kind.")),
    "own_right_required": Code(403, _(
        "Only an organisation that holds the resident in its own right (the district's commissioners, the "
        "registering organisation, the lead of an open case) may do this: what you see through a share does "
        "not let you widen it."
    )),
    "move_beyond_own_access": Code(403, _(
        "Moving the resident to another district would hand over records you cannot read yourself; ask the "
        "district's commissioners."
    )),
    "share_beyond_own_access": Code(403, _(
        "You may share only records you can read yourself; some of the categories you chose hold records you "
        "cannot read."
    )),
    "categories_invalid": Code(400, _("Choose one or more known data categories.")),
    "purposes_invalid": Code(400, _("Choose known purposes of use.")),
    "recipient_kinds_invalid": Code(400, _("Choose known kinds of organisation as recipients.")),
    "referral_action_unknown": Code(400, _(
        "Choose one of the referral's actions: send, cancel, enter_in_error, accept, reject, start, hold, resume,"
        " complete or fail."
    )),
    "task_kind_invalid": Code(400, _("Ask only for a safety check or a follow-up visit.")),
    "consent_proxy_required": Code(400, _("Name the proxy who decided for the resident.")),
    "consent_period_invalid": Code(400, _("The consent must end after it starts.")),
    "consent_not_withdrawable": Code(409, _("Only a given consent can be withdrawn; record a new decision instead.")),
    "supervisor_required": Code(403, _("Only a supervisor of a ward section or care centre may do this.")),
    "four_eyes_required": Code(403, _(
        "Someone other than the requester must do this (another supervisor or the ward's privacy officer)."
    )),
    "legal_basis_invalid": Code(400, _("Choose a legal basis this route accepts.")),
    "legal_basis_duration": Code(400, _(
        "The period is longer than the legal basis allows (break-glass: 72 hours; APPI27-1-1 and APPI27-1-4: "
        "30 days)."
    )),
    "justification_required": Code(400, _("Write why this access is needed (at least 10 characters).")),
    "grant_not_pending": Code(409, _("The grant is not awaiting approval.")),
    "grant_already_reviewed": Code(409, _("The grant was already reviewed.")),
    "meeting_member_inactive": Code(400, _("Every member must be an active caseworker.")),
    "meeting_needs_several_organizations": Code(400, _(
        "A support meeting is held by several organisations: name members of at least one other organisation."
    )),
    "meeting_period_invalid": Code(400, _("The meeting must end after it starts, within 30 days.")),
    "meeting_ended": Code(400, _("The meeting has ended: sharing under SWA106-6 happens only inside it.")),
    "confidentiality_not_acknowledged": Code(403, _("Acknowledge the meeting's confidentiality duty first.")),
    "meeting_case_required": Code(400, _("The resident must have a case on the meeting's agenda.")),
    "note_case_mismatch": Code(400, _("The case is not about this resident.")),
    "note_superseded": Code(409, _("This note already has a newer version; amend the latest one.")),
    "do_not_contact": Code(409, _(
        "This household must not be contacted (do-not-contact). Watch over through neighbours or partner "
        "signals and coordinate with the ward section instead."
    )),
    "referral_receiver_invalid": Code(400, _(
        "Refer to another organisation that holds records (not your own, not a partner business or "
        "neighbourhood association); a named worker must be its active member."
    )),
    "referral_basic_required": Code(400, _(
        "A referral always shares the basic category, so the receiver knows who it is about."
    )),
    "referral_reason_required": Code(400, _(
        "Give a reason (required to send, reject, cancel, hold or fail a referral)."
    )),
    "referral_not_covered": Code(409, _(
        "The resident's consent for referral to this organisation, or an active legal basis, does not cover "
        "every category you chose. Record consent or share fewer categories."
    )),
    "referral_wrong_party": Code(403, _(
        "This action belongs to the other party: the sender owns the request (send, cancel, entered-in-"
        "error), the receiver owns the work."
    )),
    "referral_transition_invalid": Code(409, _("This action is not allowed in the referral's current state.")),
    "referral_state_changed": Code(409, _(
        "Someone else changed this referral first (for example, another worker accepted it). Reload it."
    )),
    "task_assignee_invalid": Code(400, _(
        "Assign the task to an organisation on the case team (and, optionally, one of its active members)."
    )),
    "task_outcome_required": Code(400, _("Say what was done (to complete) or why (to cancel).")),
    "task_transition_invalid": Code(409, _(
        "The task is no longer open for this (someone may have acted on it first). Reload it."
    )),
    "task_answer_via_referral": Code(409, _("Answer the referral (accept or reject) to close this task.")),
    "rights_received_at_invalid": Code(400, _(
        "The request must have arrived within the last 30 days, not in the future."
    )),
    "rights_details_required": Code(400, _("Say what is to be corrected.")),
    "rights_outcome_invalid": Code(400, _("This outcome does not answer this kind of request.")),
    "rights_reason_required": Code(400, _("Give the reason when a request is refused or only partly met.")),
    "rights_request_closed": Code(409, _("The request is already closed.")),
    "statistics_period_invalid": Code(400, _("The period is a month (2025-04) or a fiscal year (FY2025).")),
    "statistics_period_not_ended": Code(400, _("Only a period that has ended can be released.")),
    "statistics_release_supervisors_only": Code(403, _("Only a supervisor of the ward section releases statistics.")),
    "rights_cessation_kind": Code(409, _("Only a cessation request stops the use of the resident's data.")),
    "legal_hold_exists": Code(409, _("This case is already under a legal hold.")),
    "legal_hold_released": Code(409, _("The legal hold was already released.")),
    # Disaster mode.
    "ward_section_required": Code(403, _(
        "Only the ward section's caseworkers of the resident's ward keep the evacuation list and its plans."
    )),
    "disaster_declarer_required": Code(403, _(
        "Only a supervisor of the ward section declares or closes a disaster event for its ward."
    )),
    "bulk_export_not_permitted": Code(403, _(
        "The printable list goes to the event's supporter organisations' staff and the ward section; welfare "
        "commissioners take no bulk export."
    )),
    "evacuation_reason_required": Code(400, _("Say why (2 to 200 characters).")),
    "evacuation_entry_exists": Code(409, _("The resident is already on the list.")),
    "evacuation_entry_not_listed": Code(409, _("The entry is not on the list (it was already removed).")),
    "evacuation_plan_superseded": Code(409, _("The plan changed meanwhile: write the new version on the current one.")),
    "evacuation_supporter_invalid": Code(400, _(
        "Supporter organisations must be of the ward and of a kind that supports evacuation."
    )),
    "disaster_client_id_reused": Code(409, _("This client_id already declared another event.")),
    "disaster_start_invalid": Code(400, _(
        "The start is now or earlier (within the basis' longest period), never later."
    )),
    "disaster_districts_invalid": Code(400, _("Name districts of your ward.")),
    "disaster_event_closed": Code(409, _("The event is already closed.")),
    "check_client_id_reused": Code(409, _("This client_id already recorded another resident's check.")),
    "check_time_invalid": Code(400, _("The check happened during the event and not in the future.")),
    "evacuated_to_required": Code(400, _("Say where the person evacuated to.")),
    "rule_violation": Code(400, _("The request breaks a rule of the record.")),
    "server_error": Code(500, _("An unexpected error occurred.")),
    "service_unavailable": Code(503, _("A dependency is unavailable.")),
    # The directory of services (service_directory/).
    "listing_not_yours": Code(403, _(
        "Only members of the organisation that runs this service may change its listing."
    )),
    "listing_approver_required": Code(403, _("New listings are approved by a supervisor of the ward section.")),
    "listing_already_decided": Code(409, _("This listing has already been approved or rejected.")),
    "listing_age_range": Code(400, _("The minimum age must not be above the maximum age.")),
    "taxonomy_term_unknown": Code(400, _("Use codes of the ward's welfare taxonomy (GET /api/hsds/taxonomy_terms).")),
    "service_not_referrable": Code(400, _(
        "This service's organisation does not receive referrals here; refer to an organisation instead."
    )),
    "service_receiver_mismatch": Code(400, _("A referral to a service goes to the organisation that runs it.")),
    "capacity_status_invalid": Code(400, _(
        "Say whether the service can take someone now: available, waitlist or full."
    )),
    "schedule_invalid": Code(400, _("A schedule needs RFC 5545 BYDAY/BYMONTHDAY values and opens before it closes.")),
}


def code_for(code: str) -> Code:
    """The code's entry; a code missing from the catalogue answers as `server_error` (a defect, never hidden)."""
    return CATALOGUE.get(code, CATALOGUE["server_error"])
