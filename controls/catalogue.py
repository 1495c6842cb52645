"""Load the shipped framework catalogues and the internal control set into the database.

Both loaders take an apps registry so the data migration can run them on its historical
models (`load_frameworks(apps=apps)`); the management command passes nothing and gets the
live models. They only use fields that exist since `0001_initial`.

- Frameworks and items are the publisher's: they are brought in line with the YAML on every
  run (update_or_create by key and by (framework, ref_id)). Items no longer in the YAML are
  kept, because mappings may point at them; they are reported as `items_stale`.
- Controls are security's once shipped: a control in controls.yaml is created, with its
  default mappings, only when its ref_id does not exist yet. Later edits are never undone.
- A framework shipped after the controls (NIST CSF 2.0) brings its mappings to controls that
  already exist through `load_framework_mappings`, run once by the migration that adds it.
"""

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps as live_apps
from django.db import transaction

HERE = Path(__file__).resolve().parent
FRAMEWORKS_DIR = HERE / "frameworks"
CONTROLS_FILE = HERE / "controls.yaml"

# Display order: the three AI frameworks auditors ask about first, NIST CSF 2.0, then the
# threat taxonomy.
FRAMEWORK_FILES = (
    "owasp-agentic-top10-2026.yaml",
    "nist-ai-rmf-1.0.yaml",
    "csa-maestro.yaml",
    "nist-csf-2.0.yaml",
    "owasp-agentic-threats-t1-t15.yaml",
)
FRAMEWORK_FIELDS = ("name", "version", "publisher", "source", "license_note", "notes")


class CatalogueError(ValueError):
    """A shipped data file is malformed; the message names the file and the entry."""


def read_framework_file(path: Path) -> dict[str, Any]:
    """Parse and check one catalogue: unique ref_ids, parents defined before their children."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "framework" not in data or "items" not in data:
        raise CatalogueError(f"{path.name}: expected 'framework' and 'items' at the top level.")
    seen: set[str] = set()
    for position, item in enumerate(data["items"]):
        ref_id = item.get("ref_id")
        if not isinstance(ref_id, str) or not ref_id:
            raise CatalogueError(f"{path.name}: item #{position} has no ref_id.")
        if ref_id in seen:
            raise CatalogueError(f"{path.name}: ref_id '{ref_id}' appears twice.")
        if item.get("parent") is not None and item["parent"] not in seen:
            raise CatalogueError(f"{path.name}: '{ref_id}' names parent '{item['parent']}' first.")
        seen.add(ref_id)
    return data


def read_framework_files() -> list[dict[str, Any]]:
    return [read_framework_file(FRAMEWORKS_DIR / name) for name in FRAMEWORK_FILES]


def read_controls_file(path: Path = CONTROLS_FILE) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["controls"]


def _model(apps: Any, name: str) -> Any:
    return (apps or live_apps).get_model("controls", name)


def _sync(instance: Any, values: dict[str, Any]) -> bool:
    """Set `values` on `instance`; True if anything differed."""
    changed = [field for field, value in values.items() if getattr(instance, field) != value]
    for field in changed:
        setattr(instance, field, values[field])
    return bool(changed)


@transaction.atomic
def load_frameworks(*, apps: Any = None) -> dict[str, int]:
    """Bring the shipped catalogues into the database; safe to run again."""
    framework_model = _model(apps, "Framework")
    item_model = _model(apps, "FrameworkItem")
    counts: Counter[str] = Counter()
    for data in read_framework_files():
        meta = data["framework"]
        values = {
            field: meta.get(field) or ([] if field == "notes" else "") for field in FRAMEWORK_FIELDS
        }
        framework, created = framework_model.objects.get_or_create(key=meta["key"], defaults=values)
        if not created and _sync(framework, values):
            framework.save()
        counts["frameworks"] += 1
        existing = {item.ref_id: item for item in item_model.objects.filter(framework=framework)}
        by_ref: dict[str, Any] = {}
        for order, entry in enumerate(data["items"], start=1):
            values = {
                "title": entry.get("title") or entry["ref_id"],
                "text": entry.get("text") or "",
                "kind": entry.get("kind") or "item",
                "order": order,
                # Parents precede children in the file (checked on read), so they exist here.
                "parent_id": by_ref[entry["parent"]].pk if entry.get("parent") else None,
            }
            item = existing.pop(entry["ref_id"], None)
            if item is None:
                item = item_model.objects.create(
                    framework=framework, ref_id=entry["ref_id"], **values
                )
                counts["items_created"] += 1
            elif _sync(item, values):
                item.save()
                counts["items_updated"] += 1
            by_ref[item.ref_id] = item
            counts["items"] += 1
        counts["items_stale"] += len(existing)
    return {
        key: counts[key]
        for key in ("frameworks", "items", "items_created", "items_updated", "items_stale")
    }


def _item_lookup(apps: Any) -> dict[tuple[str, str], Any]:
    item_model = _model(apps, "FrameworkItem")
    return {
        (item.framework.key, item.ref_id): item
        for item in item_model.objects.select_related("framework")
    }


def _create_mappings(
    apps: Any, control: Any, mappings: list[dict[str, Any]], items: dict[tuple[str, str], Any]
) -> int:
    mapping_model = _model(apps, "Mapping")
    for mapping in mappings:
        item = items.get((mapping["framework"], mapping["ref_id"]))
        if item is None:
            raise CatalogueError(
                f"controls.yaml: {control.ref_id} maps to unknown item "
                f"{mapping['framework']} '{mapping['ref_id']}'."
            )
        mapping_model.objects.create(
            control=control,
            item=item,
            relationship=mapping["relationship"],
            strength=mapping["strength"],
            rationale=mapping["rationale"],
        )
    return len(mappings)


@transaction.atomic
def load_controls(*, apps: Any = None) -> dict[str, int]:
    """Create shipped controls that do not exist yet, each with its default mappings.

    Existing controls are left exactly as security left them, including mappings they removed.
    Run after `load_frameworks` (mappings name framework items).
    """
    control_model = _model(apps, "Control")
    items = _item_lookup(apps)
    existing = set(control_model.objects.values_list("ref_id", flat=True))
    counts: Counter[str] = Counter()
    for entry in read_controls_file():
        counts["controls"] += 1
        if entry["ref_id"] in existing:
            continue
        control = control_model.objects.create(
            ref_id=entry["ref_id"],
            title=entry["title"],
            description=entry.get("description", ""),
            active=True,
        )
        counts["controls_created"] += 1
        counts["mappings_created"] += _create_mappings(
            apps, control, entry.get("mappings", []), items
        )
    return {key: counts[key] for key in ("controls", "controls_created", "mappings_created")}


@transaction.atomic
def load_framework_mappings(framework_key: str, *, apps: Any = None) -> dict[str, int]:
    """The shipped mappings into a framework that joined after the controls existed.

    A control that has no mapping into `framework_key` yet gets the ones controls.yaml gives
    it there; a control with any (created with it, or chosen by security since) is left alone,
    so nothing security removed or changed comes back. Run after `load_frameworks`.
    """
    control_model = _model(apps, "Control")
    mapping_model = _model(apps, "Mapping")
    items = _item_lookup(apps)
    controls = {control.ref_id: control for control in control_model.objects.all()}
    mapped = set(
        mapping_model.objects.filter(item__framework__key=framework_key).values_list(
            "control__ref_id", flat=True
        )
    )
    counts: Counter[str] = Counter()
    for entry in read_controls_file():
        control = controls.get(entry["ref_id"])
        if control is None or entry["ref_id"] in mapped:
            continue
        shipped = [m for m in entry.get("mappings", []) if m["framework"] == framework_key]
        created = _create_mappings(apps, control, shipped, items)
        counts["controls_mapped"] += bool(created)
        counts["mappings_created"] += created
    return {key: counts[key] for key in ("controls_mapped", "mappings_created")}
