"""Evidence packages: a report's files zipped with a manifest, built in the background."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.urls import reverse

from controls.models import Framework


class PackageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class EvidencePackage(models.Model):
    """A zip of a report and its evidence files, built in the background for a period."""

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="evidence_packages"
    )
    period_from = models.DateField()
    period_to = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_packages"
    )
    status = models.CharField(
        max_length=16, choices=PackageStatus.choices, default=PackageStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100")
    file = models.FileField(upload_to="evidence-packages/%Y/%m/", max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="evidence_package_progress_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(period_from__lte=models.F("period_to")),
                name="evidence_package_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.framework_id} {self.period_from}..{self.period_to} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("compliance:package", kwargs={"pk": self.pk})

    @property
    def is_ready(self) -> bool:
        return self.status == PackageStatus.READY


# Who exported what, and when: creation and status changes (progress is not audited).
auditlog.register(EvidencePackage, exclude_fields=["progress"])
