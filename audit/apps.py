from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit, provision records and residents' rights"

    def ready(self) -> None:
        # Every write to a resident's records leaves a change entry in the same transaction.
        from audit import changes

        changes.connect()
