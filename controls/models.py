"""Framework catalogues, the internal controls, how they map, and the evidence behind them."""

from auditlog.registry import auditlog
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

framework_key_validator = RegexValidator(
    r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$",
    "Use lowercase letters, digits, and single '-' or '.' between them (e.g. nist-ai-rmf-1.0).",
)
control_ref_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}-[0-9]{2,4}$",
    "Write control identifiers as an uppercase prefix, a dash and a number (e.g. AGC-11).",
)

STRENGTH_MIN = 1
STRENGTH_MAX = 10


FRAMEWORK_KEY_MAX_LENGTH = 64


class Relationship(models.TextChoices):
    """How a control relates to a framework item, in NIST OLIR terms (control vs item)."""

    EQUAL = "equal", "Equal"
    SUBSET = "subset", "Subset (the control covers part of the item)"
    SUPERSET = "superset", "Superset (the control covers the item and more)"
    INTERSECTS = "intersects", "Intersects (partial overlap)"


class Framework(models.Model):
    key = models.CharField(
        max_length=FRAMEWORK_KEY_MAX_LENGTH, unique=True, validators=[framework_key_validator]
    )
    name = models.CharField(max_length=300)
    version = models.CharField(max_length=200, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    source = models.TextField(blank=True)
    license_note = models.TextField(blank=True)
    notes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def get_absolute_url(self) -> str:
        return reverse("controls:framework", kwargs={"key": self.key})


class FrameworkItem(models.Model):
    """One published element (function, category, risk, layer, threat...), by its official id."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="items")
    ref_id = models.CharField(max_length=100, help_text="exactly as published, e.g. GOVERN 1.1")
    title = models.CharField(max_length=500)
    text = models.TextField(blank=True)
    kind = models.CharField(max_length=32)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    order = models.PositiveIntegerField(default=0, help_text="position in the published document")

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "ref_id"], name="item_unique_ref_id")
        ]

    def __str__(self) -> str:
        return f"{self.framework.key} {self.ref_id}"

    @property
    def label(self) -> str:
        """`ref_id — title`, without repeating a title the ref_id already carries (MAESTRO)."""
        if self.title == self.ref_id or self.ref_id.endswith(f"/ {self.title}"):
            return self.ref_id
        return f"{self.ref_id} — {self.title}"


class Control(models.Model):
    ref_id = models.CharField(max_length=16, unique=True, validators=[control_ref_validator])
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(
        "registry.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="controls",
    )
    # The security member accountable for the control (controls.services checks the role).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_controls",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ref_id"]

    def __str__(self) -> str:
        return self.ref_id

    def get_absolute_url(self) -> str:
        return reverse("controls:control", kwargs={"ref_id": self.ref_id})

    @property
    def owner_label(self) -> str:
        """Who answers for the control, in words: the person and/or the team, or "No owner"."""
        names = []
        if self.owner is not None:
            full = self.owner.get_full_name()
            names.append(f"{full} ({self.owner.username})" if full else self.owner.username)
        if self.owner_team is not None:
            names.append(f"team {self.owner_team}")
        return " · ".join(names) or "No owner"


class Mapping(models.Model):
    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="mappings")
    # PROTECT: a catalogue reload must never silently drop a mapping security relies on.
    item = models.ForeignKey(FrameworkItem, on_delete=models.PROTECT, related_name="mappings")
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    strength = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(STRENGTH_MIN), MaxValueValidator(STRENGTH_MAX)],
        help_text="1 (touches the item) to 10 (fully addresses it)",
    )
    rationale = models.TextField(help_text="one line: why this control addresses this item")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["control", "item__framework__key", "item__order"]
        constraints = [
            models.UniqueConstraint(fields=["control", "item"], name="mapping_unique_control_item"),
            models.CheckConstraint(
                condition=models.Q(strength__gte=STRENGTH_MIN, strength__lte=STRENGTH_MAX),
                name="mapping_strength_1_to_10",
            ),
            models.CheckConstraint(
                condition=models.Q(relationship__in=Relationship.values),
                name="mapping_relationship_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.control_id} → {self.item_id}"


class EvidenceFile(models.Model):
    file = models.FileField(upload_to="evidence/%Y/%m/", max_length=300)
    sha256 = models.CharField(max_length=64, db_index=True)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    description = models.TextField(blank=True)
    control = models.ForeignKey(Control, on_delete=models.PROTECT, related_name="evidence_files")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_files"
    )
    effective_on = models.DateField(help_text="the date the evidence speaks for")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-uploaded_at"]
        indexes = [models.Index(fields=["control", "effective_on"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class ItemApplicability(models.Model):
    """One version of a framework's applicability statement: security marked an item (not)
    applicable, with why. Rows are never edited: each change is a new row with the framework's
    next version number, and the item's previous row stops being `current`."""

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="applicability_versions"
    )
    item = models.ForeignKey(
        FrameworkItem, on_delete=models.PROTECT, related_name="applicability_versions"
    )
    version = models.PositiveIntegerField(help_text="the framework's statement version it made")
    applicable = models.BooleanField()
    rationale = models.TextField(help_text="why the item is (again) in or out of scope")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applicability_decisions"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    current = models.BooleanField(default=True, help_text="the item's latest version")

    class Meta:
        ordering = ["framework", "-version"]
        verbose_name_plural = "item applicability"
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "version"], name="applicability_unique_version"
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(current=True),
                name="applicability_one_current_per_item",
            ),
            models.CheckConstraint(
                condition=~models.Q(rationale=""), name="applicability_has_rationale"
            ),
        ]

    def __str__(self) -> str:
        state = "applicable" if self.applicable else "not applicable"
        return f"{self.framework_id} v{self.version}: {self.item_id} {state}"


auditlog.register(Framework)
auditlog.register(FrameworkItem)
auditlog.register(Control)
auditlog.register(Mapping)
auditlog.register(EvidenceFile)
# Versions are created, never edited; `current` only moves to the newest (not a change of it).
auditlog.register(ItemApplicability, exclude_fields=["current"])
