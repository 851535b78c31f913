"""Build a reproducible city-scale synthetic data set for benchmarks (see cases/scale/)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.scale import AlreadySeeded, scale_seed
from cases.seeding import seeding_refusal


class _Bars:
    """One tqdm bar per phase."""

    def __init__(self, *, enabled: bool, file) -> None:
        self.enabled, self.file, self.bar = enabled, file, None

    def phase(self, name: str, total: int) -> None:
        self.close()
        self.bar = tqdm(total=total, desc=name, unit="ward" if name == "directory" else "resident",
                        disable=not self.enabled, file=self.file)

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Build a Kawasaki-like city in bulk for benchmarks: 7 wards, one commissioner district per ~77 residents, "
        "one care centre per ~2,040, ward sections, NPOs, staff, a case for every resident (some closed), "
        "consents, notes, --years of visits at ~160 per commissioner per year, and the derived object permissions. "
        "The same --residents and --seed give the same data. Needs a database without the city; refuses to run "
        "under production settings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, required=True, help="Watched residents (100000 for the city).")
        parser.add_argument("--seed", type=int, required=True, help="Random seed: the same seed, the same data.")
        parser.add_argument("--years", type=int, default=10, help="Years of visit history (0: no visits).")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per bulk insert and per progress step.")

    def handle(self, *args, **options):
        refusal = seeding_refusal()
        if refusal:
            raise CommandError(refusal)
        if options["residents"] < 1 or options["years"] < 0 or options["batch"] < 1:
            raise CommandError("--residents and --batch must be at least 1, --years at least 0")
        bars = _Bars(enabled=options["verbosity"] >= 1, file=self.stderr)
        try:
            report = scale_seed(residents=options["residents"], seed=options["seed"], years=options["years"],
                                batch=options["batch"], progress=bars)
        except AlreadySeeded as error:
            raise CommandError(str(error)) from None
        finally:
            bars.close()
        width = max(len(table) for table in report.counts)
        for table, count in report.counts.items():
            self.stdout.write(f"{table:<{width}}  {count:>12,}")
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
        self.stdout.write(f"elapsed {sum(report.seconds.values()):.1f} s ({phases})")
