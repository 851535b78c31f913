"""Grant the service's PostgreSQL role its rights; run by the tables' owner after every migration."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.db_roles import RoleSplitError, db_roles_grant


class Command(BaseCommand):
    help = ("As the owner of the tables (the role that migrates), give the service role the rights it uses "
            "and no more: it owns nothing and cannot disable the access log's triggers.")

    def add_arguments(self, parser):
        parser.add_argument("--service-role", required=True, help="The role web, worker and beat connect as.")

    def handle(self, *args, service_role: str, **options):
        try:
            with transaction.atomic():
                statements = db_roles_grant(service_role=service_role)
        except RoleSplitError as error:
            raise CommandError(str(error)) from None
        for statement in statements:
            self.stdout.write(statement)
        self.stdout.write(f"role {service_role} granted: {len(statements)} statements")
