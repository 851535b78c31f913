"""Report every disagreement between the stored grants and the policy (exit 1 if any)."""

from django.core.management.base import BaseCommand, CommandError

from permissions.grants import grants_check


class Command(BaseCommand):
    help = ("Re-derive every grant from the sources of truth and compare it with the stored rows (residents, cases, "
            "notes, visits, evacuation-list entries), report model-level permissions on sensitive models and users' "
            "groups that disagree with their active memberships; read-only, exit 1 on any disagreement.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=50, help="How many disagreements to print.")

    def handle(self, *args, **options):
        problems = grants_check()
        for line in problems[: options["limit"]]:
            self.stdout.write(line)
        if problems:
            raise CommandError(f"{len(problems)} disagreement(s) between stored permissions and the policy")
        self.stdout.write("permissions consistent with the policy")
