"""Errors as application/problem+json (RFC 9457) with a stable `code`.

Every error the API can answer is listed in CATALOGUE with an English and a
Japanese message; the language follows Accept-Language (LocaleMiddleware).
Serializer errors keep DRF's own (translated) messages per field.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils import translation
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES
from backend.request_id import current_request_id
from cases.errors import DomainError
from cases.services.visits import BATCH_LIMIT

logger = logging.getLogger("api.problems")

PROBLEM_CONTENT_TYPE = "application/problem+json"

# code: (status, English, Japanese)
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "validation_error": (400, "The request has invalid fields.", "リクエストの項目に誤りがあります。"),
    "malformed_request": (400, "The request body is not valid JSON.", "リクエスト本文が正しいJSONではありません。"),
    "body_too_deep": (400, f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
                      f"リクエスト本文のJSONの入れ子が{MAX_JSON_DEPTH}階層を超えています。"),
    "body_too_many_values": (400, f"The JSON body holds more than {MAX_JSON_VALUES:,} values.",
                             f"リクエスト本文のJSONの値が{MAX_JSON_VALUES:,}個を超えています。"),
    "invalid_header": (400, "A request header is invalid.", "リクエストヘッダーが不正です。"),
    "not_authenticated": (401, "Authentication is required.", "認証が必要です。"),
    "authentication_failed": (401, "The credentials are invalid, expired or revoked.",
                              "認証情報が無効、期限切れ、または失効しています。"),
    "no_active_membership": (403, "You have no active membership in any organisation.",
                             "有効な所属がありません。"),
    "client_scope_denied": (403, "This API client's scopes do not include this route.",
                            "このAPIクライアントの利用範囲（スコープ）にこの操作は含まれていません。"),
    "client_required": (403, "Only an organisation's API client may read this route (a person reads the API).",
                        "この操作は組織のAPIクライアントだけが利用できます（担当者の方は通常のAPIをご利用ください）。"),
    "client_purpose_required": (400, "Declare the purpose of this request in the X-Purpose header.",
                                "X-Purposeヘッダーでこのリクエストの利用目的を指定してください。"),
    "client_purpose_denied": (403, "This API client is not registered for the purpose declared.",
                              "このAPIクライアントは指定された利用目的で登録されていません。"),
    "org_admin_required": (403, "Only an org admin of the organisation may manage its API clients.",
                           "APIクライアントを管理できるのはその組織の組織管理者だけです。"),
    "client_beyond_organization": (403, "A client may not have scopes its organisation does not hold: this "
                                   "organisation keeps no residents' records.",
                                   "組織が持たない範囲をクライアントに与えることはできません。この組織は対象者の記録を保持しません。"),
    "client_scope_unknown": (400, "Name at least one scope from the catalogue.",
                             "スコープを一覧から一つ以上指定してください。"),
    "client_purpose_unknown": (400, "Name at least one purpose from the catalogue.",
                               "利用目的を一覧から一つ以上指定してください。"),
    "client_revoked": (409, "This API client is revoked; register a new one.",
                       "このAPIクライアントは失効しています。新しく登録してください。"),
    "client_overlap_too_long": (400, "The previous key may stay valid for at most 7 days.",
                                "以前のキーを併用できるのは最長7日間です。"),
    "webhook_event_type_unknown": (400, "Name at least one event type from the catalogue.",
                                   "イベントの種類を一覧から一つ以上指定してください。"),
    "webhook_url_refused": (400, "A webhook URL must be https:// with a host and no credentials in it.",
                            "Webhookの送信先はhttps://で始まり、ホスト名を含み、認証情報を含まないURLにしてください。"),
    "webhook_replay_range_invalid": (400, "Give since and until, since before until, at most 31 days apart.",
                                     "sinceとuntilを指定してください（since < until、最長31日間）。"),
    "not_permitted": (403, "You may not perform this action.", "この操作を行う権限がありません。"),
    "no_casework_role": (403, "Your role does not allow recording residents or cases.",
                         "あなたの役割では対象者やケースを登録できません。"),
    "district_not_assigned": (403, "That district is not one of your assigned districts.",
                              "その地区はあなたの担当地区ではありません。"),
    "not_found": (404, "Not found.", "見つかりません。"),
    "method_not_allowed": (405, "Method not allowed.", "このメソッドは使用できません。"),
    "not_acceptable": (406, "The requested media type cannot be produced.", "要求されたメディアタイプは提供できません。"),
    "conflict": (409, "The request conflicts with the current state.", "現在の状態と競合しています。"),
    "idempotency_key_reused": (409, "This Idempotency-Key was already used with a different request.",
                               "このIdempotency-Keyは別のリクエストで使用済みです。"),
    "precondition_failed": (412, "The record changed since you read it; reload and try again.",
                            "読み込み後に記録が更新されました。再読み込みしてやり直してください。"),
    "request_too_large": (413, f"The request body is larger than {MAX_BODY_BYTES:,} bytes (5 MiB); send fewer "
                          f"items per request (a visit batch holds at most {BATCH_LIMIT}).",
                          f"リクエスト本文が{MAX_BODY_BYTES:,}バイト（5MiB）を超えています。1回に送る件数を減らして"
                          f"ください（訪問記録の一括送信は{BATCH_LIMIT}件まで）。"),
    "unsupported_media_type": (415, "Send the body as application/json.",
                               "本文はapplication/jsonで送信してください。"),
    "precondition_required": (428, "Send If-Match with the ETag you read.",
                              "取得したETagをIf-Matchで送信してください。"),
    "throttled": (429, "Too many requests; try again later.", "リクエストが多すぎます。しばらくしてから再試行してください。"),
    "token_lifetime_too_long": (400, "A token lives at most the operator's limit (API_TOKEN_TTL_DAYS days).",
                                "トークンの有効期間は運用者の上限（API_TOKEN_TTL_DAYS 日）以内にしてください。"),
    "login_throttled": (429, "Too many failed logins for this account; try again later.",
                        "このアカウントへのログイン失敗が多すぎます。しばらくしてから再試行してください。"),
    "organization_required": (400, "You belong to several organisations: say which one acts.",
                              "複数の組織に所属しています。どの組織として操作するか指定してください。"),
    "lead_worker_not_member": (400, "The lead worker must be an active caseworker of the lead organisation.",
                               "担当者は主担当組織の有効な職員である必要があります。"),
    "visit_in_future": (400, "The visit cannot be in the future.", "訪問日時が未来になっています。"),
    "partner_only": (403, "Only a partner business reports warning signs, under its agreement.",
                     "見守り協定事業者のみが協定に基づいて通報できます。"),
    "partner_agreement_inactive": (403, "The agreement is not in force at this time.",
                                   "この見守り協定は現在有効ではありません。"),
    "partner_signal_not_covered": (400, "The agreement does not cover one of these signals.",
                                   "協定の対象外の兆候が含まれています。"),
    "partner_address_outside_area": (400, "The address is outside the area of the agreement.",
                                     "住所が協定の対象地域外です。"),
    "partner_reference_reused": (409, "This reference was already used for another report.",
                                 "この整理番号は別の通報で使用済みです。"),
    "partner_observed_in_future": (400, "The observation cannot be in the future.", "確認日時が未来になっています。"),
    "partner_no_ward_section": (409, "No ward section can receive this report.", "通報を受け付ける区役所の部署がありません。"),
    "visit_too_old": (400, "The visit is more than a year old.", "訪問日時が1年以上前です。"),
    "visit_client_id_reused": (409, "This client_id was already used for a visit on another case.",
                               "このclient_idは別のケースの訪問記録で使用済みです。"),
    "batch_size": (400, f"Send between 1 and {BATCH_LIMIT} items.", f"1件から{BATCH_LIMIT}件の間で送信してください。"),
    "consent_recipients_required": (400, "Name at least one recipient organisation or kind.",
                                    "提供先の組織または組織種別を1つ以上指定してください。"),
    "own_right_required": (403, "Only an organisation that holds the resident in its own right (the district's "
                           "commissioners, the registering organisation, the lead of an open case) may do this: "
                           "what you see through a share does not let you widen it.",
                           "この操作は、対象者を自ら担当する組織（担当地区の民生委員、登録した組織、進行中のケースの"
                           "主担当組織）のみが行えます。共有により閲覧できる情報を、さらに広げることはできません。"),
    "move_beyond_own_access": (403, "Moving the resident to another district would hand over records you cannot "
                               "read yourself; ask the district's commissioners.",
                               "別の地区への変更は、あなた自身が閲覧できない記録を引き渡すことになります。"
                               "担当地区の民生委員に依頼してください。"),
    "share_beyond_own_access": (403, "You may share only records you can read yourself; some of the categories "
                                "you chose hold records you cannot read.",
                                "共有できるのはあなた自身が閲覧できる記録のみです。選択した区分に閲覧できない記録が"
                                "含まれています。"),
    "categories_invalid": (400, "Choose one or more known data categories.", "情報区分を1つ以上正しく選んでください。"),
    "task_kind_invalid": (400, "Ask only for a safety check or a follow-up visit.",
                          "依頼できるのは安否確認または再訪問のみです。"),
    "consent_proxy_required": (400, "Name the proxy who decided for the resident.",
                               "本人に代わって判断した代理人の氏名を入力してください。"),
    "consent_period_invalid": (400, "The consent must end after it starts.", "同意の終了日時は開始日時より後にしてください。"),
    "consent_not_withdrawable": (409, "Only a given consent can be withdrawn; record a new decision instead.",
                                 "撤回できるのは同意のみです。新たな意思表示を記録してください。"),
    "supervisor_required": (403, "Only a supervisor of a ward section or care centre may do this.",
                            "区役所または地域包括支援センターの管理者のみが行えます。"),
    "four_eyes_required": (403, "Someone other than the requester must do this (another supervisor or the "
                           "ward's privacy officer).",
                           "申請者以外（別の管理者または区の個人情報保護責任者）が行う必要があります。"),
    "legal_basis_invalid": (400, "Choose a legal basis this route accepts.", "この操作で使用できる法的根拠を選んでください。"),
    "legal_basis_duration": (400, "The period is longer than the legal basis allows (break-glass: 72 hours; "
                             "APPI27-1-1 and APPI27-1-4: 30 days).",
                             "期間が法的根拠で認められる上限を超えています（緊急時は72時間、法令に基づく場合・"
                             "国の機関等への協力は30日まで）。"),
    "justification_required": (400, "Write why this access is needed (at least 10 characters).",
                               "アクセスが必要な理由を10文字以上で記入してください。"),
    "grant_not_pending": (409, "The grant is not awaiting approval.", "この許可は承認待ちではありません。"),
    "grant_already_reviewed": (409, "The grant was already reviewed.", "この許可は既に事後確認済みです。"),
    "meeting_member_inactive": (400, "Every member must be an active caseworker.", "全ての参加者が有効な職員である必要があります。"),
    "meeting_needs_several_organizations": (400, "A support meeting is held by several organisations: name "
                                            "members of at least one other organisation.",
                                            "支援会議は複数の組織で行います。他の組織の参加者を1名以上指定してください。"),
    "meeting_period_invalid": (400, "The meeting must end after it starts, within 30 days.",
                               "会議の終了日時は開始日時より後、30日以内にしてください。"),
    "meeting_ended": (400, "The meeting has ended: sharing under SWA106-6 happens only inside it.",
                      "会議は終了しています。支援会議での共有は会議中に限られます。"),
    "confidentiality_not_acknowledged": (403, "Acknowledge the meeting's confidentiality duty first.",
                                         "先に会議の守秘義務を確認してください。"),
    "meeting_case_required": (400, "The resident must have a case on the meeting's agenda.",
                              "対象者のケースが会議の議題に含まれている必要があります。"),
    "note_case_mismatch": (400, "The case is not about this resident.", "このケースは当該対象者のものではありません。"),
    "note_superseded": (409, "This note already has a newer version; amend the latest one.",
                        "このメモには新しい版があります。最新版を修正してください。"),
    "do_not_contact": (409, "This household must not be contacted (do-not-contact). Watch over through "
                       "neighbours or partner signals and coordinate with the ward section instead.",
                       "この世帯には接触しないでください（接触禁止）。近隣や協定事業者からの情報で見守り、"
                       "区役所と連携してください。"),
    "referral_receiver_invalid": (400, "Refer to another organisation that holds records (not your own, not a "
                                  "partner business or neighbourhood association); a named worker must be its "
                                  "active member.",
                                  "紹介先は記録を扱う他の組織を選んでください（自組織・協定事業者・町内会は不可）。"
                                  "担当者を指定する場合はその組織の有効な職員である必要があります。"),
    "referral_basic_required": (400, "A referral always shares the basic category, so the receiver knows who it "
                                "is about.", "紹介では対象者を特定できるよう、基本情報を必ず共有してください。"),
    "referral_reason_required": (400, "Give a reason (required to send, reject, cancel, hold or fail a referral).",
                                 "理由を入力してください（送付・不受理・取消・保留・対応不能の際は必須です）。"),
    "referral_not_covered": (409, "The resident's consent for referral to this organisation, or an active legal "
                             "basis, does not cover every category you chose. Record consent or share fewer "
                             "categories.",
                             "選択した情報区分の一部が、この組織への紹介に対する本人同意または有効な法的根拠の"
                             "範囲外です。同意を得るか、共有する区分を減らしてください。"),
    "referral_wrong_party": (403, "This action belongs to the other party: the sender owns the request (send, "
                             "cancel, entered-in-error), the receiver owns the work.",
                             "この操作は相手側が行います。依頼（送付・取消・誤登録）は紹介元、対応は紹介先が行います。"),
    "referral_transition_invalid": (409, "This action is not allowed in the referral's current state.",
                                    "現在のつなぎの状態ではこの操作はできません。"),
    "referral_state_changed": (409, "Someone else changed this referral first (for example, another worker "
                               "accepted it). Reload it.",
                               "他の人が先にこのつなぎを更新しました（例：別の職員が受理済み）。再読み込みしてください。"),
    "task_assignee_invalid": (400, "Assign the task to an organisation on the case team (and, optionally, one of "
                              "its active members).",
                              "タスクはケースチームの組織（必要に応じてその有効な職員）に割り当ててください。"),
    "task_outcome_required": (400, "Say what was done (to complete) or why (to cancel).",
                              "完了時は対応内容を、取消時は理由を入力してください。"),
    "task_transition_invalid": (409, "The task is no longer open for this (someone may have acted on it first). "
                                "Reload it.", "このタスクは既に対応済みか取消済みです。再読み込みしてください。"),
    "task_answer_via_referral": (409, "Answer the referral (accept or reject) to close this task.",
                                 "このタスクは、つなぎを受理または不受理にすると完了します。"),
    "rights_received_at_invalid": (400, "The request must have arrived within the last 30 days, not in the future.",
                                   "受付日時は過去30日以内で、未来でない日時にしてください。"),
    "rights_details_required": (400, "Say what is to be corrected.", "訂正等を求める内容を記入してください。"),
    "rights_outcome_invalid": (400, "This outcome does not answer this kind of request.",
                               "この結果はこの種類の請求には使えません。"),
    "rights_reason_required": (400, "Give the reason when a request is refused or only partly met.",
                               "請求に応じない場合や一部のみ応じる場合は理由を記入してください。"),
    "rights_request_closed": (409, "The request is already closed.", "この請求は既に完了しています。"),
    "statistics_period_invalid": (400, "The period is a month (2025-04) or a fiscal year (FY2025).",
                                  "期間は月（2025-04）または年度（FY2025）で指定してください。"),
    "statistics_period_not_ended": (400, "Only a period that has ended can be released.",
                                    "終了した期間のみ公表できます。"),
    "statistics_release_supervisors_only": (403, "Only a supervisor of the ward section releases statistics.",
                                            "統計の公表は区役所の管理者のみが行えます。"),
    "rights_cessation_kind": (409, "Only a cessation request stops the use of the resident's data.",
                              "利用停止はその旨の請求に対してのみ行えます。"),
    "legal_hold_exists": (409, "This case is already under a legal hold.", "このケースには既に保存命令（リーガルホールド）があります。"),
    "legal_hold_released": (409, "The legal hold was already released.", "このリーガルホールドは既に解除されています。"),
    # Disaster mode.
    "ward_section_required": (403, "Only the ward section's caseworkers of the resident's ward keep the evacuation "
                              "list and its plans.", "避難行動要支援者名簿と個別避難計画は、その区の区役所の職員が管理します。"),
    "disaster_declarer_required": (403, "Only a supervisor of the ward section declares or closes a disaster event "
                                   "for its ward.", "災害イベントの発令・終了は、その区の区役所の管理者が行います。"),
    "bulk_export_not_permitted": (403, "The printable list goes to the event's supporter organisations' staff and "
                                  "the ward section; welfare commissioners take no bulk export.",
                                  "名簿の一括出力は支援団体の職員と区役所が行います。民生委員は一括出力できません。"),
    "evacuation_reason_required": (400, "Say why (2 to 200 characters).", "理由を2〜200文字で記入してください。"),
    "evacuation_entry_exists": (409, "The resident is already on the list.", "この方は既に名簿に掲載されています。"),
    "evacuation_entry_not_listed": (409, "The entry is not on the list (it was already removed).",
                                    "この方は名簿から既に除外されています。"),
    "evacuation_plan_superseded": (409, "The plan changed meanwhile: write the new version on the current one.",
                                   "計画が更新されています。最新の版をもとに作成してください。"),
    "evacuation_supporter_invalid": (400, "Supporter organisations must be of the ward and of a kind that supports "
                                     "evacuation.", "支援団体は同じ区の、避難支援を担う種類の組織を指定してください。"),
    "disaster_client_id_reused": (409, "This client_id already declared another event.",
                                  "この client_id は別の災害イベントに使われています。"),
    "disaster_start_invalid": (400, "The start is now or earlier (within the basis' longest period), never later.",
                               "開始日時は現在以前（根拠の最長期間内）にしてください。"),
    "disaster_districts_invalid": (400, "Name districts of your ward.", "自区の地区を指定してください。"),
    "disaster_event_closed": (409, "The event is already closed.", "この災害イベントは既に終了しています。"),
    "check_client_id_reused": (409, "This client_id already recorded another resident's check.",
                               "この client_id は別の方の安否確認に使われています。"),
    "check_time_invalid": (400, "The check happened during the event and not in the future.",
                           "確認日時はイベント期間中で、未来でない日時にしてください。"),
    "evacuated_to_required": (400, "Say where the person evacuated to.", "避難先を記入してください。"),
    "rule_violation": (400, "The request breaks a rule of the record.", "記録の規則に反しています。"),
    "server_error": (500, "An unexpected error occurred.", "予期しないエラーが発生しました。"),
    "service_unavailable": (503, "A dependency is unavailable.", "依存サービスが利用できません。"),
    # The directory of services (service_directory/).
    "listing_not_yours": (403, "Only members of the organisation that runs this service may change its listing.",
                          "この掲載情報を変更できるのは、サービスを運営する組織の職員だけです。"),
    "listing_approver_required": (403, "New listings are approved by a supervisor of the ward section.",
                                  "新しい掲載情報は区役所の管理者が承認します。"),
    "listing_already_decided": (409, "This listing has already been approved or rejected.",
                                "この掲載情報はすでに承認または非承認になっています。"),
    "listing_age_range": (400, "The minimum age must not be above the maximum age.",
                          "対象年齢の下限は上限以下にしてください。"),
    "taxonomy_term_unknown": (400, "Use codes of the ward's welfare taxonomy (GET /api/hsds/taxonomy_terms).",
                              "区の福祉分類のコードを指定してください（GET /api/hsds/taxonomy_terms）。"),
    "service_not_referrable": (400, "This service's organisation does not receive referrals here; refer to an "
                               "organisation instead.",
                               "このサービスの運営組織はここでつなぎを受け付けていません。組織あてにつないでください。"),
    "service_receiver_mismatch": (400, "A referral to a service goes to the organisation that runs it.",
                                  "サービスへのつなぎは、その運営組織あてになります。"),
    "schedule_invalid": (400, "A schedule needs RFC 5545 BYDAY/BYMONTHDAY values and opens before it closes.",
                         "スケジュールはRFC 5545のBYDAY/BYMONTHDAY形式で、開始は終了より前にしてください。"),
}


# The project's own field messages (serializers, filters) in Japanese. DRF's and Django's
# messages already come translated from their own catalogues.
FIELD_MESSAGES_JA: dict[str, str] = {
    "Unknown field.": "不明な項目です。",
    "Contains characters that are not allowed.": "使用できない文字が含まれています。",
    "Enter a name using letters only.": "氏名は文字のみで入力してください。",
    "Enter the reading in kana.": "読みがなはかなで入力してください。",
    "Enter a real date of birth.": "正しい生年月日を入力してください。",
    "Enter a postal code like 214-0014.": "郵便番号は214-0014のように入力してください。",
    "Enter a Japanese phone number.": "国内の電話番号を入力してください。",
    "Enter a block number like 2-15.": "番地は2-15のように入力してください。",
    "A team has at most 20 organisations.": "チームに含められる組織は20までです。",
    "Must be after since.": "since より後の日時を指定してください。",
    "The period is at most 366 days.": "期間は366日以内にしてください。",
    "Enter true or false.": "true または false を入力してください。",
    "Invalid cursor.": "カーソルが不正です。",
    "Unknown query parameter.": "不明なクエリパラメータです。",
    "Enter a value, or leave the parameter out.": "値を入力するか、このパラメータを省略してください。",
    "Enter a whole number from 1 to 200.": "1から200までの整数を入力してください。",
    "Name the receiver or a service.": "つなぎ先の組織かサービスを指定してください。",
}


def _japanese() -> bool:
    return (translation.get_language() or "ja").startswith("ja")


def field_message(text: str) -> str:
    return FIELD_MESSAGES_JA.get(text, text) if _japanese() else text


def message(code: str) -> tuple[int, str]:
    status_code, english, japanese = CATALOGUE.get(code, CATALOGUE["server_error"])
    return status_code, (japanese if (translation.get_language() or "ja").startswith("ja") else english)


def problem_body(code: str, *, status_code: int | None = None, instance: str = "", errors=None) -> dict:
    default_status, text = message(code)
    body = {
        "type": f"urn:mimamori:problem:{code}",
        "title": text,
        "status": status_code or default_status,
        "detail": text,
        "code": code,
        "instance": instance,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = errors
    return body


def _flatten(detail, path: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            # DRF's and Django forms' (query filters) names for errors of no single field.
            non_field = key in ("non_field_errors", "__all__")
            name = path if non_field and not path else (f"{path}.{key}" if path else str(key))
            items += _flatten(value, name)
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            items += _flatten(value, f"{path}[{index}]" if nested else path)
        return items
    return [{"field": path or None, "code": getattr(detail, "code", "invalid"), "message": field_message(str(detail))}]


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "not_permitted",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}
    errors = None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = ProblemAPIException("request_too_large")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, DomainError):
        code, status_code = exc.code, exc.status
        if exc.field:
            errors = [{"field": exc.field, "code": exc.code, "message": message(exc.code)[1]}]
    elif isinstance(exc, exceptions.ValidationError):
        code, status_code = "validation_error", 400
        errors = _flatten(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code = getattr(exc, "problem_code", None) or next(
            (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "server_error"
        )
        status_code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        logger.exception("unhandled error in %s", type(exc).__name__)
        code, status_code = "server_error", 500

    body = problem_body(code, status_code=status_code, instance=instance, errors=errors)
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


class ProblemAPIException(exceptions.APIException):
    """An API-layer (not domain) error with a catalogue code, e.g. a missing If-Match."""

    def __init__(self, code: str):
        self.problem_code = code
        self.status_code = CATALOGUE[code][0]
        super().__init__(detail=code, code=code)


def django_handler404(request, exception=None):
    return JsonResponse(
        problem_body("not_found", instance=request.path), status=404, content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def django_handler500(request):
    return JsonResponse(
        problem_body("server_error", instance=request.path), status=500, content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def django_handler400(request, exception=None):
    return JsonResponse(
        problem_body("malformed_request", instance=request.path), status=400, content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def django_handler403(request, exception=None):
    return JsonResponse(
        problem_body("not_permitted", instance=request.path), status=status.HTTP_403_FORBIDDEN,
        content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False},
    )
