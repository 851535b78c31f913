"""Build (or refresh) the demo Tama Ward and print the demo accounts and their API tokens."""

import os
import unicodedata

from django.core.management.base import BaseCommand, CommandError

from cases.seeding import seeding_refusal
from demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_seed

# The address `make run` serves on (backend/devserver.py reads the same variable, same default).
DEFAULT_ADDRESS = "127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Build the demo ward 多摩区 (areas, districts, organisations, ~300 synthetic residents with cases, "
        "consents and recent visits, and this morning's work: a safety check, a referral, a requested visit, "
        "overdue-visit tasks and their notifications) and the named demo accounts with fixed API tokens. "
        "Safe to run again: it refreshes the directory and the accounts and keeps the residents. "
        "Refuses to run under production settings. The examples it prints use RUN_ADDRESS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the accounts table and examples.")

    def handle(self, *args, **options):
        refusal = seeding_refusal()
        if refusal:
            raise CommandError(refusal)
        report = demo_seed()
        counts = ", ".join(f"{name} {count}" for name, count in report.counts.items())
        if report.created:
            self.stdout.write(f"seeded 多摩区: {counts}")
        else:
            self.stdout.write(f"多摩区 already had residents; refreshed the directory and demo accounts ({counts})")
        if options["quiet"]:
            return
        self.stdout.write(f"\nDemo accounts (password {DEMO_PASSWORD!r}):")
        rows = [("username", "role", "organisation", "tasks", "inbox", "unread", "API token")]
        for account in DEMO_ACCOUNTS:
            inbox = report.inboxes[account.username]
            role = f"{account.role} (admin)" if account.staff else str(account.role)
            rows.append((account.username, role, account.organization, str(inbox.open_tasks),
                         str(inbox.referrals_waiting), str(inbox.unread), account.token))
        widths = [max(_width(row[i]) for row in rows) for i in range(6)]
        for row in rows:
            cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row[:6])]
            self.stdout.write("  ".join([*cells, row[6]]))
        base = f"http://{os.environ.get('RUN_ADDRESS') or DEFAULT_ADDRESS}"
        self.stdout.write(f"\nAdmin (escalation policies): {base}/admin/ as "
                          + ", ".join(a.username for a in DEMO_ACCOUNTS if a.staff))
        token = DEMO_ACCOUNTS[0].token
        self.stdout.write(f"\nTry it (as {DEMO_ACCOUNTS[0].username}), with the server running:")
        auth = f'-H "Authorization: Bearer {token}"'
        self.stdout.write(f'  curl -s {auth} "{base}/api/v1/me"')
        self.stdout.write(f'  curl -s {auth} "{base}/api/v1/cases?overdue=true"')
        self.stdout.write(f'  curl -s -G {auth} "{base}/api/v1/residents" --data-urlencode "name_kana=たなか"')
        self.stdout.write("\nThe public directory of services (HSDS 3.0, no log-in):")
        self.stdout.write(f'  curl -s -G "{base}/api/hsds/services" --data-urlencode "search=さろん" '
                          '-d district=tama-nb01')
        self.stdout.write(f'  curl -s "{base}/api/hsds/services?taxonomy_code=CF-FOOD&open_on=2026-12-12"')


def _width(text: str) -> int:
    """Columns the text takes in a terminal: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
