from django.db import migrations


def load(apps, schema_editor):
    # AGC-11 (short-lived credentials) joined controls.yaml after 0002 had run on existing
    # databases. The loaders only create controls whose ref_id is missing (security's edits
    # to existing ones stay), so on a fresh database, where 0002 already read the current
    # file, this changes nothing.
    from controls.catalogue import load_controls, load_frameworks

    load_frameworks(apps=apps)
    load_controls(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("controls", "0002_load_catalogues")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
