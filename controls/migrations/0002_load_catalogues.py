from django.db import migrations


def load(apps, schema_editor):
    # The loader takes the historical apps registry, so it runs on this migration's models.
    from controls.catalogue import load_controls, load_frameworks

    load_frameworks(apps=apps)
    load_controls(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("controls", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
