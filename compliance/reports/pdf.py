"""PDF of the printable report, through WeasyPrint when it (and its system libraries) load.

Without it the printable HTML page is the deliverable (print to PDF from the browser). The
document is self-contained (inline CSS), so nothing is fetched while rendering: every URL
fetch is refused, which also keeps report text from making the server fetch addresses.
"""

from functools import cache

from kernel.errors import ApplicationError


@cache
def available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):  # OSError: pango/cairo missing on this machine
        return False
    return True


def _refuse(url: str, *args, **kwargs):
    raise ValueError(f"the report PDF fetches nothing ({url[:60]})")


def render(html: str) -> bytes:
    if not available():
        raise ApplicationError(
            "PDF export is not available on this server: open the report and print it "
            "to PDF from the browser.",
            code="pdf_unavailable",
        )
    import weasyprint

    return weasyprint.HTML(string=html, url_fetcher=_refuse).write_pdf()
