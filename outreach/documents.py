"""告知单: the notice an inspector or the CDC hands to an employer."""

from django.utils import timezone
from docx import Document

from employers.models import Employer
from hezuo_shenbao.lib.clean import clean_text
from hezuo_shenbao.lib.docx import ISSUER, add_title, facts_table, new_document

NOTICE_TITLE = "职业病危害项目申报告知单"


def notice_document(employer: Employer) -> Document:
    """职业病危害项目申报告知单, filled in for one employer."""
    return notices_document([employer])


def notices_document(employers) -> Document:
    """One 告知单 per employer, each on its own page, in one file to print for a whole event."""
    document = None
    for employer in employers:
        if document is None:
            document = new_document(NOTICE_TITLE)
        else:
            document.add_page_break()
            add_title(document, NOTICE_TITLE)
        _notice(document, employer)
    return document


def _notice(document: Document, employer: Employer) -> None:
    document.add_paragraph(f"{clean_text(employer.name)}：")
    document.add_paragraph(
        "根据《中华人民共和国职业病防治法》第十六条和《职业病危害项目申报办法》的规定，"
        "存在或者产生职业病危害因素的用人单位，应当及时、如实通过“职业病危害项目申报系统”"
        "向所在地卫生健康主管部门申报职业病危害项目，并接受监督。"
    )
    document.add_paragraph(
        "新建、改建、扩建、技术改造、技术引进建设项目应在竣工验收之日起30日内进行初次申报；"
        "工艺、设备、原材料或职业病危害因素发生重大变化的，应在变化之日起15日内进行变更申报；"
        "此后每年更新一次申报信息。未按规定申报的，将依法予以处理。"
    )
    document.add_paragraph("经核查，贵单位登记信息如下，请核对后尽快完成申报：")
    industry = employer.industry
    facts_table(
        document,
        [
            ("单位名称", employer.name),
            ("统一社会信用代码", employer.code),
            ("所属乡镇", employer.township),
            ("作业场所地址", employer.workplace_address or employer.registered_address),
            ("行业", f"{industry.full_code} {industry.name}" if industry else ""),
            ("职工总人数", employer.workers),
            ("接害人数", employer.exposed_workers),
            ("申报状态", employer.declaration_status),
        ],
    )
    document.add_paragraph()
    document.add_paragraph(f"告知单位：{ISSUER}（盖章）")
    document.add_paragraph(f"告知日期：{timezone.localdate():%Y年%m月%d日}")
    document.add_paragraph()
    document.add_paragraph("用人单位签收人：________________    签收日期：______年____月____日")
