"""API inputs every approval workflow shares: comments, reasons, notes."""

from rest_framework import serializers

from kernel.api.inputs import InputSerializer


class CommentIn(InputSerializer):
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RequiredCommentIn(InputSerializer):
    comment = serializers.CharField(max_length=4000)


class ReasonIn(InputSerializer):
    reason = serializers.CharField(max_length=4000)


class NoteIn(InputSerializer):
    note = serializers.CharField(max_length=4000)
