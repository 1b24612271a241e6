from django.core.files.uploadedfile import SimpleUploadedFile

from outreach.models import Attachment, Training
from tests.access_rules import CDC_ONLY, EVERYONE, Rule
from tests.builders import make_employer, make_event

PDF = b"%PDF-1.4\n%test\n"


def event(cast):
    return [make_event([make_employer()]).pk]


def target(cast):
    return [make_event([make_employer()]).targets.get().pk]


def attachment(cast):
    upload = SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")
    return [Attachment.objects.create(event=make_event(), file=upload).pk]


def training(cast):
    return [Training.objects.create(date="2025-04-01", place="县疾控中心").pk]


ACCESS = {
    "outreach:event_list": Rule(EVERYONE),
    "outreach:event_create": Rule(CDC_ONLY),
    "outreach:event_detail": Rule(EVERYONE, event),
    "outreach:event_notices": Rule(CDC_ONLY, event),
    "outreach:event_add_targets": Rule(CDC_ONLY, event, method="post"),
    "outreach:attachment_add": Rule(CDC_ONLY, event, method="post"),
    "outreach:target_sign": Rule(CDC_ONLY, target, method="post", data={"signed_on": "2025-04-02", "signer": "张三"}),
    "outreach:attachment_download": Rule(EVERYONE, attachment),
    "outreach:training_list": Rule(EVERYONE),
    "outreach:training_create": Rule(CDC_ONLY),
    "outreach:training_detail": Rule(EVERYONE, training),
}
