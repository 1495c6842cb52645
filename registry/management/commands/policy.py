"""`manage.py policy export|import|diff`: the tier policy as a file, for pipelines.

    policy export [--version N] [--format yaml|json] [--output FILE]
    policy import FILE                        check the file only (exit 1 if invalid)
    policy import FILE --as USER [--publish [--reason TEXT]]
    policy diff FILE                          exit 0: same rules as published; 1: differs;
                                              2: the file is invalid or unreadable

Import and publish act as a security user (`--as`), checked and audited as them, like the same
step in the browser or the API.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kernel.commands import acting_user, write_output
from kernel.errors import ApplicationError
from kernel.permissions import Action
from registry import policy_file
from registry.policy_rules import describe
from registry.selectors import policy as selectors
from registry.selectors.catalogue import capability_keys
from registry.services import policy as services

VERSION_MAX = 2_147_483_647  # the column's range: a larger number is in no database


def _read(path: str, *, returncode: int = 1) -> policy_file.PolicyDocument:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {path}: {exc}", returncode=returncode) from None
    try:
        return policy_file.parse(text, capabilities=capability_keys())
    except policy_file.PolicyFileInvalid as exc:
        lines = "\n".join(f"  {path}: {error}" for error in exc.errors)
        message = f"{exc.message.split(' First:')[0]}\n{lines}"
        raise CommandError(message, returncode=returncode) from None


class Command(BaseCommand):
    help = "Export, import (as a draft, optionally published) or diff the tier policy as a file."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        export = commands.add_parser("export", help="write a version as a policy file")
        export.add_argument("--version", type=int, help="default: the published version")
        export.add_argument("--format", choices=["yaml", "json"], default="yaml")
        export.add_argument("--output", help="a file to write (default: standard output)")
        load = commands.add_parser("import", help="check a file; with --as, open it as a draft")
        load.add_argument("file")
        load.add_argument("--as", dest="username", help="a security user: create the draft")
        load.add_argument("--publish", action="store_true", help="publish the draft at once")
        load.add_argument("--reason", default="", help="why, when the draft loosens the policy")
        diff = commands.add_parser("diff", help="exit 1 when the file differs from published")
        diff.add_argument("file")

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        try:
            getattr(self, f"_{command}")(**options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

    def _export(self, *, version: int | None, format: str, output: str | None, **_: Any) -> None:
        if version is not None and not 1 <= version <= VERSION_MAX:
            raise CommandError(f"--version must be a version number from 1; got {version}.")
        shown = selectors.policy_version_get(version) if version is not None else None
        shown = shown or selectors.policy_latest_published()
        if shown is None:
            raise CommandError("No policy version is published yet; name one with --version.")
        document = policy_file.document_of(shown)
        text = policy_file.to_yaml(document) if format == "yaml" else policy_file.to_json(document)
        if output:
            write_output(output, text)
            self.stderr.write(f"v{shown.number} ({shown.status}) written to {output}")
        else:
            self.stdout.write(text, ending="")

    def _import(
        self, *, file: str, username: str | None, publish: bool, reason: str, **_: Any
    ) -> None:
        document = _read(file)
        if username is None:
            if publish:
                raise CommandError("--publish needs --as USER (a security user).")
            self.stdout.write(f"{file}: valid, {len(document.rules)} rules. Nothing created.")
            return
        user = acting_user(username, Action.MANAGE_POLICY)
        draft = services.policy_draft_import(actor=user, document=document, source=file)
        self.stdout.write(f"Draft v{draft.number} created from {file} as {user.username}.")
        if publish:
            try:
                services.policy_publish(actor=user, version=draft, reason=reason)
            except ApplicationError as exc:
                warnings = "".join(f"\n  {w['message']}" for w in exc.extra.get("warnings", []))
                raise CommandError(
                    f"{exc.message}{warnings}\nDraft v{draft.number} is kept, unpublished."
                ) from None
            self.stdout.write(self.style.SUCCESS(f"Policy v{draft.number} published."))

    def _diff(self, *, file: str, **_: Any) -> None:
        document = _read(file, returncode=2)  # 1 means "differs": CI tells the two apart
        published = selectors.policy_latest_published()
        old = selectors.policy_rule_map(published)
        changes = selectors.rule_changes(old, document.rules)
        against = f"published v{published.number}" if published else "no published version"
        if not changes:
            self.stdout.write(f"{file}: the same rules as {against}.")
            return
        count = f"{len(changes)} rules differ" if len(changes) != 1 else "1 rule differs"
        self.stdout.write(f"{file}: {count} from {against}:")
        for change in changes:
            key = (change.tier, change.capability)
            before, after = describe(old.get(key)), describe(document.rules.get(key))
            self.stdout.write(f"  {change.tier} {change.capability}: {before} -> {after}")
        raise CommandError("The file differs from the published policy.", returncode=1)
