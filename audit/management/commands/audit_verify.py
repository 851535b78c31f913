"""Verify the access log's hash chain: exit 1 and name every changed, removed or reordered entry."""

from django.core.management.base import BaseCommand

from audit.chain import access_log_verify


class Command(BaseCommand):
    help = "Verify the access log's hash chain from the latest checkpoint; exit status 1 when it is broken."

    def handle(self, *args, **options):
        result = access_log_verify()
        for problem in result.problems:
            self.stderr.write(problem)
        summary = (f"checked {result.checked} entries from position {result.start_seq} (head {result.head_seq}), "
                   f"{result.retained} kept under legal hold, {result.pending} waiting to be sealed")
        if result.ok:
            self.stdout.write(f"access log intact: {summary}")
            return
        self.stderr.write(f"access log BROKEN ({len(result.problems)} problems): {summary}")
        raise SystemExit(1)
