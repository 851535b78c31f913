"""The ward's welfare taxonomy (service_directory/taxonomy.py), installed or brought up to date by code."""

from django.db import migrations


def install(apps, schema_editor):
    from service_directory.taxonomy import TAXONOMY_NAME, TAXONOMY_NAME_EN, TAXONOMY_VERSION, TERMS

    Taxonomy = apps.get_model("service_directory", "Taxonomy")
    TaxonomyTerm = apps.get_model("service_directory", "TaxonomyTerm")
    taxonomy, _ = Taxonomy.objects.update_or_create(
        name=TAXONOMY_NAME, defaults={"description": TAXONOMY_NAME_EN, "version": TAXONOMY_VERSION})
    by_code = {}
    for code, parent, name, kana, english in TERMS:
        by_code[code], _ = TaxonomyTerm.objects.update_or_create(
            code=code, defaults={"taxonomy": taxonomy, "parent": by_code.get(parent), "name": name,
                                 "name_kana": kana, "name_en": english})


class Migration(migrations.Migration):
    dependencies = [("service_directory", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
