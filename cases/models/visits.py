"""The visit / contact log (訪問記録): what a commissioner or worker saw, when."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.cases import Case
from cases.models.directory import Organization


class Channel(models.TextChoices):
    HOME_VISIT = "home_visit", "訪問"
    PHONE = "phone", "電話"
    SALON = "salon", "サロン"
    VIA_NEIGHBOUR = "via_neighbour", "近隣から"
    OFFICE = "office", "来所"


class Outcome(models.TextChoices):
    MET = "met", "面会"
    ABSENT = "absent", "不在"
    NO_ANSWER = "no_answer", "応答なし"
    REFUSED = "refused", "拒否"
    HOSPITALISED = "hospitalised", "入院"
    MOVED = "moved", "転居"
    DECEASED = "deceased", "死亡"


class WarningSign(models.TextChoices):
    MAIL_PILING = "mail_piling", "郵便物が溜まっている"
    NEWSPAPERS_PILING = "newspapers_piling", "新聞が溜まっている"
    LIGHTS_DAY_AND_NIGHT = "lights_day_and_night", "昼夜点灯"
    SMELL = "smell", "異臭"
    METER_NOT_MOVING = "meter_not_moving", "メーターが動いていない"
    CONFUSION = "confusion", "混乱"
    INJURY = "injury", "けが"
    WEIGHT_LOSS = "weight_loss", "体重減少"


class Visit(models.Model):
    """One contact. `client_id` is made by the phone, so an offline retry is stored once."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="visits", db_index=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="visits")
    client_id = models.UUIDField()
    occurred_at = models.DateTimeField(help_text="When it happened (may be days before the upload).")
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    warning_signs = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True, max_length=4000)

    objects = AuditedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recorded_by", "client_id"], name="visit_unique_client_id"),
        ]
        indexes = [models.Index(fields=["case", "-occurred_at", "-id"])]

    def __str__(self) -> str:
        return f"Visit {self.pk}"
