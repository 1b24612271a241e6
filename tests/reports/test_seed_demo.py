"""`manage.py seed_demo`: the demo county lived through the campaign, built through the app's own services.

The county is built once for the module (a small one, by the same code as the 3,000-employer demo) inside
a transaction that is rolled back afterwards; each test reads it as a user or an auditor would."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from employers import rules
from employers.choices import IndustryRisk, OperatingStatus
from employers.demo import DEMO_PASSWORD
from employers.models import Declaration, Employer, EmployerSource, OperatingChange
from hezuo_shenbao import roles
from inspections.models import Assignment, Enforcement, EnforcementAction, VerificationSample, Visit, VisitType
from matching.models import ImportBatch
from outreach.models import EventKind, OutreachEvent, Training
from reports import services
from reports.models import Bulletin, Quarter, Submission
from reports.stats import differences, quarter_figures

# One worker builds the county for all of this module's tests (make test runs xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("demo-county")
SIZE = 150


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    fast_hashing = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast_hashing):
        with transaction.atomic():
            call_command("seed_demo", employers=SIZE, stdout=open("/dev/null", "w"))
            yield
            transaction.set_rollback(True)


def _finished_quarters():
    quarter, last = Quarter(2024, 1), Quarter.containing(timezone.localdate())
    while quarter != last:
        yield quarter
        quarter = quarter.next()


@pytest.mark.django_db
def test_every_quarter_of_the_campaign_has_declarations(county):
    for quarter in _finished_quarters():
        filed = Declaration.objects.filter(declared_on__range=(quarter.start, quarter.end))
        assert filed.exists(), quarter
    kinds = set(Declaration.objects.values_list("declaration_type", flat=True))
    assert kinds == {"初次申报", "变更申报", "年度更新"}


@pytest.mark.django_db
def test_the_register_came_from_every_kind_of_list_and_was_decided_with_reasons(county):
    kinds = set(EmployerSource.objects.values_list("kind", flat=True))
    assert {"register", "department", "enforcement", "exam", "declaration"} <= kinds
    assert set(ImportBatch.objects.values_list("kind", flat=True)) >= {"exam", "monitoring", "radiation"}
    assert Employer.objects.included().exclude(register_reason="").exists()
    assert not Employer.objects.filter(register_status="已排除", register_reason="").exists()
    # Confirmations carry the day they were made in the campaign, not the day the demo was built.
    first = Employer.objects.included().order_by("register_at").first()
    assert first.register_at.date() < datetime.date(2024, 4, 1)
    assert Employer.objects.filter(workers__isnull=True).exists()
    assert Employer.objects.exclude(operating_status="在业").exists()


@pytest.mark.django_db
def test_every_list_says_the_day_it_describes(county):
    """名单截至日期: a department's list describes the month before it arrived, the city's base list the
    campaign's eve, an enforcement find its day; the figures date the employers it brought by it."""
    lists = ImportBatch.objects.filter(kind__in=rules.LIST_KINDS)
    assert {"register", "department", "enforcement"} == set(lists.values_list("kind", flat=True))
    for batch in lists:
        loaded = timezone.localdate(batch.created_at)
        assert batch.as_of < loaded or batch.kind == "enforcement" and batch.as_of == loaded, batch.file_name
    base = lists.get(kind="register")
    assert base.as_of == datetime.date(2023, 12, 31)
    assert Employer.objects.filter(listed_on=base.as_of).exists()


@pytest.mark.django_db
def test_employers_stop_resume_and_close_on_their_own_dates(county):
    """Stops entered with their date, resumptions, and registrations ended on the market regulator's
    feedback list, each dated when it happened rather than when it was loaded."""
    changes = OperatingChange.objects.all()
    assert changes.filter(status=OperatingStatus.SUSPENDED).exists()
    assert changes.filter(status=OperatingStatus.ACTIVE).exists()
    ended = changes.filter(status__in=rules.ENDED, source__contains="批次")
    assert ended.exists()
    assert all(c.effective_on < timezone.localdate(c.created_at) for c in ended)
    assert Employer.objects.filter(operating_status__in=rules.ENDED).exists()


@pytest.mark.django_db
def test_refusals_meet_enforcement_from_order_to_closed_case(county):
    assert set(Enforcement.objects.values_list("action", flat=True)) == set(EnforcementAction.values)
    for order in Enforcement.objects.filter(action=EnforcementAction.ORDER):
        assert order.visit.outcome == "拒不申报" and order.deadline > order.date
    for case in Enforcement.objects.filter(action=EnforcementAction.CASE_OPENED):
        overdue = case.employer.enforcements.filter(action=EnforcementAction.ORDER, deadline__lt=case.date)
        assert overdue.exists(), case
    assert not Enforcement.objects.filter(action=EnforcementAction.FINE, amount__isnull=True).exists()
    # At a county team's scale: most orders are complied with, cases are the exception, fines rarer still.
    orders = Enforcement.objects.filter(action=EnforcementAction.ORDER)
    assert orders.filter(corrected_on__isnull=False).exists()
    cases = Enforcement.objects.filter(action=EnforcementAction.CASE_OPENED).count()
    assert cases < orders.count()
    assert Enforcement.objects.filter(action=EnforcementAction.FINE).count() <= cases


@pytest.mark.django_db
def test_risk_classes_decided_per_employer_with_reasons_and_some_left_to_judge(county):
    judged = Employer.objects.included().filter(industry__risk=IndustryRisk.JUDGE)
    assert judged.exclude(risk_decision="").exists(), "需判断 resolved by CDC for some"
    assert judged.filter(risk_decision="").exists(), "and unresolved for others"
    assert not Employer.objects.exclude(risk_decision="").filter(risk_reason="").exists()
    raised = Employer.objects.filter(risk_decision="严重", industry__risk=IndustryRisk.GENERAL)
    assert raised.exists(), "a 一般 unit using serious-hazard materials, managed as 严重"


@pytest.mark.django_db
def test_every_visit_type_and_outreach_form_occurs(county):
    assert set(Visit.objects.values_list("visit_type", flat=True)) == set(VisitType.values)
    assert set(OutreachEvent.objects.values_list("kind", flat=True)) == set(EventKind.values)
    assert Training.objects.filter(attendance__isnull=False).exists()
    assert Visit.objects.exclude(field_check={}).exists()
    assert Assignment.objects.values("inspector").distinct().count() >= 3
    assert VerificationSample.objects.exists()


@pytest.mark.django_db
def test_every_quarter_was_submitted_and_reported(county):
    for quarter in _finished_quarters():
        assert Submission.objects.filter(year=quarter.year, quarter=quarter.quarter).exists(), quarter
        issued = Bulletin.objects.issued().get(year=quarter.year, quarter=quarter.quarter, status="done")
        assert issued.number.startswith("合卫职健发〔") and issued.issued_on > quarter.end, quarter
    numbers = list(Bulletin.objects.issued().values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    current = Quarter.containing(timezone.localdate())
    draft = Bulletin.objects.get(year=current.year, quarter=current.quarter)
    assert not draft.is_issued and draft.status == "done"


@pytest.mark.django_db
def test_every_quarters_bulletin_matches_its_figures_recomputed_now(county):
    """Read by business dates, a finished quarter's register and declarations recompute exactly as its
    bulletin gave them; only what carries no date may have been put right since, and regenerating names
    each such line: township and headcount (docs/reports.md), and which employers are one unit — two
    employers merged after the bulletin may move its totals by one each."""
    for quarter in _finished_quarters():
        bulletin = Bulletin.objects.filter(year=quarter.year, quarter=quarter.quarter).earliest("version")
        now = quarter_figures(quarter, compare=False)
        assert bulletin.figures["period"] == str(quarter)
        merged_since = Employer.history.filter(
            history_change_reason__startswith="合并 ", history_date__gt=bulletin.created_at
        ).count()
        for key in ("included", "declared"):
            for part in (("overall",), ("targets", "t2024")):
                then, later = bulletin.figures, now
                for step in part:
                    then, later = then[step], later[step]
                assert abs(then[key] - later[key]) <= merged_since, (quarter, part, key, merged_since)
        undated = (now["targets"]["t2025"]["short"], *(t["label"] for t in now["by_township"]))
        if merged_since:
            undated += ("全县", now["targets"]["t2024"]["short"])
        moved = differences(bulletin.figures, now)
        assert all(line.startswith(undated) for line in moved), (quarter, moved)


@pytest.mark.django_db
def test_bulletins_keep_what_they_said_and_a_recomputation_says_where_it_differs(county):
    """A bulletin keeps the figures it was issued with. Data dated inside its quarter that arrived later
    (a status with its date on a later list, a headcount put right) may move the quarter's figures now;
    regenerating then says where they differ from the issued version (docs/reports.md)."""
    for quarter in (Quarter(2024, 4), Quarter(2025, 4)):
        bulletin = Bulletin.objects.issued().get(year=quarter.year, quarter=quarter.quarter)
        assert all(bulletin.figures["targets"][key]["declared"] > 0 for key in ("t2024", "t2025"))
        changed = differences(bulletin.figures, quarter_figures(quarter))
        again = services.run_bulletin(services.create_bulletin(quarter).pk, pdf=False)
        assert all(line in again.message for line in changed), (quarter, changed, again.message)
        assert ("与已印发版本" in again.message) == bool(changed)


@pytest.mark.django_db
def test_the_campaign_runs_its_course_against_both_targets(county):
    t2024 = quarter_figures(Quarter(2024, 4))["targets"]["t2024"]
    assert 85 <= t2024["rate"] < 100, "target 1 narrowly missed at its deadline"
    assert quarter_figures(Quarter(2025, 1))["targets"]["t2024"]["rate"] == 100, "and met the quarter after"
    assert 88 <= quarter_figures(Quarter(2025, 4))["targets"]["t2025"]["rate"] < 100


@pytest.mark.django_db
def test_every_role_finds_data_on_its_pages(county, client):
    pages = {
        "cdc": ["employers:list", "matching:review", "matching:undeclared", "outreach:event_list", "reports:dashboard"],
        "inspector": ["inspections:work_list", "inspections:visit_list"],
        "bureau": ["reports:dashboard", "reports:bulletins", "reports:submissions"],
    }
    for username, names in pages.items():
        assert client.login(username=username, password=DEMO_PASSWORD), username
        for name in names:
            response = client.get(reverse(name))
            assert response.status_code == 200, (username, name)
        client.logout()


@pytest.mark.django_db
def test_the_dashboard_shows_the_campaigns_course_quarter_by_quarter(county, client):
    assert client.login(username="bureau", password=DEMO_PASSWORD)
    page = client.get(reverse("reports:dashboard"))
    today = Quarter.containing(timezone.localdate())
    assert page.context["quarter"] == today
    course = page.context["course"]
    assert [row["quarter"] for row in course] == [str(q) for q in [*_finished_quarters(), today]]
    end_2024 = next(row for row in course if row["quarter"] == "2024Q4")
    assert end_2024["rates"][0] == Bulletin.objects.get(year=2024, quarter=4).figures["targets"]["t2024"]["rate"]


@pytest.mark.django_db
def test_it_is_idempotent_and_resets_demo_passwords(county, client):
    before = (Employer.objects.count(), Declaration.objects.count(), Visit.objects.count())
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-someone")
    admin.save()
    call_command("seed_demo", employers=SIZE, stdout=open("/dev/null", "w"))
    assert (Employer.objects.count(), Declaration.objects.count(), Visit.objects.count()) == before
    assert client.login(username="admin", password=DEMO_PASSWORD)
    user = get_user_model().objects.get(username="inspector")
    assert list(user.groups.values_list("name", flat=True)) == [roles.INSPECTOR]
