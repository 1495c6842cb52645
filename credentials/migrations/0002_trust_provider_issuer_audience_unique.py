"""One trust provider per (issuer, audience): the verifier picks the first, so a second could
never be used. An installation that has such twins is told which to change before this runs."""

from django.db import migrations, models
from django.db.models import Count


def refuse_twins(apps, schema_editor):
    TrustProvider = apps.get_model("credentials", "TrustProvider")
    twins = (
        TrustProvider.objects.values("issuer", "audience").annotate(n=Count("id")).filter(n__gt=1)
    )
    for twin in twins:
        slugs = TrustProvider.objects.filter(
            issuer=twin["issuer"], audience=twin["audience"]
        ).values_list("slug", flat=True)
        raise RuntimeError(
            f"Trust providers {', '.join(sorted(slugs))} share issuer {twin['issuer']!r} and "
            f"audience {twin['audience']!r}: only the first was ever used. Change the audience "
            "of, or delete, the others, then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_twins, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="trustprovider",
            constraint=models.UniqueConstraint(
                fields=("issuer", "audience"), name="trust_provider_issuer_audience_unique"
            ),
        ),
    ]
