"""factory_boy factories (Faker ja_JP) for the whole suite."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from faker import Faker

from cases.addresses import resident_address_keys
from cases.kana import kana_normalize
from cases.models import (
    Case,
    CaseTeamMember,
    CouncilArea,
    District,
    DistrictAssignment,
    Membership,
    Organization,
    Resident,
    User,
    Ward,
)
from cases.models.choices import HouseholdType, OrganizationKind, Role

factory.Faker._DEFAULT_LOCALE = "ja_JP"
fake = Faker("ja_JP")


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ward
        django_get_or_create = ("code",)

    code = "tama"
    name = "多摩区"


class CouncilAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouncilArea

    ward = factory.SubFactory(WardFactory)
    code = factory.Sequence(lambda n: f"area-{n}")
    name = factory.Sequence(lambda n: f"第{n}地区")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    council_area = factory.SubFactory(CouncilAreaFactory)
    code = factory.Sequence(lambda n: f"d-{n}")
    name = factory.Sequence(lambda n: f"登戸{n}丁目")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrganizationKind.CARE_CENTRE
    name = factory.Sequence(lambda n: f"組織{n}")
    ward = factory.SubFactory(WardFactory)
    fields = factory.LazyFunction(list)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.WORKER
    valid_from = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))
    valid_until = None

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        for district in extracted or []:
            DistrictAssignment.objects.create(membership=self, district=district)
        if create:
            from permissions.memberships import memberships_sync_user

            memberships_sync_user(user=self.user)


def _kana_name() -> str:
    return f"{fake.last_kana_name()} {fake.first_kana_name()}"


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident
        skip_postgeneration_save = True

    name_kanji = factory.Faker("name")
    name_kana = factory.LazyFunction(_kana_name)
    name_kana_key = factory.LazyAttribute(lambda o: kana_normalize(o.name_kana))
    date_of_birth = factory.Faker("date_of_birth", minimum_age=65, maximum_age=100)
    postal_code = "2140014"
    municipality = "川崎市多摩区"
    town = "登戸"
    chome = 1
    block_number = factory.Sequence(lambda n: f"{n % 30 + 1}-{n % 12 + 1}")
    address_key = factory.LazyAttribute(lambda o: resident_address_keys(
        municipality=o.municipality, town=o.town, chome=o.chome, block_number=o.block_number)["address_key"])
    district = factory.SubFactory(DistrictFactory)
    household_type = HouseholdType.LIVES_ALONE
    phone = "044-900-0000"
    registered_by = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.COMMISSIONER_COUNCIL)

    @factory.post_generation
    def grants(self, create, extracted, **kwargs):
        if create:
            from permissions.grants import grants_sync_residents

            grants_sync_residents(resident_ids=[self.id])


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    resident = factory.SubFactory(ResidentFactory)
    concern = "独居・見守り"
    lead_organization = factory.SubFactory(OrganizationFactory)
    visit_cadence_days = 30
    next_visit_due = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=10))

    @factory.post_generation
    def team(self, create, extracted, **kwargs):
        if not create:
            return
        members = {self.lead_organization_id, *(org.id for org in extracted or [])}
        for org_id in members:
            CaseTeamMember.objects.get_or_create(case=self, organization_id=org_id)
        from permissions.grants import grants_sync_residents

        grants_sync_residents(resident_ids=[self.resident_id])
