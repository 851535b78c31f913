from django.apps import AppConfig


class ServiceDirectoryConfig(AppConfig):
    name = "service_directory"
    verbose_name = "Directory of services and community activities"
