"""Attachment checks shared by outreach and visits: the file's first bytes decide its type, not its name."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

# Magic numbers of the formats a phone camera or a scanner produces.
SIGNATURES = [
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"\x89PNG\r\n\x1a\n", "PNG 图片"),
    (b"GIF87a", "GIF 图片"),
    (b"GIF89a", "GIF 图片"),
    (b"%PDF-", "PDF 文件"),
]
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Downloads are served with a type guessed from the name, so the name must be an image or PDF too:
# a PNG header followed by HTML in "x.html" would otherwise open as a web page.
EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf"}


def max_bytes() -> int:
    """FIELDWORK_UPLOAD_MAX_BYTES if set, else 10 MB, never above the site-wide UPLOAD_MAX_BYTES."""
    own = getattr(settings, "FIELDWORK_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)
    return min(own, settings.UPLOAD_MAX_BYTES)


def sniff(head: bytes) -> str | None:
    for magic, label in SIGNATURES:
        if head.startswith(magic):
            return label
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP 图片"
    return None


def validate_upload(upload) -> None:
    """Refuse anything that is not an image or a PDF by content, or that is over the size limit."""
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            f"文件“{upload.name}”大小为 {upload.size / 1024 / 1024:.1f} MB，超过上限 {limit / 1024 / 1024:.0f} MB。"
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if sniff(head) is None or Path(upload.name).suffix.lower() not in EXTENSIONS:
        raise ValidationError(f"文件“{upload.name}”不是图片（JPEG/PNG/GIF/WEBP）或 PDF，不能上传。")
