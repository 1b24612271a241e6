"""最近走访 and 最早待复查 (Employer.last_visit_on, follow_up_due) follow the visits however they change."""

import datetime

from django.core.management import call_command

from employers.models import Employer
from inspections.models import Visit
from inspections.services import record_visit
from matching.review import merge
from tests.builders import make_employer, make_visit

D = datetime.date


def last_visit(employer):
    employer.refresh_from_db()
    return employer.last_visit_on


def test_recording_a_visit_sets_it_and_an_older_visit_entered_late_leaves_it(cast):
    employer = make_employer()
    assert last_visit(employer) is None
    record_visit(employer_id=employer.pk, user=cast.cdc, date=D(2025, 5, 1), outcome="承诺限期申报")
    assert last_visit(employer) == D(2025, 5, 1)
    record_visit(employer_id=employer.pk, user=cast.cdc, date=D(2025, 3, 1), outcome="承诺限期申报")
    assert last_visit(employer) == D(2025, 5, 1)


def test_it_stays_out_of_the_change_history(cast):
    employer = make_employer()
    before = employer.history.count()
    record_visit(employer_id=employer.pk, user=cast.cdc, date=D(2025, 5, 1), outcome="其他")
    assert last_visit(employer) == D(2025, 5, 1)
    assert employer.history.count() == before


def test_findings_applied_with_the_visit_keep_it(cast):
    # The employer is saved with the findings, from an instance read before the visit existed.
    employer = make_employer(workers=5)
    record_visit(
        employer_id=employer.pk,
        user=cast.cdc,
        date=D(2025, 5, 1),
        outcome="已指导申报",
        found={"workers": 12},
        apply=["workers"],
    )
    employer.refresh_from_db()
    assert (employer.workers, employer.last_visit_on) == (12, D(2025, 5, 1))


def test_editing_a_visit_moves_it(db):
    employer, other = make_employer(), make_employer()
    make_visit(employer, date=D(2025, 1, 1))
    edited = make_visit(employer, date=D(2025, 2, 1))
    edited.date = D(2025, 4, 1)
    edited.save()
    assert last_visit(employer) == D(2025, 4, 1)
    edited.employer = other
    edited.save()
    assert (last_visit(employer), last_visit(other)) == (D(2025, 1, 1), D(2025, 4, 1))


def test_deleting_visits_goes_back_to_the_one_before(db):
    employer = make_employer()
    make_visit(employer, date=D(2025, 1, 1))
    make_visit(employer, date=D(2025, 2, 1)).delete()
    assert last_visit(employer) == D(2025, 1, 1)
    Visit.objects.filter(employer=employer).delete()  # the admin's "delete selected"
    assert last_visit(employer) is None


def test_saving_an_employer_read_before_a_visit_does_not_undo_it(db):
    employer = make_employer()
    stale = Employer.objects.get(pk=employer.pk)
    make_visit(employer, date=D(2025, 5, 1))
    stale.workers = 40
    stale.save()
    assert last_visit(employer) == D(2025, 5, 1)


def test_a_merge_brings_the_other_employers_visits(cast):
    keep, other = make_employer(name="甲厂"), make_employer(name="甲厂（旧）")
    make_visit(keep, date=D(2025, 1, 1))
    make_visit(other, date=D(2025, 6, 1))
    merge(keep, other, cast.cdc, "同一单位")
    assert last_visit(keep) == D(2025, 6, 1)


def follow_up_due(employer):
    employer.refresh_from_db()
    return employer.follow_up_due


def test_the_earliest_open_follow_up_is_due_until_a_later_visit_closes_it(cast):
    employer = make_employer()
    first, _ = record_visit(
        employer_id=employer.pk, user=cast.cdc, date=D(2025, 3, 1), outcome="承诺限期申报", follow_up_on=D(2025, 4, 1)
    )
    assert follow_up_due(employer) == D(2025, 4, 1)
    # The follow-up visit closes the earlier one (a queryset update) and sets its own.
    record_visit(
        employer_id=employer.pk, user=cast.cdc, date=D(2025, 4, 2), outcome="承诺限期申报", follow_up_on=D(2025, 6, 1)
    )
    first.refresh_from_db()
    assert not first.follow_up_open and follow_up_due(employer) == D(2025, 6, 1)
    Visit.objects.filter(employer=employer).update(follow_up_open=False)
    assert follow_up_due(employer) is None


def test_the_command_catches_up_bulk_written_visits_and_can_run_again(db, capsys):
    visited, unvisited, wrong = make_employer(), make_employer(), make_employer()
    Visit.objects.bulk_create(
        [
            Visit(employer=visited, date=D(2025, 1, 1), outcome="其他"),
            Visit(
                employer=visited, date=D(2025, 3, 1), outcome="其他", follow_up_on=D(2025, 5, 1), follow_up_open=True
            ),
        ]
    )
    Employer.objects.filter(pk=wrong.pk).update(last_visit_on=D(2025, 9, 9), follow_up_due=D(2025, 9, 9))
    call_command("refresh_last_visits")
    assert "更正 2 家" in capsys.readouterr().out
    assert [last_visit(e) for e in (visited, unvisited, wrong)] == [D(2025, 3, 1), None, None]
    assert [follow_up_due(e) for e in (visited, unvisited, wrong)] == [D(2025, 5, 1), None, None]
    call_command("refresh_last_visits")
    assert "更正 0 家" in capsys.readouterr().out


def test_the_employer_page_shows_it(as_user, cast):
    employer = make_employer()
    make_visit(employer, date=D(2025, 5, 1))
    page = as_user(cast.cdc).get(employer.get_absolute_url()).content.decode()
    assert "最近走访 2025-05-01" in page
    never = as_user(cast.cdc).get(make_employer().get_absolute_url()).content.decode()
    assert "从未走访" in never
