"""API inputs every approval workflow shares: comments, reasons, notes."""

from rest_framework import serializers


class CommentIn(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RequiredCommentIn(serializers.Serializer):
    comment = serializers.CharField(max_length=4000)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class NoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=4000)
