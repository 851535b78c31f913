from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import schema  # noqa: F401  (registers the client key's security scheme)
        from integrations.events import events_from_messages, events_from_notices
        from notifications.outbox import organization_listeners, outbox_listeners

        if events_from_messages not in outbox_listeners:
            outbox_listeners.append(events_from_messages)
        if events_from_notices not in organization_listeners:
            organization_listeners.append(events_from_notices)
