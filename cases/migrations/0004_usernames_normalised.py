"""Store every user name normalised (NFKC, case-folded), so that each account has exactly one spelling.

Safe by construction: a name is changed only when its normalised form belongs to nobody else. If two
accounts would become one name (say `Sato` and `sato`), nothing is changed and the migration stops,
naming the accounts by id: an administrator renames one of them first (both people keep their
memberships, tokens and history; nothing is merged). Going back leaves the names normalised.
"""

from django.db import migrations

import cases.models.directory
from cases.usernames import username_normalize


def normalise_usernames(apps, schema_editor):
    User = apps.get_model("cases", "User")
    accounts = list(User.objects.order_by("id").values_list("id", "username"))
    by_key: dict[str, list[tuple[int, str]]] = {}
    for account_id, username in accounts:
        by_key.setdefault(username_normalize(username), []).append((account_id, username))
    collisions = {key: found for key, found in by_key.items() if len(found) > 1}
    if collisions:
        listed = "; ".join(
            f"{key!r}: " + ", ".join(f"id {account_id} ({username!r})" for account_id, username in found)
            for key, found in sorted(collisions.items())
        )
        raise RuntimeError(
            "These accounts' user names differ only in width or case, so they would become one name: "
            f"{listed}. Rename all but one of each group (e.g. in the admin), then migrate again."
        )
    for key, [(account_id, username)] in by_key.items():
        if key != username:
            User.objects.filter(id=account_id, username=username).update(username=key)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_default_escalation_policies")]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[("objects", cases.models.directory.UserManager())],
        ),
        migrations.RunPython(normalise_usernames, migrations.RunPython.noop, elidable=False),
    ]
