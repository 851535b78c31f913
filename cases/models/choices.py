"""Enumerations shared by the records and the API (stable codes, Japanese labels)."""

from django.db import models


class OrganizationKind(models.TextChoices):
    COMMISSIONER_COUNCIL = "commissioner_council", "民生委員児童委員協議会"
    CARE_CENTRE = "care_centre", "地域包括支援センター"
    WARD_SECTION = "ward_section", "区役所"
    SOCIAL_WELFARE_COUNCIL = "social_welfare_council", "社会福祉協議会"
    NPO = "npo", "NPO法人"
    NEIGHBOURHOOD_ASSOCIATION = "neighbourhood_association", "町内会・自治会"
    PARTNER_BUSINESS = "partner_business", "見守り協定事業者"


class Field(models.TextChoices):
    ELDERLY = "elderly", "高齢"
    CHILD = "child", "児童・子育て"
    DISABILITY = "disability", "障害"
    LIVELIHOOD = "livelihood", "生活困窮・生活保護"
    COMMUNITY = "community", "地域支援"
    FOREIGN_RESIDENTS = "foreign_residents", "外国人住民支援"
    LGBT = "lgbt", "LGBT支援"
    FOOD = "food", "食支援"


class Role(models.TextChoices):
    COMMISSIONER = "commissioner", "民生委員・児童委員"
    WORKER = "worker", "職員"
    SUPERVISOR = "supervisor", "管理者"
    ORG_ADMIN = "org_admin", "組織管理者"
    PRIVACY_OFFICER = "privacy_officer", "個人情報保護責任者"
    INTEGRATION = "integration", "システム連携"


class HouseholdType(models.TextChoices):
    LIVES_ALONE = "lives_alone", "独居"
    ELDERLY_COUPLE = "elderly_couple", "高齢者夫婦"
    ELDERLY_HOUSEHOLD = "elderly_household", "高齢者のみ世帯"
    WITH_FAMILY = "with_family", "家族と同居"
    SINGLE_PARENT = "single_parent", "ひとり親世帯"
    CHILD_HOUSEHOLD = "child_household", "子育て世帯"
    OTHER = "other", "その他"


class SpecialCare(models.TextChoices):
    DEMENTIA = "dementia", "認知症"
    DISABILITY_PHYSICAL = "disability_physical", "身体障害"
    DISABILITY_INTELLECTUAL = "disability_intellectual", "知的障害"
    DISABILITY_MENTAL = "disability_mental", "精神障害"
    BEDRIDDEN = "bedridden", "寝たきり"
    HOARDING = "hoarding", "ごみ屋敷・セルフネグレクト"
    ABUSE_RISK = "abuse_risk", "虐待リスク"
    DV_RISK = "dv_risk", "DV被害リスク"
    ISOLATION = "isolation", "社会的孤立"
    LANGUAGE_SUPPORT = "language_support", "言語支援"
    EVACUATION_SUPPORT = "evacuation_support", "避難行動要支援"


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "英語"
    ZH = "zh", "中国語"
    KO = "ko", "韓国語"
    VI = "vi", "ベトナム語"
    TL = "tl", "タガログ語"
    PT = "pt", "ポルトガル語"
    NE = "ne", "ネパール語"
    ES = "es", "スペイン語"
    OTHER = "other", "その他"


class CaseStatus(models.TextChoices):
    OPEN = "open", "対応中"
    MONITORING = "monitoring", "見守り継続"
    ON_HOLD = "on_hold", "保留"
    CLOSED = "closed", "終結"


class RiskLevel(models.TextChoices):
    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"
    URGENT = "urgent", "緊急"


class Urgency(models.TextChoices):
    """How soon a referral must be answered or a task acted on."""

    ROUTINE = "routine", "通常"
    URGENT = "urgent", "至急"
    EMERGENCY = "emergency", "緊急"
