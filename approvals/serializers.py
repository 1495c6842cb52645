"""API inputs every approval workflow shares: comments, reasons, notes."""

from rest_framework import serializers

from kernel.api.inputs import InputSerializer
from kernel.validation import TEXT_MAX_LENGTH


class CommentIn(InputSerializer):
    comment = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class RequiredCommentIn(InputSerializer):
    comment = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class ReasonIn(InputSerializer):
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class NoteIn(InputSerializer):
    note = serializers.CharField(max_length=TEXT_MAX_LENGTH)
