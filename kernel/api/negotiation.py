"""Content negotiation for endpoints that read `?format=` themselves (a report, a policy file).

DRF would take `format` as a renderer name and answer an unknown one with a bare 404; these
endpoints answer JSON (errors included) or the file they were asked for, and say what a wrong
`format` should be.
"""

from rest_framework.negotiation import DefaultContentNegotiation


class JsonOnly(DefaultContentNegotiation):
    """Ignore `?format=` (the endpoint's own parameter); answers are JSON or a file."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
