"""Recompute every object permission from the sources of truth, and re-align users' groups."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from cases.models import Resident
from permissions.grants import grants_rebuild


class Command(BaseCommand):
    help = ("Recompute the grants of every resident, case, note, visit and evacuation-list entry from the sources "
            "of truth (districts, registrations, case teams, consent, legal bases, support meetings, referrals, "
            "safety checks, the evacuation list), write what differs, and re-align users' groups with their "
            "active memberships.")

    def handle(self, *args, **options):
        with tqdm(total=Resident.objects.count(), unit="resident", disable=options["verbosity"] < 1) as bar:
            report = grants_rebuild(write=True, progress=bar.update)
        self.stdout.write(f"added {report.added}, removed {report.removed} grants")
