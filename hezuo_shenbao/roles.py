"""The four roles, as groups with permissions. Synced after every migrate, so it is idempotent.

Apps add their permission codenames here as they grow; a role's access to a page follows
from the permission that page's view requires.
"""

from django.contrib.auth.models import Group, Permission

CDC = "疾控中心"
INSPECTOR = "监督员"
BUREAU = "卫健局"
ADMIN = "管理员"

ROLE_PERMISSIONS = {
    CDC: [
        "employers.view_employer",
        "employers.add_employer",
        "employers.change_employer",
        "employers.confirm_employer",
        "employers.export_employer",
        "employers.view_declaration",
        "employers.add_declaration",
        "employers.change_declaration",
        "employers.view_employeralias",
        "employers.view_employersource",
        # 县重点行业 (plan 二(一)5), named by CDC in the admin.
        "employers.view_keyindustry",
        "employers.add_keyindustry",
        "employers.change_keyindustry",
        "employers.delete_keyindustry",
        "matching.view_importbatch",
        "matching.add_importbatch",
        "matching.view_sourcerecord",
        "matching.change_sourcerecord",
        "outreach.view_outreachevent",
        "outreach.add_outreachevent",
        "outreach.change_outreachevent",
        "outreach.view_training",
        "outreach.add_training",
        "inspections.view_visit",
        "inspections.add_visit",
        "inspections.view_all_fieldwork",
        "inspections.assign_fieldwork",
        "inspections.view_enforcement",
        "inspections.add_enforcement",
        "inspections.change_enforcement",
        "reports.view_dashboard",
        "reports.view_bulletin",
        "reports.add_bulletin",
        "reports.change_problem",
        "reports.view_submission",
        "reports.add_submission",
        "reports.build_dossier",
    ],
    INSPECTOR: [
        "employers.view_employer",
        "employers.view_declaration",
        "matching.view_sourcerecord",
        "outreach.view_outreachevent",
        "outreach.view_training",
        "inspections.view_visit",
        "inspections.add_visit",
        "inspections.view_enforcement",
        "inspections.add_enforcement",
        "inspections.change_enforcement",
    ],
    BUREAU: [
        "employers.view_employer",
        "employers.export_employer",
        "employers.view_declaration",
        "matching.view_sourcerecord",
        "outreach.view_outreachevent",
        "outreach.view_training",
        "inspections.view_visit",
        "inspections.view_all_fieldwork",
        "inspections.view_enforcement",
        "reports.view_dashboard",
        "reports.view_bulletin",
        "reports.add_bulletin",
        # The bureau signs the bulletin: it edits the draft's text and issues it (印发).
        "reports.issue_bulletin",
        "reports.change_problem",
        "reports.view_submission",
        "reports.build_dossier",
    ],
    # The administrator is a superuser; the group exists so the role shows in the admin.
    ADMIN: [],
}


def sync_roles(**kwargs):
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm:
                wanted.append(perm)
        group.permissions.set(wanted)
