"""Recompute every object permission from the sources of truth."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from cases.models import Resident
from permissions.grants import grants_rebuild


class Command(BaseCommand):
    help = "Recompute all guardian object permissions from district assignments, case teams and registrations."

    def handle(self, *args, **options):
        with tqdm(total=Resident.objects.count(), unit="resident", disable=options["verbosity"] < 1) as bar:
            report = grants_rebuild(write=True, progress=bar.update)
        self.stdout.write(f"added {report.added}, removed {report.removed} grants")
