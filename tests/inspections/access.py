import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from inspections.models import Assignment, Enforcement, VerificationSample
from tests.access_rules import CDC_ONLY, EVERYONE, Rule
from tests.builders import make_assignment, make_employer, make_visit

# Who does field work: CDC staff and inspectors (the bureau reads).
FIELD = frozenset({"cdc", "inspector", "admin"})
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def assigned_visit(cast):
    employer = make_employer()
    make_assignment(cast.inspector, employer=employer)
    return make_visit(employer, cast.inspector)


def assigned_employer(cast):
    employer = make_employer()
    make_assignment(cast.inspector, employer=employer)
    return [employer.pk]


def visit(cast):
    return [assigned_visit(cast).pk]


def photo(cast):
    visit = assigned_visit(cast)
    saved = visit.photos.create(file=SimpleUploadedFile("site.png", PNG, content_type="image/png"))
    return [visit.pk, saved.pk]


def enforcement(cast):
    employer = make_employer()
    make_assignment(cast.inspector, employer=employer)
    order = Enforcement.objects.create(
        employer=employer,
        action="责令限期改正",
        date=datetime.date(2025, 5, 1),
        document_no="合卫职责改〔2025〕1号",
        deadline=datetime.date(2025, 6, 1),
    )
    return [order.pk]


def enforcement_file(cast):
    order = Enforcement.objects.get(pk=enforcement(cast)[0])
    saved = order.attachments.create(file=SimpleUploadedFile("order.png", PNG, content_type="image/png"))
    return [order.pk, saved.pk]


def assignment(cast):
    return [Assignment.objects.create(inspector=cast.inspector2, employer=make_employer()).pk]


def sample(cast):
    return [VerificationSample.objects.create(seed=1, size=0).pk]


ACCESS = {
    "inspections:notice_docx": Rule(EVERYONE, assigned_employer),
    "inspections:work_list": Rule(FIELD),
    "inspections:route_sheet": Rule(FIELD),
    "inspections:visit_list": Rule(EVERYONE),
    "inspections:visit_create": Rule(FIELD),
    "inspections:visit_detail": Rule(EVERYONE, visit),
    "inspections:visit_confirm": Rule(CDC_ONLY, visit, method="post"),
    "inspections:visit_photo": Rule(EVERYONE, photo),
    "inspections:visit_docx": Rule(EVERYONE, visit),
    "inspections:assignments": Rule(CDC_ONLY),
    "inspections:assignment_delete": Rule(CDC_ONLY, assignment, method="post"),
    "inspections:samples": Rule(CDC_ONLY),
    "inspections:sample_detail": Rule(CDC_ONLY, sample),
    # Everyone with field-work access; an inspector's lists hold only the assigned employers.
    "inspections:supervision": Rule(EVERYONE),
    "inspections:quality": Rule(EVERYONE),
    "inspections:enforcement_list": Rule(EVERYONE),
    "inspections:enforcement_create": Rule(FIELD),
    "inspections:enforcement_detail": Rule(EVERYONE, enforcement),
    "inspections:enforcement_correct": Rule(FIELD, enforcement, method="post", data={"corrected_on": "2025-06-01"}),
    "inspections:enforcement_file": Rule(EVERYONE, enforcement_file),
}
