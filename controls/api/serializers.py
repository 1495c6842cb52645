"""Output shapes of the compliance API, and input validation that carries no business rule."""

from rest_framework import serializers

from controls import selectors
from controls.models import (
    FRAMEWORK_KEY_MAX_LENGTH,
    STRENGTH_MAX,
    STRENGTH_MIN,
    Control,
    Framework,
    FrameworkItem,
    ItemApplicability,
    Mapping,
    Relationship,
)
from controls.services import MAX_DESCRIPTION_CHARS
from kernel.api.inputs import InputSerializer
from kernel.validation import SLUG_MAX_LENGTH


class FrameworkOut(serializers.ModelSerializer):
    items_count = serializers.IntegerField(source="items_total", help_text="every item")
    items_not_applicable = serializers.IntegerField(help_text="marked out of scope by security")
    items_applicable = serializers.IntegerField()
    items_covered = serializers.IntegerField(help_text="applicable items with an active control")
    coverage = serializers.SerializerMethodField(
        help_text="percent of applicable items with an active control"
    )

    class Meta:
        model = Framework
        fields = [
            "key",
            "name",
            "version",
            "publisher",
            "items_count",
            "items_not_applicable",
            "items_applicable",
            "items_covered",
            "coverage",
        ]

    def get_coverage(self, framework: Framework) -> float:
        return selectors.coverage_percent(framework)


class ApplicabilityVersionOut(serializers.ModelSerializer):
    """One version of an applicability statement."""

    ref_id = serializers.CharField(source="item.ref_id")
    decided_by = serializers.CharField(source="decided_by.username")

    class Meta:
        model = ItemApplicability
        fields = ["version", "ref_id", "applicable", "rationale", "decided_by", "decided_at"]


class SharedFrameworkOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    controls = serializers.ListField(child=serializers.CharField(), help_text="shared controls")


class StatementOut(serializers.Serializer):
    """A framework's applicability statement: its version and the items out of scope now."""

    version = serializers.IntegerField(help_text="0 until security first changes it")
    not_applicable = ApplicabilityVersionOut(many=True)


class FrameworkDetailOut(FrameworkOut):
    applicability = StatementOut(help_text="the applicability statement as it stands")
    shares_controls_with = SharedFrameworkOut(many=True)

    class Meta(FrameworkOut.Meta):
        fields = [
            *FrameworkOut.Meta.fields,
            "source",
            "license_note",
            "notes",
            "applicability",
            "shares_controls_with",
        ]


class FrameworkItemOut(serializers.ModelSerializer):
    # The metaclass moves declared fields off the class, so this does not shadow Field.parent.
    parent = serializers.CharField(source="parent.ref_id", default=None)  # type: ignore[assignment]
    controls = serializers.SerializerMethodField()
    applicable = serializers.SerializerMethodField()
    not_applicable = serializers.SerializerMethodField(
        help_text="the version that put the item out of scope, or null"
    )

    class Meta:
        model = FrameworkItem
        fields = [
            "ref_id",
            "title",
            "kind",
            "parent",
            "text",
            "controls",
            "applicable",
            "not_applicable",
        ]

    def get_controls(self, item: FrameworkItem) -> list[str]:
        return [mapping.control.ref_id for mapping in item.mappings.all()]

    def _out_of_scope(self, item: FrameworkItem) -> ItemApplicability | None:
        # `framework_items` prefetches the item's current version into this list.
        current: list[ItemApplicability] = getattr(item, "current_applicability", [])
        return next((row for row in current if not row.applicable), None)

    def get_applicable(self, item: FrameworkItem) -> bool:
        return self._out_of_scope(item) is None

    def get_not_applicable(self, item: FrameworkItem) -> dict | None:
        row = self._out_of_scope(item)
        return ApplicabilityVersionOut(row).data if row else None


class ItemApplicabilityOut(serializers.Serializer):
    """An item's applicability now, and every version of it, newest first."""

    framework = serializers.CharField()
    ref_id = serializers.CharField()
    applicable = serializers.BooleanField()
    current = ApplicabilityVersionOut(allow_null=True, help_text="null: never changed")
    history = ApplicabilityVersionOut(many=True)


class MappingOut(serializers.ModelSerializer):
    framework = serializers.CharField(source="item.framework.key")
    ref_id = serializers.CharField(source="item.ref_id")
    item_title = serializers.CharField(source="item.title")

    class Meta:
        model = Mapping
        fields = ["framework", "ref_id", "item_title", "relationship", "strength", "rationale"]


class ControlBase(serializers.ModelSerializer):
    """What every view of a control shows; the owner by username, the owner team by slug."""

    owner = serializers.CharField(
        source="owner.username", default=None, help_text="the security member who owns it"
    )
    owner_team = serializers.CharField(source="owner_team.slug", default=None)

    class Meta:
        model = Control
        fields = ["ref_id", "title", "description", "owner", "owner_team", "active"]


class ControlOut(ControlBase):
    mappings_count = serializers.IntegerField()
    frameworks_count = serializers.IntegerField()
    evidence_count = serializers.IntegerField()

    class Meta(ControlBase.Meta):
        fields = [*ControlBase.Meta.fields, "mappings_count", "frameworks_count", "evidence_count"]


class EvidenceOut(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    effective_on = serializers.DateField()
    uploaded_at = serializers.DateTimeField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    description = serializers.CharField()


class ControlDetailOut(ControlBase):
    mappings = MappingOut(many=True, read_only=True)
    evidence = EvidenceOut(source="evidence_files", many=True, read_only=True)

    class Meta(ControlBase.Meta):
        fields = [*ControlBase.Meta.fields, "created_at", "updated_at", "mappings", "evidence"]


class ControlIn(InputSerializer):
    ref_id = serializers.CharField(max_length=16, help_text="e.g. AGC-11")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_DESCRIPTION_CHARS
    )
    owner = serializers.CharField(
        required=False, allow_null=True, max_length=150, help_text="a security member's username"
    )
    owner_team = serializers.CharField(
        required=False, allow_null=True, max_length=SLUG_MAX_LENGTH, help_text="team slug"
    )
    active = serializers.BooleanField(required=False, default=True)


class ControlPatchIn(InputSerializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_DESCRIPTION_CHARS
    )
    owner = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=150,
        help_text="a security member's username, or null",
    )
    owner_team = serializers.CharField(
        required=False, allow_null=True, max_length=SLUG_MAX_LENGTH, help_text="team slug, or null"
    )
    active = serializers.BooleanField(required=False)


class MappingIn(InputSerializer):
    framework = serializers.CharField(
        max_length=FRAMEWORK_KEY_MAX_LENGTH, help_text="framework key"
    )
    ref_id = serializers.CharField(max_length=100, help_text="item ref_id exactly as published")
    relationship = serializers.ChoiceField(choices=Relationship.choices)
    strength = serializers.IntegerField(min_value=STRENGTH_MIN, max_value=STRENGTH_MAX)
    rationale = serializers.CharField(max_length=1000)


class ApplicabilityIn(InputSerializer):
    applicable = serializers.BooleanField(help_text="false: out of the portal's scope")
    rationale = serializers.CharField(
        required=False, allow_blank=True, help_text="required: why (at most 1000 characters)"
    )


class MappingPatchIn(InputSerializer):
    relationship = serializers.ChoiceField(choices=Relationship.choices, required=False)
    strength = serializers.IntegerField(
        min_value=STRENGTH_MIN, max_value=STRENGTH_MAX, required=False
    )
    rationale = serializers.CharField(max_length=1000, required=False)
