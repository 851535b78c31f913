"""Verify the access log's hash chain and its external anchors: exit 1 and name every changed, removed,
reordered or re-chained entry."""

from django.core.management.base import BaseCommand

from audit.chain import access_log_verify


class Command(BaseCommand):
    help = ("Verify the access log's hash chain from the latest checkpoint against the external anchors; "
            "exit status 1 when it is broken.")

    def handle(self, *args, **options):
        result = access_log_verify()
        for problem in result.problems:
            self.stderr.write(problem)
        summary = (f"checked {result.checked} entries from position {result.start_seq} (head {result.head_seq}), "
                   f"{result.retained} kept under legal hold, {result.pending} waiting to be sealed; "
                   f"{self._anchors(result.anchors)}")
        if result.ok:
            self.stdout.write(f"access log intact: {summary}")
            return
        self.stderr.write(f"access log BROKEN ({len(result.problems)} problems): {summary}")
        raise SystemExit(1)

    @staticmethod
    def _anchors(check) -> str:
        if not check.configured:
            return "no external anchor (AUDIT_ANCHOR_PATH unset): a re-chained log cannot be told from the original"
        if check.newest is None:
            return "no anchor written yet"
        return (f"{check.checked} anchors checked, the newest at position {check.newest.seq} "
                f"({check.newest.at.isoformat(timespec='seconds')})")
