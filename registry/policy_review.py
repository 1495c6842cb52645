"""Sections other parts of the portal add to the review of a draft before it is published.

The registry shows the draft's changes and the warnings a publish must answer; what the draft
would do to decisions and to the controls is known higher up (compliance), which registers a
provider in its `AppConfig.ready()`. A provider takes (draft, the page's query parameters).
"""

from collections.abc import Mapping

from kernel.sections import Sections
from registry.models import PolicyVersion

review_sections: Sections[[PolicyVersion, Mapping[str, str]]] = Sections()
register_review_section = review_sections.register
