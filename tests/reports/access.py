from django.core.files.base import ContentFile

from reports.models import Bulletin, Dossier, Export, Problem, Submission
from tests.access_rules import BUREAU_AND_CDC, CDC_ONLY, EVERYONE, Rule
from tests.builders import make_employer


def bulletin(cast):
    b = Bulletin.objects.create(year=2025, quarter=3, version=Bulletin.objects.count() + 1, status="done")
    b.docx.save("通报.docx", ContentFile(b"docx"))
    return [b.pk, "docx"]


def issued_problem(cast):
    b = Bulletin.objects.create(
        year=2025, quarter=3, version=Bulletin.objects.count() + 1, status="done", state="issued"
    )
    return [Problem.objects.create(bulletin=b, position=1, text="目标差距仍然较大。").pk]


# The bureau signs the bulletin: only it edits a draft and issues it.
BUREAU_ONLY = frozenset({"bureau", "admin"})


def submission(cast):
    s = Submission(year=2025, quarter=3, employer_count=1, declared_count=0, submitted_by=cast.cdc, status="done")
    s.file.save("名单.xlsx", ContentFile(b"xlsx"))
    return [s.pk]


def employer(cast):
    return [make_employer().pk]


def built_dossier(cast):
    job = Dossier.objects.create(employer=make_employer(), status="done")
    job.file.save("抽查档案.docx", ContentFile(b"x"))
    return [job.pk]


def bureau_export(cast):
    """The bureau's own export: only its maker downloads it (it holds what they may see)."""
    export = Export.objects.create(kind="register", created_by=cast.bureau, status="done")
    export.file.save("用人单位名单.xlsx", ContentFile(b"xlsx"))
    return [export.pk]


def failed_dossier(cast):
    return ["dossier", Dossier.objects.create(employer=make_employer(), status="failed").pk]


def queued_bulletin(cast):
    return ["bulletin", Bulletin.objects.create(year=2025, quarter=3, version=Bulletin.objects.count() + 1).pk]


ACCESS = {
    "reports:dashboard": Rule(BUREAU_AND_CDC),
    "reports:bulletins": Rule(BUREAU_AND_CDC),
    # An empty form is refused with a message and a redirect: the rule checks access, not a build.
    "reports:bulletin_create": Rule(BUREAU_AND_CDC, method="post"),
    "reports:bulletin_download": Rule(BUREAU_AND_CDC, bulletin),
    "reports:bulletin_progress": Rule(BUREAU_AND_CDC, lambda cast: bulletin(cast)[:1]),
    "reports:bulletin_detail": Rule(BUREAU_AND_CDC, lambda cast: bulletin(cast)[:1]),
    # Empty forms: the page again with the errors, or a message and a redirect.
    "reports:bulletin_edit": Rule(BUREAU_ONLY, lambda cast: bulletin(cast)[:1], method="post"),
    "reports:bulletin_issue": Rule(BUREAU_ONLY, lambda cast: bulletin(cast)[:1], method="post"),
    "reports:problem_resolve": Rule(BUREAU_AND_CDC, issued_problem, method="post"),
    "reports:submissions": Rule(BUREAU_AND_CDC),
    "reports:submission_create": Rule(CDC_ONLY, method="post"),
    "reports:submission_download": Rule(BUREAU_AND_CDC, submission),
    "reports:dossier_sample": Rule(BUREAU_AND_CDC),
    "reports:dossier": Rule(BUREAU_AND_CDC, employer, method="post"),
    "reports:dossier_download": Rule(BUREAU_AND_CDC, built_dossier),
    "reports:exports": Rule(EVERYONE),
    # Every role may export something (an inspector their 现场记录); the register takes export_employer.
    "reports:export_create": Rule(BUREAU_AND_CDC, method="post", data={"kind": "register"}),
    "reports:export_download": Rule(frozenset({"bureau"}), bureau_export),
    "reports:job_retry": Rule(BUREAU_AND_CDC, failed_dossier, method="post"),
    "reports:job_cancel": Rule(BUREAU_AND_CDC, queued_bulletin, method="post"),
}
