from django.db import migrations


def load(apps, schema_editor):
    # NIST CSF 2.0 joined the shipped catalogues after 0002/0003 had run on existing databases.
    # load_frameworks adds it (and leaves the other catalogues as they are); the shipped
    # controls then get their CSF mappings, but only a control with no CSF mapping yet: on a
    # fresh database 0002 already created them from the current controls.yaml, and nothing
    # security changed is touched (controls.yaml's rule).
    from controls.catalogue import load_framework_mappings, load_frameworks

    load_frameworks(apps=apps)
    load_framework_mappings("nist-csf-2.0", apps=apps)


class Migration(migrations.Migration):
    dependencies = [("controls", "0004_item_applicability")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
