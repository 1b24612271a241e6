"""One export job for every list a page can download whole (名单, 未申报单位, 现场记录, 申报质量): started
from the page with its filters, written by build_export_task, shown with its progress on 我的导出 and
downloaded when done. A county's list takes seconds, which no role may hold a web worker for."""

from django.core.files.base import ContentFile
from django.http import QueryDict

from employers.services import register_export
from hezuo_shenbao.lib.jobs import JobError, Progress, run_job
from hezuo_shenbao.lib.xlsx import xlsx_bytes
from inspections.exports import quality_export, visit_export
from matching.review import undeclared_export

from .models import Export

# kind → (permissions to start and download it, builder(user, query) → (filename, sheets, rows expected)).
# The builders apply the page's filters to what the user may see there (an inspector's assignments).
KINDS = {
    Export.Kind.REGISTER: (("employers.view_employer", "employers.export_employer"), register_export),
    Export.Kind.UNDECLARED: (("matching.view_sourcerecord", "employers.export_employer"), undeclared_export),
    Export.Kind.VISITS: (("inspections.view_visit",), visit_export),
    Export.Kind.QUALITY: (("inspections.view_visit",), quality_export),
}


def may_export(user, kind) -> bool:
    return kind in KINDS and user.has_perms(KINDS[kind][0])


def request_export(user, kind: str, query: str) -> Export:
    """Queue an export of a page's list; the caller checked may_export and sends the task."""
    return Export.objects.create(kind=kind, query=query[: Export._meta.get_field("query").max_length], created_by=user)


def build_export(export: Export) -> Export:
    permissions, builder = KINDS[export.kind]
    if not export.created_by.has_perms(permissions):
        raise JobError("导出人已没有此导出的权限，未生成文件。")
    export.set_progress(2, "正在筛选……")
    filename, sheets, expected = builder(export.created_by, QueryDict(export.query))
    written = Progress(export, expected)
    content = xlsx_bytes([(title, headers, written.of(rows)) for title, headers, rows in sheets])
    export.file.save(filename, ContentFile(content), save=False)
    export.finish(f"已导出 {written.count} 行", file=export.file, rows=written.count)
    return export


def run_export(export_id: int) -> Export | None:
    return run_job(Export, export_id, build_export)
