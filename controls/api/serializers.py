"""Output shapes of the compliance API, and input validation that carries no business rule."""

from rest_framework import serializers

from controls import selectors
from controls.models import (
    STRENGTH_MAX,
    STRENGTH_MIN,
    Control,
    Framework,
    FrameworkItem,
    Mapping,
    Relationship,
)
from kernel.api.inputs import InputSerializer


class FrameworkOut(serializers.ModelSerializer):
    items_count = serializers.IntegerField(source="items_total")
    items_covered = serializers.IntegerField()
    coverage = serializers.SerializerMethodField(help_text="percent of items with a control")

    class Meta:
        model = Framework
        fields = ["key", "name", "version", "publisher", "items_count", "items_covered", "coverage"]

    def get_coverage(self, framework: Framework) -> float:
        return selectors.coverage_percent(framework)


class FrameworkDetailOut(FrameworkOut):
    class Meta(FrameworkOut.Meta):
        fields = [*FrameworkOut.Meta.fields, "source", "license_note", "notes"]


class FrameworkItemOut(serializers.ModelSerializer):
    # The metaclass moves declared fields off the class, so this does not shadow Field.parent.
    parent = serializers.CharField(source="parent.ref_id", default=None)  # type: ignore[assignment]
    controls = serializers.SerializerMethodField()

    class Meta:
        model = FrameworkItem
        fields = ["ref_id", "title", "kind", "parent", "text", "controls"]

    def get_controls(self, item: FrameworkItem) -> list[str]:
        return [mapping.control.ref_id for mapping in item.mappings.all()]


class MappingOut(serializers.ModelSerializer):
    framework = serializers.CharField(source="item.framework.key")
    ref_id = serializers.CharField(source="item.ref_id")
    item_title = serializers.CharField(source="item.title")

    class Meta:
        model = Mapping
        fields = ["framework", "ref_id", "item_title", "relationship", "strength", "rationale"]


class ControlBase(serializers.ModelSerializer):
    """What every view of a control shows; the owner team by its slug."""

    owner_team = serializers.CharField(source="owner_team.slug", default=None)

    class Meta:
        model = Control
        fields = ["ref_id", "title", "description", "owner_team", "active"]


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
    description = serializers.CharField(required=False, allow_blank=True)
    owner_team = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text="team slug"
    )
    active = serializers.BooleanField(required=False, default=True)


class ControlPatchIn(InputSerializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    owner_team = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text="team slug, or null"
    )
    active = serializers.BooleanField(required=False)


class MappingIn(InputSerializer):
    framework = serializers.CharField(max_length=64, help_text="framework key")
    ref_id = serializers.CharField(max_length=100, help_text="item ref_id exactly as published")
    relationship = serializers.ChoiceField(choices=Relationship.choices)
    strength = serializers.IntegerField(min_value=STRENGTH_MIN, max_value=STRENGTH_MAX)
    rationale = serializers.CharField(max_length=1000)


class MappingPatchIn(InputSerializer):
    relationship = serializers.ChoiceField(choices=Relationship.choices, required=False)
    strength = serializers.IntegerField(
        min_value=STRENGTH_MIN, max_value=STRENGTH_MAX, required=False
    )
    rationale = serializers.CharField(max_length=1000, required=False)
