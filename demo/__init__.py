"""The demo ward: a believable Tama Ward (川崎市多摩区) to try the API by hand (`manage.py seed_demo`).

`demo.seed.demo_seed` builds six council areas (地区民児協) with their commissioner
districts, the ward's care centres, ward sections, NPOs and partners, about
300 synthetic residents with their cases, consents and recent visits, and the
named demo accounts in `DEMO_ACCOUNTS` with a fixed password and fixed API
tokens (listed in the README). A second run refreshes the directory, the
accounts and their tokens and leaves the residents alone.

Synthetic data must never reach a production database: both seeding commands
(`seed_demo`, `seed_scale`) ask `cases.seeding.seeding_refusal` first.
"""
