from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from hezuo_shenbao.lib.xlsx import safe_cell

from .models import Employer, Industry, Township


class EmployerResource(resources.ModelResource):
    """The admin's export of the register. Export only (EmployerAdmin has no import)."""

    township = fields.Field("township", "township", ForeignKeyWidget(Township, "name"))
    industry = fields.Field("industry", "industry", ForeignKeyWidget(Industry, "code"))

    class Meta:
        model = Employer
        fields = (
            "id", "name", "code", "registered_address", "workplace_address", "township", "industry",
            "economic_type", "scale", "workers", "exposed_workers", "operating_status", "suspended_since",
            "register_status", "declaration_status", "declared_on",
        )  # fmt: skip
        export_order = fields

    def export_field(self, field, instance, **kwargs):
        # As in every app export: a name beginning with "=" or "@" stays text in Excel and WPS, and a
        # control character cannot break the workbook (lib/xlsx.py).
        return safe_cell(super().export_field(field, instance, **kwargs))
